package httpx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/netutil"
)

// Server limits applied to every listener.
const (
	ReadHeaderTimeout = 10 * time.Second
	IdleTimeout       = 120 * time.Second
	MaxHeaderBytes    = 64 << 10
	// DrainTimeout bounds the graceful shutdown.
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
	// one closes (netutil.LimitListener).
	MaxConns int
}

// Serve listens on every l, calls ready (when not nil) with each bound
// address once all are listening, and serves until ctx is done. Then it
// stops accepting, lets requests in flight finish (up to DrainTimeout) and
// returns. A listener that cannot bind fails the whole call before anything
// is served.
func Serve(ctx context.Context, log *slog.Logger, ready func(name string, addr net.Addr), ls ...Listener) error {
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
			nl = netutil.LimitListener(nl, l.MaxConns)
		}
		nls = append(nls, nl)
	}
	servers := make([]*http.Server, len(ls))
	errc := make(chan error, len(ls))
	var wg sync.WaitGroup
	for i, l := range ls {
		srv := NewServer(l.Handler, log)
		srv.BaseContext = func(net.Listener) context.Context { return context.WithoutCancel(ctx) }
		servers[i] = srv
		log.Info("listening", "listener", l.Name, "addr", nls[i].Addr().String(), "max_conns", l.MaxConns)
		if ready != nil {
			ready(l.Name, nls[i].Addr())
		}
		wg.Add(1)
		go func(nl net.Listener) {
			defer wg.Done()
			if err := srv.Serve(nl); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", l.Name, err)
			}
		}(nls[i])
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	log.Info("draining", "timeout", DrainTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DrainTimeout)
	defer cancel()
	for _, srv := range servers {
		if e := srv.Shutdown(sctx); e != nil {
			err = errors.Join(err, e)
		}
	}
	wg.Wait()
	log.Info("stopped")
	return err
}
