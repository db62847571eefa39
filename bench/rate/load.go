package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// clock is the time as the generator sees it: the wall clock in main, a
// fake one in the tests.
type clock interface {
	Now() time.Time
	// Until returns once t has come, or with ctx's error when ctx ends.
	Until(ctx context.Context, t time.Time) error
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) Until(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// plan is one load run, from the flags.
type plan struct {
	base             string
	rate             float64
	duration, warmup time.Duration
	paths            string
	hot              int
	prefix, tag      string
	header           http.Header
	status           int
	timeout          time.Duration
	conns            int
	metrics          string
	counters         []string
}

// outcome of one request.
const (
	ok = iota
	errStatus
	errTimeout
	errConn
)

// sample is one counted request: when it was due, how late the generator
// sent it, how long it took from when it was due, and how it ended.
type sample struct {
	due      time.Duration // since the counted window's start
	lag, lat time.Duration
	outcome  uint8
}

// result is a run's samples and counter readings.
type result struct {
	interval time.Duration
	window   time.Duration // the counted part of the schedule
	samples  []sample
	// reads[k] are the counters' sums k seconds into the window; the
	// last one is read after the last answer.
	reads [][]float64
	// readErr is the first failure to read the counters.
	readErr error
}

// path is request i's path.
func (p plan) path(i int) string {
	if p.paths == "distinct" {
		return fmt.Sprintf("%s/%s/%d.ts", strings.TrimSuffix(p.prefix, "/"), p.tag, i)
	}
	return fmt.Sprintf("%s/%d.ts", strings.TrimSuffix(p.prefix, "/"), i%p.hot)
}

// run sends the schedule: request i due at start + i*interval, each on
// its own goroutine, never waiting for an earlier one.
func (p plan) run(ctx context.Context, clk clock) (*result, error) {
	interval := time.Duration(float64(time.Second) / p.rate)
	nWarm := int(p.warmup / interval)
	n := int(p.duration / interval)
	if n < 1 {
		return nil, errors.New("the duration holds no request at this rate")
	}
	client := &http.Client{
		Timeout: p.timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: p.timeout}).DialContext,
			MaxConnsPerHost:     p.conns,
			MaxIdleConns:        p.conns,
			MaxIdleConnsPerHost: p.conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()

	r := &result{interval: interval, window: time.Duration(n) * interval, samples: make([]sample, n)}
	start := clk.Now()
	counted := start.Add(time.Duration(nWarm) * interval)

	var readers sync.WaitGroup
	readc := make(chan struct{})
	if p.metrics != "" {
		readers.Add(1)
		go func() {
			defer readers.Done()
			r.readEverySecond(ctx, clk, client, p, counted, readc)
		}()
	}

	var wg sync.WaitGroup
	for i := range nWarm + n {
		due := start.Add(time.Duration(i) * interval)
		if err := clk.Until(ctx, due); err != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			lag := clk.Now().Sub(due)
			out := p.send(ctx, client, i)
			if j := i - nWarm; j >= 0 {
				r.samples[j] = sample{due: due.Sub(counted), lag: lag, lat: clk.Now().Sub(due), outcome: out}
			}
		}()
	}
	wg.Wait()
	close(readc)
	readers.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.readErr != nil {
		return nil, fmt.Errorf("reading %s: %w", p.metrics, r.readErr)
	}
	return r, nil
}

// send makes request i and says how it ended. The body is read whole.
func (p plan) send(ctx context.Context, client *http.Client, i int) uint8 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+p.path(i), nil)
	if err != nil {
		return errConn
	}
	for k, v := range p.header {
		req.Header[k] = v
	}
	if h := p.header.Get("Host"); h != "" {
		req.Host = h
	}
	resp, err := client.Do(req)
	if err != nil {
		if ne, isNet := errors.AsType[net.Error](err); isNet && ne.Timeout() {
			return errTimeout
		}
		return errConn
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return errConn
	case resp.StatusCode != p.status:
		return errStatus
	}
	return ok
}

