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

	imetrics "github.com/signgate/signgate/internal/metrics"
	"github.com/signgate/signgate/internal/tracing"
	"github.com/signgate/signgate/proxy/auth"
	"github.com/signgate/signgate/signer"
)

// Options are what New needs besides the configuration.
type Options struct {
	// Log receives access logs and errors. Default: discard.
	Log *slog.Logger
	// Now is the clock of the token cache and of forward-auth's verdict
	// TTLs (an authenticator built outside, auth.NewJWT, takes its own).
	// Default: time.Now.
	Now func() time.Time
	// Registry receives the gateway's metrics. Default: a new registry
	// with the Go and process collectors.
	Registry *prometheus.Registry
	// Transport reaches the upstream and, unless its link sets its own,
	// the forward-auth check URL (Forward). Default: a transport tuned
	// for one upstream.
	Transport http.RoundTripper
	// Auth are the authenticators of media routes, tried in order as an
	// auth.Chain; a Forward link becomes the app's forward-auth check.
	// Pass-through identity (Config.UpstreamIdentity) asks all but
	// forward-auth. The gateway closes only the Forward links it built;
	// the others are their owner's to close, after the gateway's Close.
	Auth []auth.Link
	// Names names settings in key reload messages and the front doors'
	// answers (Names). Default: "route 0 KEY_FILE", "TRUSTED_PROXIES".
	Names Names
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
	cfg           Config
	opts          Options
	log           *slog.Logger
	routes        routes
	cache         *signer.Cache
	chain         *auth.Chain // every authenticator of Options.Auth
	idChain       *auth.Chain // pass-through identity: all but forward-auth
	forwardVia    []string    // the names of the forward-auth links
	closers       []io.Closer // authenticators Close closes (forward-auth)
	trusted       auth.Trusted
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

// New builds a gateway from cfg and opts and loads every route's key: a
// key that cannot be loaded is an error, never a warning. ctx bounds the
// start-up (the routes' JWKS checks) and carries its values to the
// gateway's background work, which lasts until Close. A setting New
// refuses is a *SettingError. Call Close when done.
func New(ctx context.Context, cfg Config, opts Options) (*Gateway, error) {
	if opts.Names == nil {
		opts.Names = defaultNames
	}
	if cfg.SubjectHeader == "" {
		cfg.SubjectHeader = "X-Signgate-Subject"
	}
	if cfg.LoginReturnParam == "" {
		cfg.LoginReturnParam = "return_to"
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 100_000
	}
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
		return nil, settingErr("CACHE_SIZE", err)
	}
	start := ctx
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	g := &Gateway{
		cfg:           cfg,
		opts:          opts,
		log:           opts.Log,
		cache:         cache,
		trusted:       auth.Trusted(cfg.TrustedProxies),
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
	if err := g.build(start); err != nil {
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
		rt, err := newRoute(i, rc, g.opts.Names)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch _, err := rt.loadKey(ctx, g.keyClient); {
		case err == nil || startsUnverified(err):
			g.setKeyState(rt, stateOf(err), err)
		default:
			errs = append(errs, routeErr(i, keySettingOf(err), err))
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
	if err := routeSpaces(cfg.Routes); err != nil {
		errs = append(errs, err)
	}
	if cfg.LoginURL != "" {
		u, err := url.Parse(cfg.LoginURL)
		if err != nil {
			errs = append(errs, settingErr("LOGIN_URL", err))
		}
		g.loginURL = u
	}
	links, idLinks, err := g.links(g.opts.Auth)
	if err != nil {
		errs = append(errs, err)
	}
	g.chain = g.newChain(links)
	if cfg.UpstreamIdentity && len(idLinks) > 0 {
		g.idChain = g.newChain(idLinks)
	}
	if cfg.Upstream != "" {
		u, err := url.Parse(cfg.Upstream)
		if err != nil {
			errs = append(errs, settingErr("UPSTREAM", err))
		} else {
			g.passthrough = g.newPassthrough(u)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if cfg.WatchKeys && g.hasKeyFiles() {
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

// links returns the chain's links, with each Forward link built, and
// those of pass-through identity (all but forward-auth).
//
// A forward-auth check is sound only as the gateway builds it: asking the
// app about the grant (checkTarget), with its principal marked as
// authorized for that grant alone (forwardVia). So a link is refused
// that is, or holds in a chain at any depth, an auth.Forward built
// outside (it would ask about the request's path, and its yes would count
// like a JWT's claims), or a proxy.Forward below the top level (never
// built, so it could only fail).
func (g *Gateway) links(in []auth.Link) (links, id []auth.Link, err error) {
	for _, l := range in {
		if l.Authenticator == nil {
			return nil, nil, fmt.Errorf("authenticator %q is nil", l.Name)
		}
		if c, ok := l.Authenticator.(*auth.Chain); ok {
			if err := unboundForward(l.Name, c.Links()); err != nil {
				return nil, nil, err
			}
		}
		if _, ok := l.Authenticator.(*auth.Forward); ok {
			return nil, nil, fmt.Errorf("authenticator %q is an auth.Forward: pass proxy.Forward(name, options), which the gateway builds to ask about its grant", l.Name)
		}
		fl, ok := l.Authenticator.(*forwardLink)
		if !ok {
			links, id = append(links, l), append(id, l)
			continue
		}
		o := fl.o
		if o.Transport == nil {
			o.Transport = g.transport
		}
		o.Transport = g.tracer.Transport(o.Transport, SpanForwardCheck, tracing.KeepPath)
		if o.Now == nil {
			o.Now = g.opts.Now
		}
		o.Target = g.checkTarget
		fa := auth.NewForward(o)
		g.closers = append(g.closers, fa)
		g.forwardVia = append(g.forwardVia, l.Name)
		links = append(links, auth.Link{Name: l.Name, Authenticator: fa})
	}
	return links, id, nil
}

// unboundForward refuses a forward-auth check inside the chain named
// name (see links).
func unboundForward(name string, in []auth.Link) error {
	for _, l := range in {
		switch a := l.Authenticator.(type) {
		case *auth.Forward, *forwardLink:
			return fmt.Errorf("authenticator %q holds forward-auth check %q in a chain: pass proxy.Forward(name, options) in Options.Auth itself", name, l.Name)
		case *auth.Chain:
			if err := unboundForward(name, a.Links()); err != nil {
				return err
			}
		}
	}
	return nil
}

// viaForward reports whether a principal accepted by the link named via
// came from forward-auth: authorized by the app for its grant alone.
func (g *Gateway) viaForward(via string) bool {
	for _, n := range g.forwardVia {
		if n == via {
			return true
		}
	}
	return false
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
