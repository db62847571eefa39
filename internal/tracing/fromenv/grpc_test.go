package fromenv

import (
	"context"
	"net"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// traceReceiver is an OTLP/gRPC trace collector that hands each request on.
type traceReceiver struct {
	coltrace.UnimplementedTraceServiceServer
	got chan *coltrace.ExportTraceServiceRequest
}

func (r *traceReceiver) Export(_ context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	r.got <- req
	return &coltrace.ExportTraceServiceResponse{}, nil
}

// TestExportOTLPGRPC sends a span over OTLP gRPC (OTEL_EXPORTER_OTLP_PROTOCOL
// =grpc) to a collector on 127.0.0.1 and reads it back. The exporter reads
// the process environment, as the SDK does (t.Setenv: not parallel).
func TestExportOTLPGRPC(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	recv := &traceReceiver{got: make(chan *coltrace.ExportTraceServiceRequest, 4)}
	srv := grpc.NewServer()
	coltrace.RegisterTraceServiceServer(srv, recv)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	env := map[string]string{
		"OTEL_TRACES_EXPORTER":        "otlp",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + ln.Addr().String(),
		"OTEL_EXPORTER_OTLP_INSECURE": "true",
	}
	exportOne(t, env, "signgate-gateway", "gateway.redirect")
	select {
	case req := <-recv.got:
		rs := req.GetResourceSpans()
		if len(rs) != 1 || len(rs[0].GetScopeSpans()) != 1 || rs[0].GetScopeSpans()[0].GetSpans()[0].GetName() != "gateway.redirect" {
			t.Fatalf("exported %v", req)
		}
	default:
		t.Fatal("the collector got no span")
	}
}

// TestSpanExporterChoice: the exporter each setting picks, as autoexport
// picks it (the traces protocol before the general one).
func TestSpanExporterChoice(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"console", map[string]string{"OTEL_TRACES_EXPORTER": "console"}, "console"},
		{"otlp, default protocol", map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, "otlptracehttp"},
		{"unset exporter", map[string]string{}, "otlptracehttp"},
		{"grpc", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "otlptracegrpc"},
		{"traces protocol first", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, "otlptracehttp"},
		{"traces protocol grpc", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, "otlptracegrpc"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			exp, err := spanExporter(context.Background(), tt.env)
			if err != nil {
				t.Fatal(err)
			}
			defer exp.Shutdown(context.Background())
			got := "?"
			switch e := exp.(type) {
			case *stdouttrace.Exporter:
				got = "console"
			case *otlptrace.Exporter:
				got = clientKind(e)
			}
			if got != tt.want {
				t.Errorf("exporter %s (%T), want %s", got, exp, tt.want)
			}
		})
	}
}

// clientKind names the package of an OTLP exporter's client, from the
// exporter's own MarshalLog (its client's type, e.g. *otlptracegrpc.client).
func clientKind(e *otlptrace.Exporter) string {
	v, ok := e.MarshalLog().(struct {
		Type   string
		Client string
	})
	if !ok {
		return "?"
	}
	c := strings.TrimPrefix(v.Client, "*")
	kind, _, _ := strings.Cut(c, ".")
	return kind
}
