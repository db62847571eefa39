package proxy

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
)

func TestNewRefusesBadStreamingSettings(t *testing.T) {
	base := func() config.Gateway {
		return config.Gateway{
			Listen: ":0", CacheSize: 10, SubjectHeader: "X-Signgate-Subject",
			Routes: []config.Route{{
				Prefix: "/media", CDNBase: "https://cdn.example.com", KeyFile: filepath.Join("testdata", "key1.pem"), KeyID: "k",
				TTL: time.Hour, RedirectStatus: 302, Public: true,
				Streaming: config.StreamingManifest, ManifestMaxBytes: 1 << 20, ManifestTimeout: time.Second,
			}},
			Manifests: config.Manifests{ManifestConcurrency: 4},
		}
	}
	if g, err := newFromEnv(base(), Options{}); err != nil {
		t.Fatalf("valid hand-built configuration: %v", err)
	} else {
		g.Close()
	}
	c := base()
	c.ManifestConcurrency = 0
	if g, err := newFromEnv(c, Options{}); err == nil {
		g.Close()
		t.Error("New accepted a manifest route without SIGNGATE_MANIFEST_CONCURRENCY")
	} else if !strings.Contains(err.Error(), "SIGNGATE_MANIFEST_CONCURRENCY") {
		t.Errorf("error does not name SIGNGATE_MANIFEST_CONCURRENCY: %v", err)
	}
	for _, tc := range []struct {
		name, want string
		change     func(*config.Route)
	}{
		{"unknown mode", "SIGNGATE_ROUTES_0_STREAMING", func(r *config.Route) { r.Streaming = "hls" }},
		{"no manifest limit", "SIGNGATE_ROUTES_0_MANIFEST_MAX_BYTES", func(r *config.Route) { r.ManifestMaxBytes = 0 }},
		{"no manifest timeout", "SIGNGATE_ROUTES_0_MANIFEST_TIMEOUT", func(r *config.Route) { r.ManifestTimeout = 0 }},
		{"bad cookie domain", "SIGNGATE_ROUTES_0_COOKIE_DOMAIN", func(r *config.Route) {
			r.Streaming, r.CookieDomain = config.StreamingCookie, "127.0.0.1"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.change(&c.Routes[0])
			if g, err := newFromEnv(c, Options{}); err == nil {
				g.Close()
				t.Error("New accepted it")
			} else if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not name %s: %v", tc.want, err)
			}
		})
	}
}

func TestFormatOf(t *testing.T) {
	for p, want := range map[string]manifestFormat{
		"/v/master.m3u8": formatHLS,
		"/v/MASTER.M3U8": formatHLS,
		"/v/a.Mpd":       formatDASH,
		"/v/a.m3u":       formatNone,
		"/v/m3u8":        formatNone,
		"/v/x.mp4":       formatNone,
		"/.mpd":          formatDASH,
		"/mpd":           formatNone,
	} {
		if got := formatOf(p); got != want {
			t.Errorf("formatOf(%q) = %s, want %s", p, got, want)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	cdn, _ := url.Parse("https://cdn.example.com/base")
	for s, want := range map[string]bool{
		"https://cdn.example.com/base/x":       true,
		"https://CDN.example.com:443/x":        true,
		"HTTPS://cdn.example.com/x":            true,
		"http://cdn.example.com/base/x":        false,
		"https://cdn.example.com:8443/x":       false,
		"https://cdn.example.com.evil/x":       false,
		"https://evil.example/cdn.example.com": false,
	} {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := sameOrigin(u, cdn); got != want {
			t.Errorf("sameOrigin(%s) = %v, want %v", s, got, want)
		}
	}
}
