package edge

import (
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/signgate/signgate/internal/httpx"
)

// ErrNotReady is the cause of a failing /readyz.
var ErrNotReady = errors.New("edge not ready")

// Ready reports whether the edge can serve: keys and policies are loaded,
// and every directory origin is still the directory its path names (one
// removed, renamed or unmounted since start fails here, rather than turning
// every request into a 404).
//
// It does not ask the store. The edge serves from its last snapshot while
// the store is out of reach, and no key or policy can change meanwhile
// (changes go through that store), so an unreachable shared PostgreSQL
// must not take every edge out of its Service at once.
func (e *Edge) Ready() error {
	if e.draining.Load() {
		return fmt.Errorf("%w: shutting down", ErrNotReady)
	}
	if e.snap.Load() == nil {
		return fmt.Errorf("%w: keys and policies not loaded", ErrNotReady)
	}
	for _, bc := range e.cfg.Buckets {
		if err := sameOrigin(e.byName[bc.Name], bc.Origin); err != nil {
			return fmt.Errorf("%w: bucket %s: %w", ErrNotReady, bc.Name, err)
		}
	}
	for _, sc := range e.cfg.Streams {
		if err := sameOrigin(e.byStream[sc.ID], sc.Origin); err != nil {
			return fmt.Errorf("%w: stream %s: %w", ErrNotReady, sc.ID, err)
		}
	}
	return nil
}

// sameOrigin checks that b (nil: not open) still serves the directory
// its configured origin names; an HTTP origin is not probed, as its
// failures are 502s.
func sameOrigin(b *bucket, named string) error {
	if b == nil {
		return errors.New("not open")
	}
	d, ok := b.origin.(*dirOrigin)
	if !ok {
		return nil
	}
	served, err := d.root.Stat(".")
	if err != nil {
		return fmt.Errorf("origin directory: %w", err)
	}
	now, err := os.Stat(named)
	if err != nil {
		return fmt.Errorf("origin directory: %w", err)
	}
	if !os.SameFile(served, now) {
		return fmt.Errorf("%s is no longer the directory opened at start; restart the edge", named)
	}
	return nil
}

// Drain marks the edge as stopping: /readyz answers 503 from now on, so
// that load balancers stop sending new requests, while every request is
// still served. The command calls it at the start of a shutdown.
func (e *Edge) Drain() { e.draining.Store(true) }

// serveHealth answers GET /healthz (the process serves) and GET /readyz
// (Ready), on the API listener: Kubernetes probes, load balancers.
func (e *Edge) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/readyz" {
		if err := e.Ready(); err != nil {
			writeError(w, r, e.log, httpx.Errorf(http.StatusServiceUnavailable, "not_ready", "the edge is not ready", err))
			return
		}
	}
	httpx.WriteJSON(w, http.StatusOK, success())
}
