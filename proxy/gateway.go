package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/signgate/signgate/config"
	imetrics "github.com/signgate/signgate/internal/metrics"
	"github.com/signgate/signgate/internal/tracing"
	"github.com/signgate/signgate/signer"
)

// Options are what New needs besides the configuration.
type Options struct {
	// Log receives access logs and errors. Default: discard.
	Log *slog.Logger
	// Now is the clock of the token cache, JWT checks and verdict TTLs.
	// Default: time.Now.
	Now func() time.Time
	// Registry receives the gateway's metrics. Default: a new registry
	// with the Go and process collectors.
	Registry *prometheus.Registry
	// Transport reaches the upstream, the forward-auth check URL and
	// nothing else. Default: a transport tuned for one upstream.
	Transport http.RoundTripper
	// Reloaded, when set, is called after each reload the key watcher
	// makes, for a change of a key file or a retry of a bad one (not by
	// Reload itself).
	Reloaded func()
	// TracerProvider, when set, turns tracing on (tracing.go): spans for
	// each request and its steps, traceparent sent to the upstream, the
	// forward-auth app and the CDN. Nil: off, at no cost.
	TracerProvider trace.TracerProvider
	// Propagator injects and extracts trace context. Nil: W3C Trace
	// Context with Baggage.
	Propagator propagation.TextMapPropagator
}

// Gateway is signgate's gateway. Safe for concurrent use.
type Gateway struct {
	cfg           config.Gateway
	opts          Options
	log           *slog.Logger
	routes        routes
	cache         *signer.Cache
	chain         *chain      // every configured authenticator
	idChain       *chain      // pass-through identity: all but forward-auth
	closers       []io.Closer // authenticators Close closes (forward-auth)
	trusted       trustedProxies
	identity      identityHeaders
	subjectHeader string
	loginURL      *url.URL
	cors          *cors
	transport     http.RoundTripper
	ownTransport  *http.Transport // the transport New made, closed by Close
	passthrough   http.Handler
	metrics       *metrics
	tracer        *tracing.Tracer // nil: tracing off
	handler       http.Handler
	streams       streamState

	hdrNoStore    []string
	hdrNoReferrer []string

	draining  atomic.Bool  // Drain was called: /readyz fails
	reloadMu  sync.Mutex   // one key reload at a time
	keyClient *http.Client // fetches the routes' JWKS (keycheck.go)
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	stopWatch func() error
	watchDone chan struct{}
}

