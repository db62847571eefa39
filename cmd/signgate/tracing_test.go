package main

import (
	"strings"
	"testing"
)

// TestTracingBadEnvironment: a bad OTEL_* value stops the gateway and the
// edge at start, with exit 1 and a message naming the variable.
func TestTracingBadEnvironment(t *testing.T) {
	gw := gatewayEnviron(t, testKeyFile, "")
	gw["SIGNGATE_LISTEN"] = "127.0.0.1:0"
	gw["OTEL_TRACES_EXPORTER"] = "jaeger"
	code, _, stderr := runCLIEnv(t, gw, "gateway")
	if code != 1 || !strings.Contains(stderr, "OTEL_TRACES_EXPORTER") {
		t.Errorf("gateway: exit %d, stderr %q", code, stderr)
	}
	ed := map[string]string{
		"SIGNGATE_EDGE_LISTEN":           "127.0.0.1:0",
		"SIGNGATE_EDGE_BUCKETS_0_NAME":   "media",
		"SIGNGATE_EDGE_BUCKETS_0_ORIGIN": t.TempDir(),
		"SIGNGATE_EDGE_DB":               t.TempDir() + "/edge.db",
		"SIGNGATE_EDGE_API_LISTEN":       "off",
		"SIGNGATE_EDGE_SINGLE_BUCKET":    "true",
		"OTEL_TRACES_EXPORTER":           "otlp",
		"OTEL_TRACES_SAMPLER":            "often",
	}
	code, _, stderr = runCLIEnv(t, ed, "edge")
	if code != 1 || !strings.Contains(stderr, "OTEL_TRACES_SAMPLER") {
		t.Errorf("edge: exit %d, stderr %q", code, stderr)
	}
}
