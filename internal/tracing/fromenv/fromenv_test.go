package fromenv

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

func TestEnabled(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing set", nil, false},
		{"otlp", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, true},
		{"console", map[string]string{"OTEL_TRACES_EXPORTER": "console"}, true},
		{"none", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, false},
		{"an endpoint alone", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true},
		{"a traces endpoint alone", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, true},
		{"SDK disabled", map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Enabled(tt.env)
			if err != nil || got != tt.want {
				t.Errorf("Enabled = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// TestNewRefuses: a bad value stops start-up with an error naming its
// variable; tracing off is a nil Provider, safe to use.
func TestNewRefuses(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "udp"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"}, "OTEL_TRACES_SAMPLER_ARG"},
	} {
		p, err := New(context.Background(), tt.env, "svc", "test")
		if err == nil || !strings.HasPrefix(err.Error(), tt.name+":") {
			t.Errorf("%v: err %v, want one naming %s", tt.env, err, tt.name)
		}
		if p != nil {
			t.Errorf("%v: a provider despite the error", tt.env)
		}
	}
	p, err := New(context.Background(), map[string]string{}, "svc", "test")
	if err != nil || p != nil || p.TracerProvider() != nil || p.Shutdown(context.Background()) != nil {
		t.Errorf("off: %v, %v", p, err)
	}
}

// TestExportOTLPHTTP sends a span over OTLP http/protobuf to a receiver on
// 127.0.0.1 and reads it back, with the service name the environment set.
// The exporter reads the process environment, as the SDK does, so the
// variables are set there too (t.Setenv: not parallel).
func TestExportOTLPHTTP(t *testing.T) {
	got := make(chan *coltrace.ExportTraceServiceRequest, 4)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		req := &coltrace.ExportTraceServiceRequest{}
		if err != nil || r.URL.Path != "/v1/traces" || proto.Unmarshal(b, req) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got <- req
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(nil)
	}))
	t.Cleanup(recv.Close)
	env := map[string]string{
		"OTEL_TRACES_EXPORTER":        "otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
		"OTEL_EXPORTER_OTLP_ENDPOINT": recv.URL,
		"OTEL_SERVICE_NAME":           "edge-7",
	}
	exportOne(t, env, "signgate-edge", "edge.token_check")
	select {
	case req := <-got:
		rs := req.GetResourceSpans()
		if len(rs) != 1 || len(rs[0].GetScopeSpans()) != 1 || rs[0].GetScopeSpans()[0].GetSpans()[0].GetName() != "edge.token_check" {
			t.Fatalf("exported %v", req)
		}
		service := ""
		for _, kv := range rs[0].GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		if service != "edge-7" {
			t.Errorf("service.name %q, want edge-7 (OTEL_SERVICE_NAME)", service)
		}
	default:
		t.Fatal("the receiver got no span")
	}
}

// exportOne sets env, builds New's provider for service, ends one span
// named name and shuts the provider down, which exports the span.
func exportOne(t *testing.T, env map[string]string, service, name string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	p, err := New(ctx, env, service, "test")
	if err != nil || p == nil {
		t.Fatalf("New: %v, %v", p, err)
	}
	_, span := p.TracerProvider().Tracer("test").Start(ctx, name)
	span.End()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}
