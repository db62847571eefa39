// Package tracing is signgate's one home for OpenTelemetry: the Tracer that
// the gateway and the edge start their spans with, the otelhttp handler and
// transports they wrap, and the attribute filter that keeps secrets out of
// every span. Setting a provider up from the OTEL_* variables is
// fromenv's.
//
// Tracing is off unless a TracerProvider is given: an off Tracer (nil or
// made by New(nil, nil)) hands back the handler and the transport it was
// given and a no-op span, so the hot path pays a nil check.
//
// What never reaches an attribute or an event: a URL's query (url.query,
// http.target, the query of url.full and http.url, where tokens ride in
// auth=), user info and fragments of URLs, any header value
// (http.request.header.*, http.response.header.*), and, under HidePath,
// the path of a URL (a path-form token). otelhttp records no header value
// unless asked; the filter drops them anyway.
//
// A Tracer is safe for concurrent use.
package tracing
