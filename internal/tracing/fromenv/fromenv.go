package fromenv

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Provider is the tracer provider the environment asked for; the nil
// Provider is tracing off.
type Provider struct {
	sdk *sdktrace.TracerProvider
}

// TracerProvider returns the provider, nil when tracing is off (what
// proxy.Options and edge.Options take as off).
func (p *Provider) TracerProvider() trace.TracerProvider {
	if p == nil {
		return nil
	}
	return p.sdk
}

// Shutdown flushes the spans still queued and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	return p.sdk.Shutdown(ctx)
}

// Enabled reports whether environ asks for traces: OTEL_TRACES_EXPORTER
// names an exporter (otlp, console), or is unset while an OTLP endpoint
// is set; never with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none.
// A value that is none of these is an error naming the variable.
func Enabled(environ map[string]string) (bool, error) {
	if v := strings.TrimSpace(environ["OTEL_SDK_DISABLED"]); strings.EqualFold(v, "true") {
		return false, nil
	}
	switch v := strings.TrimSpace(environ["OTEL_TRACES_EXPORTER"]); v {
	case "none":
		return false, nil
	case "otlp", "console":
		return true, nil
	case "":
		return environ["OTEL_EXPORTER_OTLP_ENDPOINT"] != "" || environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] != "", nil
	default:
		return false, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not one of otlp, console, none", v)
	}
}

// New returns the provider environ asks for (nil when tracing is off),
// naming its service service unless OTEL_SERVICE_NAME says otherwise. The
// exporter (see spanExporter), its endpoint, headers and batching read the
// process environment as the SDK does; environ is that environment in
// production, and is what New checks first, so that a bad value stops
// start-up naming its variable.
func New(ctx context.Context, environ map[string]string, service, version string) (*Provider, error) {
	on, err := Enabled(environ)
	if err != nil || !on {
		return nil, err
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		switch v := environ[name]; v {
		case "", "grpc", "http/protobuf":
		default:
			return nil, fmt.Errorf("%s: %q is not one of grpc, http/protobuf", name, v)
		}
	}
	sampler, err := samplerOf(environ)
	if err != nil {
		return nil, err
	}
	if s := environ["OTEL_SERVICE_NAME"]; s != "" {
		service = s
	}
	res, err := resource.New(ctx,
		resource.WithFromEnv(), // OTEL_RESOURCE_ATTRIBUTES
		resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName(service), semconv.ServiceVersion(version)),
	)
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	exp, err := spanExporter(ctx, environ)
	if err != nil {
		return nil, fmt.Errorf("OTEL_TRACES_EXPORTER: %w", err)
	}
	return &Provider{sdk: sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler),
	)}, nil
}

// spanExporter is the exporter environ names, as the SDK's autoexport
// chooses it (OTEL_TRACES_EXPORTER, default otlp; then
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL,
// default http/protobuf), with each exporter's own defaults. autoexport
// itself is not used: it links the OTLP log and metric exporters, the
// metric and log SDKs and a Prometheus bridge, none of which signgate
// uses, and which a cold build spends about 10 s of CPU compiling.
func spanExporter(ctx context.Context, environ map[string]string) (sdktrace.SpanExporter, error) {
	if strings.TrimSpace(environ["OTEL_TRACES_EXPORTER"]) == "console" {
		return stdouttrace.New()
	}
	proto := environ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"]
	if proto == "" {
		proto = environ["OTEL_EXPORTER_OTLP_PROTOCOL"]
	}
	if proto == "grpc" {
		return otlptracegrpc.New(ctx)
	}
	return otlptracehttp.New(ctx)
}

// samplerOf reads OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, as the
// SDK would, but refuses what it would silently replace.
func samplerOf(environ map[string]string) (sdktrace.Sampler, error) {
	ratio := func() (float64, error) {
		a := environ["OTEL_TRACES_SAMPLER_ARG"]
		if a == "" {
			return 1, nil
		}
		f, err := strconv.ParseFloat(a, 64)
		if err != nil || f < 0 || f > 1 {
			return 0, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG: %q is not a ratio from 0 to 1", a)
		}
		return f, nil
	}
	switch v := environ["OTEL_TRACES_SAMPLER"]; v {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio", "parentbased_traceidratio":
		f, err := ratio()
		if err != nil {
			return nil, err
		}
		if v == "traceidratio" {
			return sdktrace.TraceIDRatioBased(f), nil
		}
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(f)), nil
	default:
		return nil, fmt.Errorf("OTEL_TRACES_SAMPLER: %q is not one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio", v)
	}
}
