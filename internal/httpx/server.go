package httpx

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server limits applied to every listener.
const (
	ReadHeaderTimeout = 10 * time.Second
	IdleTimeout       = 120 * time.Second
	MaxHeaderBytes    = 64 << 10
	// DrainTimeout bounds the graceful shutdown by default.
	DrainTimeout = 25 * time.Second
)

// NewServer returns an http.Server for h with signgate's limits; its error
// log goes to log.
func NewServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// Listener is a named address to serve a handler on.
type Listener struct {
	Name    string // for logs, e.g. "gateway" or "metrics"
	Addr    string // host:port; port 0 picks a free one
	Handler http.Handler
	// Bound, when set, is an already bound listener to serve on instead of
	// binding Addr: for callers that must know an address before they can
	// build the handler (the demo wires its servers to each other).
	Bound net.Listener
	// MaxConns, when positive, bounds the connections served at once;
	// past it, new connections wait in the kernel's accept queue until
	// one closes (limitListener).
	MaxConns int
	// H2C serves HTTP/2 without TLS (prior knowledge) instead of HTTP/1:
	// for a gRPC handler such as Envoy's ext_authz check. Each stream's
	// request must then arrive within ReadTimeout (H2CReadTimeout when
	// 0), and a connection holds at most H2CMaxStreams streams at once: a
	// peer that opens streams and never sends their message holds no
	// goroutine past it.
	H2C         bool
	ReadTimeout time.Duration
	// TLS, when set, serves TLS with it (HTTP/2 and HTTP/1.1 through
	// ALPN, see TLSConfig); its requests' contexts are marked secure
	// (SecureContext).
	TLS *tls.Config
}

// The bounds of an H2C listener's streams (see Listener.H2C). A check
// that Envoy sends arrives at once: its own timeout is usually under a
// second.
const (
	H2CReadTimeout = 10 * time.Second
	H2CMaxStreams  = 100
)

// Drain says how Serve stops once its context is done.
type Drain struct {
	// Start, when set, is called first: the server is about to stop, so
	// readiness should fail (a load balancer stops sending new requests)
	// while it keeps serving.
	Start func()
	// Delay keeps serving, new requests included, for this long after
	// Start, while endpoints and load balancers catch up (a pre-stop
	// delay). 0: none.
	Delay time.Duration
	// Timeout bounds the wait for requests in flight once listeners stop
	// accepting; connections still open then are cut and counted in the
	// log. 0: DrainTimeout.
	Timeout time.Duration
}

// Serve is ServeDrain with the default drain: no pre-stop delay, and
// DrainTimeout for requests in flight.
func Serve(ctx context.Context, log *slog.Logger, ready func(name string, addr net.Addr), ls ...Listener) error {
	return ServeDrain(ctx, log, ready, Drain{}, ls...)
}

// ServeDrain listens on every l, calls ready (when not nil) with each
// bound address once all are listening, and serves until ctx is done.
// Then it drains as d says: d.Start, d.Delay of serving on, then it stops
// accepting and lets requests in flight finish, up to d.Timeout; what is
// still open then is cut, and the count logged. A listener that cannot
// bind fails the whole call before anything is served. A stop asked for
// through ctx returns nil, cut connections or not: only a listener that
// failed is an error.
func ServeDrain(ctx context.Context, log *slog.Logger, ready func(name string, addr net.Addr), d Drain, ls ...Listener) error {
	if d.Timeout <= 0 {
		d.Timeout = DrainTimeout
	}
	var lc net.ListenConfig
	nls := make([]net.Listener, 0, len(ls))
	closeAll := func() {
		for _, nl := range nls {
			nl.Close()
		}
	}
	for _, l := range ls {
		nl := l.Bound
		if nl == nil {
			var err error
			if nl, err = lc.Listen(ctx, "tcp", l.Addr); err != nil {
				closeAll()
				return fmt.Errorf("%s: listen on %s: %w", l.Name, l.Addr, err)
			}
		}
		if l.MaxConns > 0 {
			nl = newLimitListener(nl, l.MaxConns)
		}
		nls = append(nls, nl)
	}
	servers := make([]*http.Server, len(ls))
	var open atomic.Int64 // connections not yet closed, on every listener
	errc := make(chan error, len(ls))
	var wg sync.WaitGroup
	for i, l := range ls {
		srv := NewServer(l.Handler, log)
		if l.H2C {
			srv.Protocols = new(http.Protocols)
			srv.Protocols.SetUnencryptedHTTP2(true)
			srv.ReadTimeout = cmp.Or(l.ReadTimeout, H2CReadTimeout)
			srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: H2CMaxStreams}
		}
		base := context.WithoutCancel(ctx)
		if l.TLS != nil {
			srv.TLSConfig = l.TLS
			base = withSecure(base)
		}
		srv.BaseContext = func(net.Listener) context.Context { return base }
		srv.ConnState = func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				open.Add(1)
			case http.StateClosed, http.StateHijacked:
				open.Add(-1)
			}
		}
		servers[i] = srv
		log.Info("listening", "listener", l.Name, "tls", l.TLS != nil, "addr", nls[i].Addr().String(), "max_conns", l.MaxConns)
		if ready != nil {
			ready(l.Name, nls[i].Addr())
		}
		wg.Add(1)
		go func(nl net.Listener) {
			defer wg.Done()
			serve := srv.Serve
			if srv.TLSConfig != nil {
				serve = func(nl net.Listener) error { return srv.ServeTLS(nl, "", "") }
			}
			if err := serve(nl); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", l.Name, err)
			}
		}(nls[i])
	}
	var err error
	select {
	case <-ctx.Done():
		if d.Start != nil {
			d.Start()
		}
		if d.Delay > 0 {
			log.Info("stopping: serving on for the shutdown delay", "delay", d.Delay.String())
			select {
			case <-time.After(d.Delay):
			case err = <-errc:
			}
		}
	case err = <-errc:
	}
	log.Info("draining", "timeout", d.Timeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.Timeout)
	defer cancel()
	var swg sync.WaitGroup
	for _, srv := range servers {
		swg.Go(func() { srv.Shutdown(sctx) })
	}
	swg.Wait()
	if n := open.Load(); n > 0 {
		log.Warn("drain timeout: cutting connections still open", "connections", n, "timeout", d.Timeout.String())
		for _, srv := range servers {
			srv.Close()
		}
	}
	wg.Wait()
	log.Info("stopped")
	return err
}
