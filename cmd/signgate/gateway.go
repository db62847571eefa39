package main

import (
	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/httpx"
	"github.com/signgate/signgate/proxy"
)

func runGateway(e *env, args []string) error {
	fs := newFlags(e, "gateway", "", `
Run the gateway: authenticate requests for media, redirect them to freshly
signed CDN URLs, and pass every other path to SIGNGATE_UPSTREAM. All
settings come from SIGNGATE_* variables; see docs/gateway.md. SIGHUP, or a
change of a key file, reloads the keys (and a TLS certificate); SIGTERM drains and stops.`)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("gateway: unexpected argument %q", pos[0])
	}
	log, err := e.logger()
	if err != nil {
		return err
	}
	cfg, err := config.LoadGateway(e.environ)
	if err != nil {
		return err
	}
	applyGC(e.environ, cfg.GOGC, log)
	defer applyMemoryLimit(e.environ, log, memlimit.FromCgroup, cacheBudget(cfg.CacheSize))()
	tp, stopTracing, err := startTracing(e, log, "signgate-gateway")
	if err != nil {
		return err
	}
	defer stopTracing()
	g, closeGateway, err := newGateway(e.ctx, cfg, proxy.Options{Log: log, TracerProvider: tp.TracerProvider()})
	if err != nil {
		return err
	}
	defer closeGateway()
	st, err := newServerTLS(cfg.TLS, "TLS_", log)
	if err != nil {
		return err
	}
	defer st.close()

	// SIGHUP reloads the keys and the TLS certificate while this gateway
	// runs (onHangup).
	defer onHangup(e.ctx, func() {
		log.Info("SIGHUP: reloading keys")
		g.Reload() // logs each failure; old keys stay
		st.hangup()
	})()

	ls := []httpx.Listener{st.serve(httpx.Listener{Name: "gateway", Addr: cfg.Listen, Handler: g.Handler(), MaxConns: cfg.MaxConns})}
	if cfg.MetricsEnabled() {
		ls = append(ls, httpx.Listener{Name: "metrics", Addr: cfg.MetricsListen, Handler: g.MetricsHandler(), MaxConns: cfg.MaxConns})
	}
	if cfg.ExtAuthzGRPCEnabled() {
		ls = append(ls, httpx.Listener{Name: "ext_authz", Addr: cfg.ExtAuthzGRPCListen, Handler: g.ExtAuthzHandler(), MaxConns: cfg.MaxConns, H2C: true})
	}
	return httpx.ServeDrain(e.ctx, log, e.ready, httpx.Drain{Start: g.Drain, Delay: cfg.ShutdownDelay, Timeout: cfg.ShutdownTimeout}, ls...)
}
