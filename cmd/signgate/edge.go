package main

import (
	"fmt"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/edge"
	"github.com/signgate/signgate/edge/console"
	"github.com/signgate/signgate/internal/httpx"
)

func runEdge(e *env, args []string) error {
	fs := newFlags(e, "edge", "", `
Serve buckets and live streams as a verifying edge: files from a directory or
an HTTP origin, public or authenticated (Qencode-compatible signed URLs and
cookies; a live stream opens to its stream_id's keys alone), with
the Qencode-compatible control API on its own listener, and the portal
(web pages for buckets and signing keys) under /console/ on it. Configured from
SIGNGATE_EDGE_* variables; see docs/edge.md.`)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("edge: unexpected argument %q", pos[0])
	}
	cfg, err := config.LoadEdge(e.environ)
	if err != nil {
		return err
	}
	log, err := e.logger()
	if err != nil {
		return err
	}
	applyGC(e.environ, cfg.GOGC, log)
	defer applyMemoryLimit(e.environ, log, memlimit.FromCgroup, edgeBudget(cfg.CacheSize))()
	tp, stopTracing, err := startTracing(e, log, "signgate-edge")
	if err != nil {
		return err
	}
	defer stopTracing()
	ed, err := edge.New(cfg, edge.Options{Log: log, TracerProvider: tp.TracerProvider()})
	if err != nil {
		return err
	}
	defer ed.Close()
	st, err := newServerTLS(cfg.TLS, "EDGE_TLS_", log)
	if err != nil {
		return err
	}
	defer st.close()
	// SIGHUP reads the store again at once, as a change notification
	// would (and no longer ends the edge, Go's default), and the TLS
	// certificate files.
	defer onHangup(e.ctx, func() {
		st.hangup()
		log.Info("SIGHUP: refreshing keys and policies from the store")
		if err := ed.Refresh(e.ctx); err != nil {
			log.Error("refresh after SIGHUP failed; serving from the last snapshot", "err", err)
		}
	})()
	ls := []httpx.Listener{st.serve(httpx.Listener{Name: "edge", Addr: cfg.Listen, Handler: ed.Handler(), MaxConns: cfg.MaxConns})}
	if cfg.APIEnabled() {
		api := ed.APIHandler()
		if cfg.ConsoleEnabled() {
			c, err := console.New(ed, console.Options{Log: log.With("server", "console")})
			if err != nil {
				return err
			}
			api = console.Mount(api, c)
		}
		ls = append(ls, st.serve(httpx.Listener{Name: "api", Addr: cfg.APIListen, Handler: api, MaxConns: cfg.MaxConns}))
	}
	if cfg.MetricsEnabled() {
		ls = append(ls, httpx.Listener{Name: "metrics", Addr: cfg.MetricsListen, Handler: ed.MetricsHandler(), MaxConns: cfg.MaxConns})
	}
	names := make([]string, len(cfg.Buckets))
	for i, b := range cfg.Buckets {
		names[i] = b.Name
	}
	streams := make([]string, len(cfg.Streams))
	for i, s := range cfg.Streams {
		streams[i] = s.ID
	}
	log.Info("edge starting", "buckets", names, "streams", streams, "db", cfg.DB, "api", cfg.APIEnabled(), "console", cfg.ConsoleEnabled(), "metrics", cfg.MetricsEnabled())
	if err := httpx.ServeDrain(e.ctx, log, e.ready, httpx.Drain{Start: ed.Drain, Delay: cfg.ShutdownDelay, Timeout: cfg.ShutdownTimeout}, ls...); err != nil {
		return fmt.Errorf("edge: %w", err)
	}
	return nil
}