// New builds a gateway from cfg (already validated by config.LoadGateway)
// and loads every route's key: a key that cannot be loaded is an error,
// never a warning. A JWKS URL is fetched once. Call Close when done.
func New(cfg config.Gateway, opts Options) (*Gateway, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Registry == nil {
		opts.Registry = imetrics.NewRegistry()
	}
	cache, err := signer.NewCache(cfg.CacheSize, opts.Now)
	if err != nil {
		return nil, fmt.Errorf("%sCACHE_SIZE: %w", config.Prefix, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Gateway{
		cfg:           cfg,
		opts:          opts,
		log:           opts.Log,
		cache:         cache,
		trusted:       trustedProxies(cfg.TrustedPrefixes()),
		identity:      newIdentityHeaders(cfg.SubjectHeader, cfg.AuthHeader),
		subjectHeader: http.CanonicalHeaderKey(cfg.SubjectHeader),
		cors:          newCORS(cfg.CORSOrigins, cfg.CORSHeaders, cfg.CORSMaxAge),
		transport:     opts.Transport,
		hdrNoStore:    []string{"private, no-store"},
		hdrNoReferrer: []string{"no-referrer"},
		keyClient:     newKeyClient(),
		tracer:        tracing.New(opts.TracerProvider, opts.Propagator),
		ctx:           ctx,
		cancel:        cancel,
	}
	if g.transport == nil {
		t := newTransport()
		t.ResponseHeaderTimeout = cfg.UpstreamTimeout
		g.transport = t
		g.ownTransport = t
	}
	g.streams = newStreamState(cfg.ManifestConcurrency)
	g.streams.cdn.Transport = g.tracer.Transport(g.streams.cdn.Transport, SpanManifestFetch, tracing.HidePath)
	if err := g.build(ctx); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

func (g *Gateway) build(ctx context.Context) error {
	cfg := g.cfg
	g.metrics = newMetrics(g.opts.Registry, g.cache)
	rs := make([]*route, 0, len(cfg.Routes))
	var errs []error
	for i, rc := range cfg.Routes {
		rt, err := newRoute(i, rc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch _, err := rt.loadKey(ctx, g.keyClient); {
		case err == nil || startsUnverified(err):
			g.setKeyState(rt, stateOf(err), err)
		default:
			errs = append(errs, fmt.Errorf("%s: %w", keyVar(i, err), err))
		}
		rt.redirect = g.metrics.redirects.WithLabelValues(rt.name)
		if err := g.streams.add(rt, g.metrics); err != nil {
			errs = append(errs, err)
		}
		rs = append(rs, rt)
	}
	g.routes = newRoutes(rs)
	// A table whose access rules would not hold, even handed to New
	// without Validate (an embedding program).
	if err := cfg.CheckRouteSpaces(); err != nil {
		errs = append(errs, err)
	}
	if cfg.LoginURL != "" {
		u, err := url.Parse(cfg.LoginURL)
		if err != nil {
			errs = append(errs, fmt.Errorf("%sLOGIN_URL: %w", config.Prefix, err))
		}
		g.loginURL = u
	}
	var names, idNames []string
	var auths, idAuths []Authenticator
	for _, name := range cfg.Auth {
		var a Authenticator
		switch name {
		case config.AuthHeader:
			a = &HeaderAuth{Header: cfg.AuthHeader, Trusted: g.trusted}
		case config.AuthJWT:
			j, err := newJWTAuth(ctx, cfg, g.log, g.opts.Now)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			a = j
		case config.AuthForward:
			fa := NewForwardAuth(ForwardOptions{
				URL:           cfg.ForwardURL,
				SubjectHeader: cfg.ForwardSubjectHeader,
				TTL:           cfg.ForwardTTL,
				Timeout:       cfg.ForwardTimeout,
				CacheSize:     cfg.ForwardCacheSize,
				Transport:     g.tracer.Transport(g.transport, SpanForwardCheck, tracing.KeepPath),
				Now:           g.opts.Now,
				Target:        g.checkTarget,
			})
			g.closers = append(g.closers, fa)
			a = fa
		default:
			errs = append(errs, fmt.Errorf("%sAUTH: unknown authenticator %q", config.Prefix, name))
			continue
		}
		names, auths = append(names, name), append(auths, a)
		if name != config.AuthForward {
			idNames, idAuths = append(idNames, name), append(idAuths, a)
		}
	}
	g.chain = newChain(names, auths, g.metrics, g.tracer)
	if cfg.UpstreamIdentity && len(idAuths) > 0 {
		g.idChain = newChain(idNames, idAuths, g.metrics, g.tracer)
	}
	if cfg.Upstream != "" {
		u, err := url.Parse(cfg.Upstream)
		if err != nil {
			errs = append(errs, fmt.Errorf("%sUPSTREAM: %w", config.Prefix, err))
		} else {
			g.passthrough = g.newPassthrough(u)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if cfg.WatchKeys {
		w, err := g.newKeyWatcher()
		if err != nil {
			return err
		}
		g.watchDone = make(chan struct{})
		g.stopWatch = w.Close
		go g.watchKeys(w)
	}
	g.handler = g.middleware(http.HandlerFunc(g.serve))
	return nil
}

// Handler returns the gateway's HTTP handler.
func (g *Gateway) Handler() http.Handler { return g.handler }

// MetricsHandler serves the Prometheus metrics, and /healthz and /readyz.
func (g *Gateway) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", g.metrics.handler())
	mux.HandleFunc(PathHealthz, g.serveHealth)
	mux.HandleFunc(PathReadyz, g.serveHealth)
	return mux
}

// Cache returns the token cache, for its statistics.
func (g *Gateway) Cache() *signer.Cache { return g.cache }

// Ready reports whether every route has a signing key and the gateway is
// not draining.
func (g *Gateway) Ready() bool { return g.keysLoaded() && !g.draining.Load() }

// Drain marks the gateway as stopping: /readyz answers 503 from now on, so
// that load balancers stop sending new requests, while every request is
// still served. The command calls it at the start of a shutdown.
func (g *Gateway) Drain() { g.draining.Store(true) }

// Close stops watching key files and refreshing the JWKS, and closes idle
// upstream connections. The handler keeps working with what it has.
func (g *Gateway) Close() error {
	var err error
	g.closeOnce.Do(func() {
		g.cancel()
		if g.ownTransport != nil {
			g.ownTransport.CloseIdleConnections()
		}
		g.streams.close()
		for _, c := range g.closers {
			err = errors.Join(err, c.Close())
		}
		if g.stopWatch != nil {
			err = errors.Join(err, g.stopWatch())
			<-g.watchDone
		}
		g.keyClient.CloseIdleConnections()
	})
	return err
}
