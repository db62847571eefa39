package tracing

import (
	"context"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// Policy says how much of a URL a span keeps.
type Policy uint8

const (
	// KeepPath keeps paths (url.path, and url.full without its query):
	// the access log shows the same.
	KeepPath Policy = iota
	// HidePath keeps a URL's scheme and host only, for URLs whose path
	// may hold a token (the manifest fetch: path-form schemes).
	HidePath
)

// Clean returns attrs without what must never reach a span (see the
// package doc), under policy p. It reuses attrs' array.
func Clean(attrs []attribute.KeyValue, p Policy) []attribute.KeyValue {
	out := attrs[:0]
	for _, kv := range attrs {
		k := string(kv.Key)
		switch {
		case k == "url.query", k == "http.target", k == "url.fragment",
			strings.HasPrefix(k, "http.request.header."), strings.HasPrefix(k, "http.response.header."):
			continue
		case k == "url.path" && p == HidePath:
			continue
		case k == "url.full", k == "http.url":
			s, ok := cleanURL(kv.Value.AsString(), p)
			if !ok {
				continue
			}
			kv = attribute.String(k, s)
		}
		out = append(out, kv)
	}
	return out
}

// cleanURL returns raw without user info, query and fragment (and, under
// HidePath, its path), or false when raw does not parse.
func cleanURL(raw string, p Policy) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	c := url.URL{Scheme: u.Scheme, Host: u.Host}
	if p == KeepPath {
		c.Path, c.RawPath = u.Path, u.RawPath
	}
	return c.String(), true
}

// provider wraps a TracerProvider so that every attribute of every span
// passes Clean: at the start, set later, or on an event.
type provider struct {
	embedded.TracerProvider
	inner  trace.TracerProvider
	policy Policy
}

func filtered(tp trace.TracerProvider, p Policy) *provider {
	if f, ok := tp.(*provider); ok {
		tp = f.inner
	}
	return &provider{inner: tp, policy: p}
}

func (p *provider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return &tracer{inner: p.inner.Tracer(name, opts...), p: p}
}

type tracer struct {
	embedded.Tracer
	inner trace.Tracer
	p     *provider
}

func (t *tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	cfg := trace.NewSpanStartConfig(opts...)
	so := []trace.SpanStartOption{
		trace.WithAttributes(Clean(cfg.Attributes(), t.p.policy)...),
		trace.WithSpanKind(cfg.SpanKind()),
	}
	if links := cfg.Links(); len(links) > 0 {
		for i := range links {
			links[i].Attributes = Clean(links[i].Attributes, t.p.policy)
		}
		so = append(so, trace.WithLinks(links...))
	}
	if ts := cfg.Timestamp(); !ts.IsZero() {
		so = append(so, trace.WithTimestamp(ts))
	}
	if cfg.NewRoot() {
		so = append(so, trace.WithNewRoot())
	}
	ctx, s := t.inner.Start(ctx, name, so...)
	fs := &span{Span: s, p: t.p}
	return trace.ContextWithSpan(ctx, fs), fs
}

// span is a span whose later attributes and events pass Clean too.
type span struct {
	trace.Span
	p *provider
}

func (s *span) SetAttributes(kv ...attribute.KeyValue) {
	s.Span.SetAttributes(Clean(kv, s.p.policy)...)
}

func (s *span) AddEvent(name string, opts ...trace.EventOption) {
	s.Span.AddEvent(name, s.event(opts)...)
}

func (s *span) RecordError(err error, opts ...trace.EventOption) {
	s.Span.RecordError(err, s.event(opts)...)
}

func (s *span) event(opts []trace.EventOption) []trace.EventOption {
	if len(opts) == 0 {
		return nil
	}
	cfg := trace.NewEventConfig(opts...)
	eo := []trace.EventOption{trace.WithAttributes(Clean(cfg.Attributes(), s.p.policy)...)}
	if ts := cfg.Timestamp(); !ts.IsZero() {
		eo = append(eo, trace.WithTimestamp(ts))
	}
	if cfg.StackTrace() {
		eo = append(eo, trace.WithStackTrace(true))
	}
	return eo
}

func (s *span) TracerProvider() trace.TracerProvider { return s.p }
