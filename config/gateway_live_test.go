package config

import (
	"strings"
	"testing"
)

// streamRoute turns gatewayEnv's route 0 into a live stream's route.
func streamRoute(kv ...string) map[string]string {
	m := gatewayEnvWith(map[string]string{
		"SIGNGATE_ROUTES_0_BUCKET":    "-",
		"SIGNGATE_ROUTES_0_REGION":    "-",
		"SIGNGATE_ROUTES_0_PREFIX":    "/live",
		"SIGNGATE_ROUTES_0_STREAM_ID": "cam1",
		"SIGNGATE_ROUTES_0_CDN_BASE":  "https://edge.example.com/live/cam1",
	})
	for i := 0; i+1 < len(kv); i += 2 {
		m["SIGNGATE_ROUTES_0_"+kv[i]] = kv[i+1]
		if kv[i+1] == "-" {
			delete(m, "SIGNGATE_ROUTES_0_"+kv[i])
		}
	}
	return m
}

func TestLoadGatewayStreamRoute(t *testing.T) {
	for _, env := range []map[string]string{
		streamRoute(),
		streamRoute("CDN_BASE", "https://play-cam1.example.com"),
		streamRoute("CDN_BASE", "https://edge.example.com/tenant/live/cam1/", "STREAMING", "manifest"),
		streamRoute("STREAM_ID", "Cam_1.v2", "CDN_BASE", "https://edge.example.com/live/Cam_1.v2"),
	} {
		g, err := LoadGateway(env)
		if err != nil {
			t.Errorf("%s: %v", env["SIGNGATE_ROUTES_0_CDN_BASE"], err)
			continue
		}
		if g.Routes[0].StreamID != env["SIGNGATE_ROUTES_0_STREAM_ID"] {
			t.Errorf("StreamID %q", g.Routes[0].StreamID)
		}
	}
}

func TestLoadGatewayStreamRouteErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad id", streamRoute("STREAM_ID", "cam 1"), "SIGNGATE_ROUTES_0_STREAM_ID: \"cam 1\": a stream id is"},
		{"dot dot", streamRoute("STREAM_ID", ".."), "SIGNGATE_ROUTES_0_STREAM_ID"},
		{"no CDN base", streamRoute("CDN_BASE", "-"), "SIGNGATE_ROUTES_0_CDN_BASE: required with SIGNGATE_ROUTES_0_STREAM_ID"},
		{"a Qencode bucket", streamRoute("CDN_BASE", "-", "BUCKET", "my-bucket", "REGION", "us-west"), "SIGNGATE_ROUTES_0_CDN_BASE: required with"},
		{"another stream's path", streamRoute("CDN_BASE", "https://edge.example.com/live/cam2"),
			"SIGNGATE_ROUTES_0_CDN_BASE: \"https://edge.example.com/live/cam2\" is the path of stream \"cam2\" on an edge, but SIGNGATE_ROUTES_0_STREAM_ID is \"cam1\""},
		{"misspelt", streamRoute("STREAMID", "x"), "SIGNGATE_ROUTES_0_STREAMID: unknown route setting STREAMID; did you mean SIGNGATE_ROUTES_0_STREAM_ID?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadGateway(tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q in it", err, tc.want)
			}
		})
	}
}
