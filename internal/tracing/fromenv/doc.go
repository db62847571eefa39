// Package fromenv sets up a tracer provider from the standard OTEL_*
// variables, for the signgate command: off unless they ask for an
// exporter, with OTLP over HTTP or gRPC chosen as the SDK's autoexport
// chooses (without linking autoexport's log and metric exporters). It
// is apart from package tracing so that the gateway and the edge, which
// only take a TracerProvider, do not link the SDK and its exporters.
//
// A Provider is safe for concurrent use.
package fromenv
