package proxy

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signgate/signgate/internal/httpx"
	imetrics "github.com/signgate/signgate/internal/metrics"
	"github.com/signgate/signgate/signer"
)

// Request kinds, the "handler" label of the request metrics.
const (
	kindRedirect = iota
	kindPassthrough
	kindSign
	kindAuth
	kindHealth
	kindCORS
	kindError
	kindManifest
	numKinds
)

func kindNames() [numKinds]string {
	return [numKinds]string{"redirect", "passthrough", "sign", "auth", "health", "cors", "error", "manifest"}
}

// metrics are the gateway's Prometheus metrics. None holds a token, a
// cookie, a subject or a path: labels are route names, kinds, codes.
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	durations    [numKinds]prometheus.Observer
	byCode       [numKinds]*imetrics.Counters[int]
	redirects    *prometheus.CounterVec
	authVerdicts *prometheus.CounterVec
	keyReloads   *prometheus.CounterVec
	keyState     *prometheus.GaugeVec
	signErrors   prometheus.Counter
	streaming    streamMetrics
}

func newMetrics(reg *prometheus.Registry, cache *signer.Cache) *metrics {
	m := &metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signgate_requests_total",
			Help: "Requests answered, by handler and status code.",
		}, []string{"handler", "code"}),
		redirects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signgate_redirects_total",
			Help: "Signed redirects (and signed URLs of /.signgate/sign) handed out, by route.",
		}, []string{"route"}),
		authVerdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signgate_auth_verdicts_total",
			Help: "Verdicts of each authenticator: ok, no_credentials, denied, forbidden, error.",
		}, []string{"authenticator", "verdict"}),
		keyReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signgate_key_reloads_total",
			Help: "Key file reloads that changed a key, or failed (keeping the old key).",
		}, []string{"route", "result"}),
		keyState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "signgate_key_state",
			Help: "1 for the state of each route's key file at its last load: ok, missing (the old key is kept), invalid (unreadable or not a key; the old key is kept), mismatch (a new key under a kid fixed by KEY_ID; the old key is kept).",
		}, []string{"route", "state"}),
		signErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "signgate_sign_errors_total",
			Help: "Token minting failures.",
		}),
	}
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "signgate_request_duration_seconds",
		Help:    "Time to answer, by handler.",
		Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5},
	}, []string{"handler"})
	for k, n := range kindNames() {
		m.durations[k] = dur.WithLabelValues(n)
		m.byCode[k] = imetrics.ByCode(m.requests, n)
	}
	stat := func(name, help string, f func(signer.CacheStats) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return f(cache.Stats()) })
	}
	m.streaming = newStreamMetrics(reg)
	reg.MustRegister(m.requests, dur, m.redirects, m.authVerdicts, m.keyReloads, m.keyState, m.signErrors,
		stat("signgate_token_cache_hits_total", "Token cache hits.", func(s signer.CacheStats) float64 { return float64(s.Hits) }),
		stat("signgate_token_cache_misses_total", "Token cache misses.", func(s signer.CacheStats) float64 { return float64(s.Misses) }),
		stat("signgate_token_signatures_total", "Tokens minted (signatures made) by the token cache, every scheme.", func(s signer.CacheStats) float64 { return float64(s.Signatures) }),
		stat("signgate_token_signatures_ahead_total", "Of the tokens minted, those minted ahead of their step (refresh ahead), which no request waited for.", func(s signer.CacheStats) float64 { return float64(s.Ahead) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "signgate_token_cache_entries",
			Help: "Tokens held in the cache.",
		}, func() float64 { return float64(cache.Stats().Entries) }),
	)
	return m
}

// observe records one answered request. The per-code counters are looked
// up in a copy-on-write map, so the hot path takes no lock.
func (m *metrics) observe(kind, code int, d time.Duration) {
	m.durations[kind].Observe(d.Seconds())
	m.byCode[kind].Inc(code)
}

// kindRecorder is observe's ResponseWriter: it notes the
// status, and the handler notes the kind of request with setKind. One
// allocation per request.
type kindRecorder struct {
	httpx.Recorder
	kind int
}

// setKind tells observe what kind of request w answered.
func setKind(w http.ResponseWriter, kind int) {
	for {
		switch t := w.(type) {
		case *kindRecorder:
			t.kind = kind
			return
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return
		}
	}
}

// handler serves the registry.
func (m *metrics) handler() http.Handler { return imetrics.Handler(m.reg) }
