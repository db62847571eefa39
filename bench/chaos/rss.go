package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sample is one second of one process's memory.
type sample struct {
	t       time.Time
	rss     int64   // VmRSS, bytes
	heap    int64   // go_memstats_heap_inuse_bytes
	entries int64   // its token cache's entries
	load1   float64 // the machine's load average (1 min)
}

// watched is a process whose memory the sampler reads.
type watched struct {
	name    string // gateway or edge
	metrics string // its /metrics URL
	entries string // its token-cache entries metric
}

// sampler reads RSS (from /proc) and the Go heap and cache entries (from
// /metrics) of the gateway and the edge once a second, writes them to
// rss.tsv, and fails the soak as soon as one passes SOAK_RSS_LIMIT.
type sampler struct {
	mu      sync.Mutex
	samples map[string][]sample
	peak    map[string]int64 // VmHWM at the last sample
}

func (sk *soak) sample(ctx context.Context, w io.Writer, procs []watched) *sampler {
	sm := &sampler{samples: map[string][]sample{}, peak: map[string]int64{}}
	fmt.Fprintln(w, "time\tprocess\trss_bytes\theap_inuse_bytes\tcache_entries")
	over := map[string]bool{}
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			for _, p := range procs {
				pr := sk.ps.get(p.name)
				if pr == nil {
					continue
				}
				rss, hwm, err := pidRSS(pr.cmd.Process.Pid)
				if err != nil {
					continue
				}
				s := sample{t: time.Now(), load1: loadAvg(), rss: rss, heap: scrape(p.metrics, "go_memstats_heap_inuse_bytes"), entries: scrape(p.metrics, p.entries)}
				sm.mu.Lock()
				sm.samples[p.name] = append(sm.samples[p.name], s)
				sm.peak[p.name] = hwm
				sm.mu.Unlock()
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\n", s.t.UTC().Format(time.RFC3339), p.name, s.rss, s.heap, s.entries)
				if rss > sk.s.rssLimit && !over[p.name] {
					over[p.name] = true
					sk.rec.fail("%s RSS %s passed SOAK_RSS_LIMIT %s", p.name, mib(rss), mib(sk.s.rssLimit))
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return sm
}

// series returns a copy of a process's samples and its peak RSS.
func (sm *sampler) series(name string) ([]sample, int64) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	return append([]sample(nil), sm.samples[name]...), sm.peak[name]
}

// growth compares the peak RSS of the second half of the load with the
// first half's (samples from the load only, the prefill left out): what a
// leak adds once the cache is full and the heap at its goal.
func growth(samples []sample, start time.Time, load time.Duration) (first, second int64) {
	for _, s := range samples {
		at := s.t.Sub(start)
		switch {
		case at < 0 || at > load:
		case at < load/2:
			first = max(first, s.rss)
		default:
			second = max(second, s.rss)
		}
	}
	return first, second
}

// scrape returns the sum of a metric's series on a Prometheus text page,
// or -1 when it cannot be read.
func scrape(url, name string) int64 {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var sum float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(rest[strings.LastIndex(rest, "}")+1:])
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			sum += v
			found = true
		}
	}
	if !found {
		return -1
	}
	return int64(sum)
}

// loadAvg is the machine's 1-minute load average, -1 when unknown.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