// readEverySecond reads the counters at the window's start, at every
// second of it, and once more when done is closed (after the last answer).
// Each read but the last is made half an interval before its second
// begins, between two requests' due times, so that a request is counted
// in its own second (when it takes less than half an interval).
func (r *result) readEverySecond(ctx context.Context, clk clock, client *http.Client, p plan, from time.Time, done <-chan struct{}) {
	read := func() {
		v, err := readCounters(ctx, client, p.metrics, p.counters)
		if err != nil && r.readErr == nil {
			r.readErr = err
		}
		r.reads = append(r.reads, v)
	}
	secs := int(math.Ceil(r.window.Seconds()))
	for k := range secs {
		if clk.Until(ctx, from.Add(time.Duration(k)*time.Second-r.interval/2)) != nil {
			return
		}
		select {
		case <-done:
			read()
			return
		default:
		}
		read()
	}
	<-done
	read()
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(k, 1), len(sorted))-1]
}

// stats of a set of samples.
type stats struct {
	n                        int
	p50, p90, p99, p999, max time.Duration
	lagP99, lagMax           time.Duration
	errs                     [4]int // by outcome; errs[ok] unused
}

func summarize(ss []sample) stats {
	lat := make([]time.Duration, len(ss))
	lag := make([]time.Duration, len(ss))
	var st stats
	for i, s := range ss {
		lat[i], lag[i] = s.lat, s.lag
		st.errs[s.outcome]++
	}
	slices.Sort(lat)
	slices.Sort(lag)
	st.n = len(ss)
	st.p50, st.p90, st.p99, st.p999 = percentile(lat, 50), percentile(lat, 90), percentile(lat, 99), percentile(lat, 99.9)
	st.lagP99 = percentile(lag, 99)
	if len(ss) > 0 {
		st.max, st.lagMax = lat[len(lat)-1], lag[len(lag)-1]
	}
	return st
}

func us(d time.Duration) int64 { return d.Microseconds() }

// line is the RESULT line: counts, latencies in µs, counter growth.
func (r *result) line(p plan) string {
	st := summarize(r.samples)
	var b strings.Builder
	fmt.Fprintf(&b, "RESULT requests=%d duration_us=%d rate=%.0f p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d "+
		"errors=%d err_status=%d err_timeout=%d err_conn=%d lag_p99_us=%d lag_max_us=%d",
		st.n, us(r.window), p.rate, us(st.p50), us(st.p90), us(st.p99), us(st.p999), us(st.max),
		st.errs[errStatus]+st.errs[errTimeout]+st.errs[errConn], st.errs[errStatus], st.errs[errTimeout], st.errs[errConn],
		us(st.lagP99), us(st.lagMax))
	if len(r.reads) >= 2 {
		first, last := r.reads[0], r.reads[len(r.reads)-1]
		for k, name := range p.counters {
			fmt.Fprintf(&b, " %s=%.0f", name, last[k]-first[k])
		}
	}
	return b.String()
}

// writeTimeline writes a TSV row per second of the window: the requests
// due in it, their latencies, errors, and the counters' growth over it.
func (r *result) writeTimeline(w io.Writer, counters []string) {
	fmt.Fprint(w, "second\trequests\tp50_us\tp99_us\tmax_us\terrors")
	for _, c := range counters {
		fmt.Fprintf(w, "\t%s", c)
	}
	fmt.Fprintln(w)
	secs := int(math.Ceil(r.window.Seconds()))
	per := make([][]sample, secs)
	for _, s := range r.samples {
		k := min(int(s.due/time.Second), secs-1)
		per[k] = append(per[k], s)
	}
	for k, ss := range per {
		st := summarize(ss)
		fmt.Fprintf(w, "%d\t%d\t%d\t%d\t%d\t%d", k, st.n, us(st.p50), us(st.p99), us(st.max),
			st.errs[errStatus]+st.errs[errTimeout]+st.errs[errConn])
		for c := range counters {
			if k+1 < len(r.reads) {
				fmt.Fprintf(w, "\t%.0f", r.reads[k+1][c]-r.reads[k][c])
			} else {
				fmt.Fprint(w, "\t-")
			}
		}
		fmt.Fprintln(w)
	}
}
