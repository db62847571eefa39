package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Handler serves reg in the Prometheus text format.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// Counters are the counters of a CounterVec whose leading label values are
// fixed and whose last label varies with a key, such as a status code.
// Get looks a key up in a copy-on-write map, so the hot path takes no lock
// and makes no label string once a key has been seen; the map is copied
// only when a new key arrives. The keys must come from a bounded set.
type Counters[K comparable] struct {
	vec   *prometheus.CounterVec
	lvs   []string
	label func(K) string
	mu    sync.Mutex // serialises additions
	m     atomic.Pointer[map[K]prometheus.Counter]
}

// NewCounters returns the counters of vec for the leading label values
// lvs; label names a key's value of the last label.
func NewCounters[K comparable](vec *prometheus.CounterVec, label func(K) string, lvs ...string) *Counters[K] {
	c := &Counters[K]{vec: vec, lvs: lvs, label: label}
	empty := map[K]prometheus.Counter{}
	c.m.Store(&empty)
	return c
}

// ByCode returns the counters of vec for the leading label values lvs and
// an HTTP status code as the last label.
func ByCode(vec *prometheus.CounterVec, lvs ...string) *Counters[int] {
	return NewCounters(vec, strconv.Itoa, lvs...)
}

// Get returns the counter of key k.
func (c *Counters[K]) Get(k K) prometheus.Counter {
	if ctr, ok := (*c.m.Load())[k]; ok {
		return ctr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.m.Load()
	if ctr, ok := old[k]; ok {
		return ctr
	}
	ctr := c.vec.WithLabelValues(append(c.lvs[:len(c.lvs):len(c.lvs)], c.label(k))...)
	next := make(map[K]prometheus.Counter, len(old)+1)
	for key, v := range old {
		next[key] = v
	}
	next[k] = ctr
	c.m.Store(&next)
	return ctr
}

// Inc adds one to the counter of key k.
func (c *Counters[K]) Inc(k K) { c.Get(k).Inc() }
