package tracing

import (
	"context"
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	noopmetric "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Scope is the instrumentation scope of signgate's own spans.
const Scope = "github.com/signgate/signgate"

// Tracer starts signgate's spans. The nil Tracer is off.
type Tracer struct {
	tp     trace.TracerProvider // filtered (KeepPath); nil when off
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

// Propagator is W3C Trace Context with Baggage, what signgate sends to the
// upstream, the forward-auth app and the CDN.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// New returns a Tracer over tp, whose spans all pass the attribute filter;
// prop nil is Propagator(). tp nil is off: New returns nil.
func New(tp trace.TracerProvider, prop propagation.TextMapPropagator) *Tracer {
	if tp == nil {
		return nil
	}
	if prop == nil {
		prop = Propagator()
	}
	f := filtered(tp, KeepPath)
	return &Tracer{tp: f, tracer: f.Tracer(Scope), prop: prop}
}

// On reports whether t records spans at all.
func (t *Tracer) On() bool { return t != nil }

// Start starts a span named name, a child of ctx's. Off, it returns ctx
// as it is and a no-op span, allocating nothing. Attributes are set by the
// caller, on a span that IsRecording.
func (t *Tracer) Start(ctx context.Context, name string) (context.Context, trace.Span) {
	if t == nil {
		return ctx, noSpan()
	}
	return t.tracer.Start(ctx, name)
}

// StartLinked starts a span in a trace of its own, linked to ctx's span:
// work that ctx's request started and does not wait for, which may
// outlive it.
func (t *Tracer) StartLinked(ctx context.Context, name string) (context.Context, trace.Span) {
	if t == nil {
		return ctx, noSpan()
	}
	return t.tracer.Start(context.WithoutCancel(ctx), name, trace.WithNewRoot(), trace.WithLinks(trace.LinkFromContext(ctx)))
}

// noSpan is the API's own no-op span, held in a package variable of
// go.opentelemetry.io/otel/trace: converting one here would allocate.
func noSpan() trace.Span { return trace.SpanFromContext(context.Background()) }

// Fail marks span as failed with a fixed description (never an error's
// text, which might quote a request).
func Fail(span trace.Span, what string) {
	span.SetStatus(codes.Error, what)
}

// Rename names the request span of ctx (the server span otelhttp started)
// after the route the request took, with attrs, when it is recording.
func Rename(ctx context.Context, name string, attrs ...attribute.KeyValue) {
	s := trace.SpanFromContext(ctx)
	if !s.IsRecording() {
		return
	}
	s.SetName(name)
	if len(attrs) > 0 {
		s.SetAttributes(attrs...)
	}
}

// Handler wraps h, a server's handler, in otelhttp: a server span per
// request named by name (nil: "METHOD server"), the incoming traceparent
// honoured. Off, it returns h.
func (t *Tracer) Handler(h http.Handler, server string, name func(*http.Request) string) http.Handler {
	if t == nil {
		return h
	}
	if name == nil {
		name = func(r *http.Request) string { return Method(r.Method) + " " + server }
	}
	return otelhttp.NewHandler(h, server,
		otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithMeterProvider(noopmetric.NewMeterProvider()),
		otelhttp.WithPropagators(t.prop),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return name(r) }),
	)
}

// Transport wraps rt in otelhttp: a client span named name per round trip,
// traceparent (and baggage) injected into the request. p says how much of
// the URL the span keeps. Off, it returns rt.
func (t *Tracer) Transport(rt http.RoundTripper, name string, p Policy) http.RoundTripper {
	if t == nil {
		return rt
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	tp := t.tp
	if p != KeepPath {
		tp = filtered(t.tp.(*provider).inner, p)
	}
	return otelhttp.NewTransport(rt,
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithMeterProvider(noopmetric.NewMeterProvider()),
		otelhttp.WithPropagators(t.prop),
		otelhttp.WithSpanNameFormatter(func(string, *http.Request) string { return name }),
	)
}

// Method returns m for a span name when it is a standard method, else
// "HTTP": a name never carries what a client made up.
func Method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "HTTP"
}
