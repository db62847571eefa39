// Package fromenv sets up a tracer provider from the standard OTEL_*
// variables, for the signgate command: off unless they ask for an
// exporter, with OTLP over HTTP or gRPC through the SDK's autoexport. It
// is apart from package tracing so that the gateway and the edge, which
// only take a TracerProvider, do not link the SDK and its exporters.
//
// A Provider is safe for concurrent use.
package fromenv
