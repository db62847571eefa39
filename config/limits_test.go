package config

import (
	"strings"
	"testing"
	"time"
)

func TestLimitsDefaults(t *testing.T) {
	g, err := LoadGateway(gatewayEnv())
	if err != nil {
		t.Fatal(err)
	}
	want := Limits{MaxConns: 10000, BodyTimeout: 10 * time.Second, BodyIdleTimeout: 30 * time.Second, BodyMinRate: 1024, BodyRateWindow: 30 * time.Second, UpstreamTimeout: time.Minute}
	if g.Limits != want {
		t.Errorf("gateway limits %+v, want %+v", g.Limits, want)
	}
	e, err := LoadEdge(edgeEnv())
	if err != nil {
		t.Fatal(err)
	}
	if want := (EdgeLimits{MaxConns: 10000, APIBodyTimeout: 10 * time.Second}); e.EdgeLimits != want {
		t.Errorf("edge limits %+v, want %+v", e.EdgeLimits, want)
	}
}

func TestLimitsOff(t *testing.T) {
	g, err := LoadGateway(gatewayEnvWith(map[string]string{
		"SIGNGATE_MAX_CONNS": "0", "SIGNGATE_BODY_IDLE_TIMEOUT": "0s", "SIGNGATE_BODY_MIN_RATE": "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if g.MaxConns != 0 || g.BodyIdleTimeout != 0 || g.BodyMinRate != 0 {
		t.Errorf("limits %+v", g.Limits)
	}
}

func TestLimitsErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		name, variable, value string
	}{
		{"negative max conns", "SIGNGATE_MAX_CONNS", "-1"},
		{"huge max conns", "SIGNGATE_MAX_CONNS", "99999999"},
		{"negative body timeout", "SIGNGATE_BODY_TIMEOUT", "-1s"},
		{"long body timeout", "SIGNGATE_BODY_TIMEOUT", "1h"},
		{"negative idle", "SIGNGATE_BODY_IDLE_TIMEOUT", "-1s"},
		{"negative rate", "SIGNGATE_BODY_MIN_RATE", "-5"},
		{"bad rate", "SIGNGATE_BODY_MIN_RATE", "fast"},
		{"short window", "SIGNGATE_BODY_RATE_WINDOW", "1ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadGateway(gatewayEnvWith(map[string]string{tc.variable: tc.value}))
			if err == nil || !strings.Contains(err.Error(), tc.variable+":") {
				t.Fatalf("%s=%s: error %v, want one naming %s", tc.variable, tc.value, err, tc.variable)
			}
		})
	}
	for _, tc := range []struct {
		name, variable, value string
	}{
		{"negative max conns", "SIGNGATE_EDGE_MAX_CONNS", "-1"},
		{"negative API body timeout", "SIGNGATE_EDGE_API_BODY_TIMEOUT", "-1s"},
		{"long API body timeout", "SIGNGATE_EDGE_API_BODY_TIMEOUT", "1h"},
	} {
		t.Run("edge "+tc.name, func(t *testing.T) {
			env := edgeEnv()
			env[tc.variable] = tc.value
			_, err := LoadEdge(env)
			if err == nil || !strings.Contains(err.Error(), tc.variable+":") {
				t.Fatalf("%s=%s: error %v, want one naming %s", tc.variable, tc.value, err, tc.variable)
			}
		})
	}
}
