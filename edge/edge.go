package edge

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	otelprop "go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/signgate/signgate/config"
	imetrics "github.com/signgate/signgate/internal/metrics"
	"github.com/signgate/signgate/internal/tracing"
	"github.com/signgate/signgate/signer"
)

// Options are an Edge's collaborators. The zero Options work: no logs, the
// system clock, and the SQLite database named by the configuration.
type Options struct {
	// Log receives structured logs; nil discards them.
	Log *slog.Logger
	// Now is the clock for token checks and access-token expiry; nil is
	// time.Now.
	Now func() time.Time
	// Store holds policies and keys. Nil opens the store cfg.DB names
	// (OpenStore: PostgreSQL or SQLite), and Close closes it; a Store
	// passed in is the caller's to close. A Store that is also a Notifier
	// is watched, and each change it reports refreshes the edge at once.
	Store Store
	// Registry receives the edge's metrics (MetricsHandler serves it).
	// Nil is a new registry with the Go and process collectors.
	Registry *prometheus.Registry
	// TracerProvider, when set, turns tracing on (tracing.go): a span per
	// request, token check and store read. Nil: off, at no cost.
	TracerProvider trace.TracerProvider
	// Propagator extracts trace context from requests. Nil: W3C Trace
	// Context with Baggage.
	Propagator otelprop.TextMapPropagator
}

// Edge is the verifying origin. Build one with New, serve Handler (media)
// and APIHandler (the /v1 control API), and Close it when done. Safe for
// concurrent use.
type Edge struct {
	draining atomic.Bool  // Drain was called: /readyz fails
	freshAt  atomic.Int64 // UnixNano of the last successful Refresh
	cfg      config.Edge
	log      *slog.Logger
	now      func() time.Time
	store    Store
	ownStore bool

	buckets     []*bucket
	byName      map[string]*bucket
	byHost      map[string]*bucket
	single      *bucket
	streams     []*bucket          // live streams (streams.go)
	byStream    map[string]*bucket // by stream id
	streamHosts map[string]*bucket // a stream's own hosts
	apiKeys     [][32]byte         // SHA-256 of each configured API key

	snap      atomic.Pointer[snapshot]
	refreshMu sync.Mutex // serialises snapshot rebuilds, so none goes back in time
	tokens    *tokenCache
	metrics   *edgeMetrics
	tracer    *tracing.Tracer // nil: tracing off

	// With a Fleet store (PostgreSQL): this edge's name there, and the
	// store version its snapshot holds (applied), of which recorded, under
	// refreshMu, is the last written to the store.
	id       string
	fleet    Fleet
	applied  atomic.Int64
	recorded int64

	stop context.CancelFunc
	done chan struct{}
}

// bucket is a configured bucket or live stream (streams.go): its origin
// and its verifier.
type bucket struct {
	name          string // the bucket's name, or the stream's id
	stream        bool   // a live stream: authenticated, by its stream keys alone
	defaultPolicy Policy
	origin        origin
	verifier      signer.Verifier // Keys is set per check, from a snapshot
	metrics       *bucketMetrics
}

