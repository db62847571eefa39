package edge

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signgate/signgate/internal/httpx"
	imetrics "github.com/signgate/signgate/internal/metrics"
	"github.com/signgate/signgate/signer"
)

// edgeMetrics are the edge's Prometheus metrics. No label holds a token, a
// path, a key id, an API key or a peer: labels are configured bucket
// names, status codes, the reason codes of signer.Reason, and the control
// API's route patterns.
type edgeMetrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	durations   *prometheus.HistogramVec
	checks      *prometheus.CounterVec
	refreshOK   prometheus.Counter
	refreshErr  prometheus.Counter
	lastRefresh prometheus.Gauge
	api         *prometheus.CounterVec
	unknown     *bucketMetrics // requests whose Host is no bucket's

	// Revocations confirmed by every edge (fleet.go).
	confirmOK, confirmMissed prometheus.Counter
	confirmWait              prometheus.Histogram
	appliedVersion           prometheus.Gauge
}

// bucketMetrics are one bucket's series, made once so that the media path
// makes no label strings and takes no lock.
type bucketMetrics struct {
	byCode   *imetrics.Counters[int]
	duration prometheus.Observer
	checkOK  prometheus.Counter
	refused  *imetrics.Counters[string] // by signer.Reason
}

func newEdgeMetrics(reg *prometheus.Registry, tokens *tokenCache) *edgeMetrics {
	m := &edgeMetrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signgate_edge_requests_total",
			Help: `Media requests answered, by bucket ("" for a Host that is no bucket's) and status code.`,
		}, []string{"bucket", "code"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "signgate_edge_request_duration_seconds",
			Help:    "Time to answer a media request, by bucket.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5},
		}, []string{"bucket"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signgate_edge_token_checks_total",
			Help: "Token checks of authenticated buckets, by bucket and result: ok, or the reason of the refusal (token_missing, token_expired, bad_signature, ...).",
		}, []string{"bucket", "result"}),
		lastRefresh: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "signgate_edge_store_last_refresh_timestamp_seconds",
			Help: "Unix time of the last successful read of keys and policies from the store.",
		}),
		api: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signgate_edge_api_requests_total",
			Help: "Control API requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
	}
	refreshes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "signgate_edge_store_refreshes_total",
		Help: "Reads of keys and policies from the store, by result: ok or error.",
	}, []string{"result"})
	m.refreshOK, m.refreshErr = refreshes.WithLabelValues("ok"), refreshes.WithLabelValues("error")
	m.unknown = m.bucket("")
	confirms := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "signgate_edge_confirmations_total",
		Help: "Key deletions and policy changes through the API, by whether every live edge confirmed them within SIGNGATE_EDGE_CONFIRM_TIMEOUT: confirmed or unconfirmed.",
	}, []string{"result"})
	m.confirmOK, m.confirmMissed = confirms.WithLabelValues("confirmed"), confirms.WithLabelValues("unconfirmed")
	m.confirmWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "signgate_edge_confirm_wait_seconds",
		Help:    "Time a key deletion or policy change waited for every live edge to apply it.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	m.appliedVersion = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "signgate_edge_store_applied_version",
		Help: "The version of a PostgreSQL store that this edge's keys and policies hold (0 on SQLite).",
	})
	stat := func(f func(CacheStats) float64) func() float64 {
		return func() float64 { return f(tokens.stats()) }
	}
	reg.MustRegister(m.requests, m.durations, m.checks, refreshes, m.lastRefresh, m.api, confirms, m.confirmWait, m.appliedVersion,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "signgate_edge_token_cache_hits_total",
			Help: "Verified-token cache hits.",
		}, stat(func(s CacheStats) float64 { return float64(s.Hits) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "signgate_edge_token_cache_misses_total",
			Help: "Verified-token cache misses: full verifications.",
		}, stat(func(s CacheStats) float64 { return float64(s.Misses) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "signgate_edge_token_cache_entries",
			Help: "Verified tokens held in the cache.",
		}, stat(func(s CacheStats) float64 { return float64(s.Entries) })),
	)
	return m
}

// bucket returns the series of the bucket named name.
func (m *edgeMetrics) bucket(name string) *bucketMetrics {
	return &bucketMetrics{
		byCode:   imetrics.ByCode(m.requests, name),
		duration: m.durations.WithLabelValues(name),
		checkOK:  m.checks.WithLabelValues(name, "ok"),
		refused:  imetrics.NewCounters(m.checks, func(r string) string { return r }, name),
	}
}

// observe records one answered media request.
func (bm *bucketMetrics) observe(code int, d time.Duration) {
	bm.duration.Observe(d.Seconds())
	bm.byCode.Inc(code)
}

// checked records the result of a request's token check. Reasons come
// from signer.Reason's fixed set.
func (bm *bucketMetrics) checked(err error) {
	if err == nil {
		bm.checkOK.Inc()
		return
	}
	bm.refused.Inc(signer.Reason(err))
}

// refreshed records a read of the store that ended with err at now.
func (m *edgeMetrics) refreshed(err error, now time.Time) {
	if err != nil {
		m.refreshErr.Inc()
		return
	}
	m.refreshOK.Inc()
	m.lastRefresh.Set(float64(now.UnixNano()) / 1e9)
}

// confirmed records the wait for a change to reach every live edge.
func (m *edgeMetrics) confirmed(ok bool, waited time.Duration) {
	m.confirmWait.Observe(waited.Seconds())
	if ok {
		m.confirmOK.Inc()
	} else {
		m.confirmMissed.Inc()
	}
}

// measure counts and times every media request by bucket (or stream) and
// status. It maps the request to its bucket or stream once, for
// serveMedia too, which it reaches through the mediaWriter it hands down.
//
// It writes the access line too (when Config.AccessLog is on), from the
// same Recorder and the same pair of clock reads.
func (e *Edge) measure(next http.Handler) http.Handler {
	access := httpx.NewAccessLogger(e.log, e.cfg.AccessLog)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := e.newMediaWriter(rw, r)
		next.ServeHTTP(w, r)
		end := time.Now()
		d := end.Sub(start)
		bm := e.metrics.unknown
		if w.bucket != nil {
			bm = w.bucket.metrics
		}
		bm.observe(w.StatusCode(), d)
		access.Log(r, &w.Recorder, end, d)
	})
}

// measureAPI counts the control API's answers by the pattern of mux that
// routes them (such as "POST /v1/access_token/{api_key}"), never by path,
// so that no API key, bucket or key id becomes a label. The pattern is
// looked up before the request is served, from the same request.
func (e *Edge) measureAPI(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, route := mux.Handler(r)
		rec := &httpx.Recorder{ResponseWriter: w}
		mux.ServeHTTP(rec, r)
		e.metrics.api.WithLabelValues(route, strconv.Itoa(rec.StatusCode())).Inc()
	})
}

// MetricsHandler serves the Prometheus metrics at /metrics, and /healthz
// and /readyz, for the metrics listener.
func (e *Edge) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", imetrics.Handler(e.metrics.reg))
	mux.HandleFunc("GET /healthz", e.serveHealth)
	mux.HandleFunc("GET /readyz", e.serveHealth)
	return mux
}
