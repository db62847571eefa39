package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"
)

// recorder collects every request's outcome, the faults' windows of
// expected errors, the timeline and the failures. Safe for concurrent use.
type recorder struct {
	t0       time.Time // start of the load
	interval time.Duration

	mu       sync.Mutex
	windows  []*window
	lat      map[slot][]float64 // milliseconds
	counts   map[string]*tally  // per class
	causes   map[causeKey]int
	examples []note // the first unexpected errors
	events   []note // the timeline of the faults
	failures []note // what fails the soak besides unexpected errors
}

// note is a line of the report, at a time.
type note struct {
	at  time.Time
	msg string
}

// slot is one class in one report interval.
type slot struct {
	n     int
	class string
}

type tally struct{ total, ok, expected, unexpected int }

// causeKey is a cause of failure, and the fault that expected it ("" when
// none did: an unexpected error).
type causeKey struct{ cause, fault string }

// window is a time during which a fault expects some errors of a class:
// from its start until to (the zero time while the fault lasts).
type window struct {
	fault  string
	class  string
	causes []string
	from   time.Time
	to     time.Time
}

func newRecorder(t0 time.Time, interval time.Duration) *recorder {
	return &recorder{t0: t0, interval: interval, lat: map[slot][]float64{}, counts: map[string]*tally{}, causes: map[causeKey]int{}}
}

// expect opens a window: until end is called on it, errors of class with
// one of causes are expected.
func (r *recorder) expect(fault, class string, causes ...string) *window {
	w := &window{fault: fault, class: class, causes: causes, from: time.Now()}
	r.mu.Lock()
	r.windows = append(r.windows, w)
	r.mu.Unlock()
	return w
}

// end closes w after grace: requests sent up to then may still fail so.
func (r *recorder) end(w *window, grace time.Duration) {
	r.mu.Lock()
	w.to = time.Now().Add(grace)
	r.mu.Unlock()
}

// expectedBy returns the fault that expects cause for a request of class
// sent at sent and answered at done, or "". r.mu is held.
func (r *recorder) expectedBy(class, cause string, sent, done time.Time) string {
	for _, w := range r.windows {
		if w.class != class || !slices.Contains(w.causes, cause) || done.Before(w.from) {
			continue
		}
		if w.to.IsZero() || !sent.After(w.to) {
			return w.fault
		}
	}
	return ""
}

// record counts one request: cause "" is a success.
func (r *recorder) record(class string, sent, done time.Time, cause string) {
	ms := float64(done.Sub(sent)) / float64(time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	n := int(sent.Sub(r.t0) / r.interval)
	if n < 0 {
		n = 0
	}
	r.lat[slot{n, class}] = append(r.lat[slot{n, class}], ms)
	t := r.counts[class]
	if t == nil {
		t = &tally{}
		r.counts[class] = t
	}
	t.total++
	if cause == "" {
		t.ok++
		return
	}
	fault := r.expectedBy(class, cause, sent, done)
	r.causes[causeKey{cause, fault}]++
	if fault != "" {
		t.expected++
		return
	}
	t.unexpected++
	if len(r.examples) < 20 {
		r.examples = append(r.examples, note{sent, cause})
	}
}

// event adds a line to the timeline.
func (r *recorder) event(format string, a ...any) {
	r.mu.Lock()
	r.events = append(r.events, note{time.Now(), fmt.Sprintf(format, a...)})
	r.mu.Unlock()
}

// fail records a reason for the soak to fail.
func (r *recorder) fail(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	r.mu.Lock()
	r.failures = append(r.failures, note{time.Now(), msg})
	r.mu.Unlock()
}

// restart sets the start of the load: request times and report
// intervals count from it.
func (r *recorder) restart(t0 time.Time) {
	r.mu.Lock()
	r.t0 = t0
	r.mu.Unlock()
}

// since formats t as the time since the load started, "+12.3s".
func (r *recorder) since(t time.Time) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("%+.1fs", t.Sub(r.t0).Seconds())
}

// unexpected is the number of unexpected errors.
func (r *recorder) unexpected() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for k, v := range r.causes {
		if k.fault == "" {
			n += v
		}
	}
	return n
}

// percentile returns the p-th percentile (0 < p <= 100, nearest rank) of
// sorted values; NaN for none.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// latencies returns, per interval and class, the sorted latencies.
func (r *recorder) latencies() (intervals int, by map[slot][]float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	by = make(map[slot][]float64, len(r.lat))
	for k, v := range r.lat {
		s := slices.Clone(v)
		sort.Float64s(s)
		by[k] = s
		intervals = max(intervals, k.n+1)
	}
	return intervals, by
}