// New builds an Edge from a validated configuration: it opens the origins
// (a directory origin must exist) and the store, loads the first snapshot,
// and starts re-reading the store every cfg.Refresh until Close.
func New(cfg config.Edge, opts Options) (*Edge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("edge: configuration:\n%w", err)
	}
	e := &Edge{
		cfg:    cfg,
		log:    opts.Log,
		now:    opts.Now,
		store:  opts.Store,
		tracer: tracing.New(opts.TracerProvider, opts.Propagator),
		byName: map[string]*bucket{},
		byHost: map[string]*bucket{},

		byStream:    map[string]*bucket{},
		streamHosts: map[string]*bucket{},
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	for _, k := range cfg.APIKeys {
		e.apiKeys = append(e.apiKeys, sha256.Sum256([]byte(k.Reveal())))
	}
	var err error
	if e.tokens, err = newTokenCache(cfg.CacheSize); err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	reg := opts.Registry
	if reg == nil {
		reg = imetrics.NewRegistry()
	}
	e.metrics = newEdgeMetrics(reg, e.tokens)
	if err := e.openBuckets(); err != nil {
		e.closeOrigins()
		return nil, err
	}
	if e.store == nil {
		s, err := OpenStore(context.Background(), cfg.DB)
		if err != nil {
			e.closeOrigins()
			return nil, fmt.Errorf("edge: SIGNGATE_EDGE_DB: %w", err)
		}
		e.store, e.ownStore = s, true
	}
	e.id = newEdgeID()
	e.fleet, _ = e.store.(Fleet)
	if err := e.Refresh(context.Background()); err != nil {
		e.Close()
		return nil, fmt.Errorf("edge: load keys and policies: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	e.stop, e.done = stop, make(chan struct{})
	var changes <-chan struct{}
	if e.fleet != nil {
		changes = e.fleet.Join(ctx, e.log, Member{ID: e.id, Heartbeat: cfg.HeartbeatEvery(), Applied: e.applied.Load})
	} else if n, ok := e.store.(Notifier); ok {
		changes = n.Changes(ctx, e.log)
	}
	go e.refreshLoop(ctx, changes)
	return e, nil
}

// OpenStore opens the store db names: PostgreSQL for a postgres:// URL,
// else an SQLite file.
func OpenStore(ctx context.Context, db config.Database) (Store, error) {
	if db.IsPostgres() {
		return OpenPostgres(ctx, db.Reveal())
	}
	return OpenSQLite(ctx, db.Reveal())
}

func (e *Edge) openBuckets() error {
	var errs []error
	for i, bc := range e.cfg.Buckets {
		b := &bucket{name: bc.Name, defaultPolicy: Policy(bc.Policy), metrics: e.metrics.bucket(bc.Name)}
		if err := e.open(b, bc.Origin, bc.IsURL()); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", config.BucketVar(i, "ORIGIN"), err))
			continue
		}
		e.buckets = append(e.buckets, b)
		e.byName[b.name] = b
		for _, h := range e.cfg.HostsOf(i) {
			e.byHost[h] = b
		}
	}
	if e.cfg.SingleBucket && len(e.buckets) == 1 {
		e.single = e.buckets[0]
	}
	errs = e.openStreams(errs)
	if len(errs) > 0 {
		return fmt.Errorf("edge: %w", errors.Join(errs...))
	}
	return nil
}

// open gives bucket or stream b its verifier, bound to its name, and its
// origin at at: an HTTP origin, or a directory, which must exist.
func (e *Edge) open(b *bucket, at string, isURL bool) error {
	b.verifier = signer.Verifier{Bucket: b.name, Leeway: e.cfg.Leeway, MaxSize: signer.MaxTokenSize, Now: e.now}
	var err error
	if isURL {
		b.origin, err = newProxyOrigin(at, len(e.cfg.CORSOrigins) > 0, e.cfg.OriginTimeout, e.log)
	} else {
		b.origin, err = newDirOrigin(at)
	}
	return err
}

func (e *Edge) closeOrigins() {
	for _, b := range append(e.buckets[:len(e.buckets):len(e.buckets)], e.streams...) {
		b.origin.close()
	}
}

// Close stops the refresh loop, releases the origins and, when New opened
// it, the store.
func (e *Edge) Close() error {
	if e.stop != nil {
		e.stop()
		<-e.done
	}
	e.closeOrigins()
	if e.ownStore {
		return e.store.Close()
	}
	return nil
}

// refreshLoop re-reads the store every cfg.Refresh, and whenever changes
// (nil when the store has no Notifier) reports one, until ctx ends. A
// failed read keeps the last snapshot, and is logged. On the way out it
// waits for changes to close, so that Close leaves no watcher behind.
//
// A failed refresh is tried again after retryMin, doubling up to
// cfg.Refresh, rather than at the next tick: after a database restart the
// first read may meet a pooled connection that died with it, and the
// edge must not wait a whole period for the changes it was told of.
func (e *Edge) refreshLoop(ctx context.Context, changes <-chan struct{}) {
	defer close(e.done)
	t := time.NewTicker(e.cfg.Refresh)
	defer t.Stop()
	retry := time.NewTimer(0)
	retry.Stop()
	defer retry.Stop()
	backoff := retryMin
	for {
		select {
		case <-ctx.Done():
			if changes != nil {
				for range changes {
				}
			}
			return
		case <-t.C:
		case <-retry.C:
		case _, ok := <-changes:
			if !ok {
				changes = nil
				continue
			}
		}
		err := e.refreshWithin(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			e.log.Error("refresh keys and policies", "err", err, "retry_in", backoff)
			retry.Reset(backoff)
			backoff = min(2*backoff, e.cfg.Refresh)
		default:
			retry.Stop()
			backoff = retryMin
		}
	}
}

// retryMin is the first wait before a failed refresh is tried again.
const retryMin = 50 * time.Millisecond

// refreshTimeout bounds a background refresh, so that a store that stopped
// answering cannot hold the loop, and the refresh lock, for ever.
const refreshTimeout = 30 * time.Second

func (e *Edge) refreshWithin(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	return e.Refresh(ctx)
}

// bucketFor maps a host name (hostName's) to a bucket; nil when none.
func (e *Edge) bucketFor(host string) *bucket {
	if e.single != nil {
		return e.single
	}
	return e.byHost[host]
}

// hostName is the name a Host header asks for: without its port, in
// lower case, without a trailing dot. SplitHostPort is asked only where
// a port may follow (a colon after any "]"): on a host without one it
// fails, and its error allocates, on every request.
func hostName(host string) string {
	if strings.LastIndexByte(host, ':') > strings.LastIndexByte(host, ']') {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// CacheStats are the verified-token cache's counters.
type CacheStats struct {
	Hits, Misses uint64
	Entries      int
}

// CacheStats returns the verified-token cache's counters.
func (e *Edge) CacheStats() CacheStats { return e.tokens.stats() }
