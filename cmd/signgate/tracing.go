package main

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/signgate/signgate/internal/tracing"
	"github.com/signgate/signgate/internal/tracing/fromenv"
)

// startTracing sets up the tracer provider the OTEL_* variables ask for
// (off by default), for the server called service. When on, it makes it
// and the W3C propagator (Trace Context with Baggage) the process's
// globals, and sends the SDK's errors to log. stop flushes what is queued,
// within five seconds; it is safe to call when tracing is off.
func startTracing(e *env, log *slog.Logger, service string) (p *fromenv.Provider, stop func(), err error) {
	p, err = fromenv.New(e.ctx, e.environ, service, version)
	if err != nil || p == nil {
		return nil, func() {}, err
	}
	otel.SetTracerProvider(p.TracerProvider())
	otel.SetTextMapPropagator(tracing.Propagator())
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("tracing", "err", err.Error()) }))
	log.Info("tracing on", "service", service)
	return p, func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), 5*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			log.Warn("tracing: flush at exit", "err", err.Error())
		}
	}, nil
}
