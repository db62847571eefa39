package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock moves only when the generator waits for a due time: Until(t)
// sets it to t at once. So a test runs a schedule without sleeping, and
// knows what the clock reads.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Until(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
	return ctx.Err()
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_000_000, 0)} }

// within waits for ch, or fails the test after 10 s (a bound, not a pause).
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// TestOpenLoopFromDueTime: while the first request hangs, every later one
// still goes out when due (the schedule never waits for an answer), and
// the hung request's latency runs from its due time, so it is charged for
// the whole schedule it outlived: no coordinated omission.
func TestOpenLoopFromDueTime(t *testing.T) {
	const n = 20
	blocked, release := make(chan struct{}), make(chan struct{})
	seen := make(chan string, n)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/m/t/0.ts" {
			close(blocked)
			<-release
		} else {
			seen <- r.URL.Path
		}
		if r.Header.Get("X-Forwarded-User") != "alice" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusFound)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clk := newFakeClock()
	start := clk.Now()
	p := plan{base: srv.URL, rate: 1000, duration: n * time.Millisecond, paths: "distinct", prefix: "/m", tag: "t",
		header: http.Header{"X-Forwarded-User": {"alice"}}, status: http.StatusFound, timeout: 20 * time.Second, conns: 64}
	type done struct {
		r   *result
		err error
	}
	resc := make(chan done, 1)
	go func() {
		r, err := p.run(ctx, clk)
		resc <- done{r, err}
	}()
	within(t, blocked, "the first request")
	for range n - 1 {
		within(t, seen, "the later requests, with the first unanswered")
	}
	if got, want := clk.Now().Sub(start), (n-1)*time.Millisecond; got != want {
		t.Fatalf("clock at %v after the last request went out, want %v", got, want)
	}
	close(release)
	d := within(t, resc, "the run's end")
	if d.err != nil {
		t.Fatal(d.err)
	}
	if len(d.r.samples) != n {
		t.Fatalf("%d samples, want %d", len(d.r.samples), n)
	}
	for i, s := range d.r.samples {
		if s.due != time.Duration(i)*time.Millisecond || s.outcome != ok {
			t.Errorf("sample %d: due %v, outcome %d; want %v, ok", i, s.due, s.outcome, time.Duration(i)*time.Millisecond)
		}
	}
	if got, want := d.r.samples[0].lat, (n-1)*time.Millisecond; got != want {
		t.Errorf("hung request's latency %v, want %v (from its due time to the end of the schedule)", got, want)
	}
	if st := summarize(d.r.samples); st.max != (n-1)*time.Millisecond {
		t.Errorf("max %v, want %v", st.max, (n-1)*time.Millisecond)
	}
}

// TestRunWarmupErrorsCounters: through the flags, the warm-up is sent but
// not counted, a wrong status is an error, hot paths take turns, the
// counters' growth is in the RESULT line and the timeline.
func TestRunWarmupErrorsCounters(t *testing.T) {
	var scrapes atomic.Int64
	var mu sync.Mutex
	paths := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			k := scrapes.Add(1)
			fmt.Fprintf(w, "# HELP sigs_total x\nsigs_total{route=\"a\"} %d\nsigs_total{route=\"b\"} 5\nsigs_total_other 99\nmisses_total 3\n", 10*k)
			return
		}
		mu.Lock()
		paths[r.URL.Path]++
		mu.Unlock()
		if r.URL.Path == "/h/2.ts" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusFound)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tl := filepath.Join(t.TempDir(), "timeline.tsv")
	var out bytes.Buffer
	err := run(ctx, []string{"-url", srv.URL, "-rate", "1000", "-warmup", "4ms", "-duration", "12ms",
		"-paths", "hot", "-hot", "4", "-prefix", "/h", "-metrics", srv.URL + "/metrics",
		"-counters", "sigs_total,misses_total", "-timeline", tl}, &out, newFakeClock())
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(out.String())
	for _, want := range []string{"requests=12 ", " rate=1000 ", " errors=3 ", " err_status=3 ", " err_conn=0 ", " sigs_total=10", " misses_total=0"} {
		if !strings.Contains(line+" ", want) {
			t.Errorf("RESULT line %q lacks %q", line, want)
		}
	}
	if len(paths) != 4 || paths["/h/0.ts"] != 4 || paths["/h/3.ts"] != 4 {
		t.Errorf("paths %v, want /h/0.ts ... /h/3.ts 4 times each", paths)
	}
	b, err := os.ReadFile(tl)
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(rows) != 2 || rows[0] != "second\trequests\tp50_us\tp99_us\tmax_us\terrors\tsigs_total\tmisses_total" {
		t.Fatalf("timeline %q", b)
	}
	f := strings.Split(rows[1], "\t")
	if f[0] != "0" || f[1] != "12" || f[5] != "3" || f[6] != "10" || f[7] != "0" {
		t.Errorf("timeline row %q: want second 0, 12 requests, 3 errors, sigs 10, misses 0", rows[1])
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no url", []string{"-rate", "10"}, "-url"},
		{"no rate", []string{"-url", "http://127.0.0.1:1"}, "-rate"},
		{"paths", []string{"-url", "http://127.0.0.1:1", "-rate", "10", "-paths", "x"}, "-paths"},
		{"counters alone", []string{"-url", "http://127.0.0.1:1", "-rate", "10", "-counters", "a"}, "-metrics"},
		{"header", []string{"-url", "http://127.0.0.1:1", "-rate", "10", "-H", "nocolon"}, "Name: value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), tc.args, &bytes.Buffer{}, newFakeClock())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, time.Duration(i))
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"p50 of 100", hundred, 50, 50},
		{"p99 of 100", hundred, 99, 99},
		{"p99.9 of 100 is the max", hundred, 99.9, 100},
		{"p100", hundred, 100, 100},
		{"one", []time.Duration{7}, 50, 7},
		{"none", nil, 99, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestSumCounters(t *testing.T) {
	page := `# HELP a_total x
# TYPE a_total counter
a_total{x="1"} 2
a_total{x="2",y="a b}"} 3 1700000000
a_total_created 9
b 1.5e+03
`
	got, err := sumCounters(strings.NewReader(page), []string{"a_total", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != 5 || got[1] != 1500 {
		t.Errorf("sums %v, want [5 1500]", got)
	}
	_, err = sumCounters(strings.NewReader(page), []string{"c_total"})
	if err == nil || !strings.Contains(err.Error(), "no metric c_total") {
		t.Errorf("missing metric: error %v", err)
	}
	_, err = sumCounters(strings.NewReader("b x\n"), []string{"b"})
	if _, isNum := errors.AsType[*strconv.NumError](err); !isNum {
		t.Errorf("bad value: error %v, want a *strconv.NumError", err)
	}
}
