package edge

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"

	"github.com/signgate/signgate/internal/tracing"
)

// The spans of the edge, when Options.TracerProvider turns tracing on
// (docs/edge.md, "Tracing"). A media request's server span is named
// "METHOD media BUCKET" (or "METHOD stream ID"), an API request's after
// its route pattern ("POST /v1/signing-keys"), never after a raw path.
const (
	SpanTokenCheck    = "edge.token_check" // the token of a request for an authenticated bucket or a stream
	SpanRefresh       = "edge.refresh"     // re-reading keys and policies
	SpanStoreVersion  = "store.version"    // the store's version (PostgreSQL fleets)
	SpanStoreKeys     = "store.keys"       // the signing keys
	SpanStorePolicies = "store.policies"   // the bucket policies
)

// Attributes of the edge's spans: never a token, a cookie or a key.
const (
	AttrBucket = attribute.Key("signgate.bucket")
	AttrStream = attribute.Key("signgate.stream")
	AttrReason = attribute.Key("signgate.reason")
)

// nameMedia names a media request's span after its bucket or stream.
func nameMedia(r *http.Request, b *bucket) {
	m := tracing.Method(r.Method)
	if b.stream {
		tracing.Rename(r.Context(), m+" stream "+b.name, AttrStream.String(b.name))
		return
	}
	tracing.Rename(r.Context(), m+" media "+b.name, AttrBucket.String(b.name))
}

// apiSpanName names an API request's span after the route pattern the mux
// matched (hideAPIKey has already taken an API key out of the path).
func apiSpanName(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return tracing.Method(r.Method) + " api"
}

// traceCheck starts the token check's span; the function it returns ends
// it with the check's outcome: the public reason code of a refusal.
func (e *Edge) traceCheck(ctx context.Context) func(error) {
	if !e.tracer.On() {
		return func(error) {}
	}
	_, span := e.tracer.Start(ctx, SpanTokenCheck)
	return func(err error) {
		if err != nil {
			span.SetAttributes(AttrReason.String(httpError(err).Code))
			tracing.Fail(span, "token refused")
		}
		span.End()
	}
}

// traceSpan starts span name under ctx; end ends it, failed when err is
// not nil. Off, both cost nothing.
func (e *Edge) traceSpan(ctx context.Context, name string) (context.Context, func(error)) {
	if !e.tracer.On() {
		return ctx, func(error) {}
	}
	ctx, span := e.tracer.Start(ctx, name)
	return ctx, func(err error) {
		if err != nil {
			tracing.Fail(span, "store read failed")
		}
		span.End()
	}
}

// traced calls read, a store read, inside span name.
func traced[T any](e *Edge, ctx context.Context, name string, read func(context.Context) (T, error)) (T, error) {
	ctx, end := e.traceSpan(ctx, name)
	v, err := read(ctx)
	end(err)
	return v, err
}
