package config

import (
	"strings"
	"testing"
	"time"
)

// cdnEnv is gatewayEnv with the route on a custom CDN domain.
func cdnEnv(changes map[string]string) map[string]string {
	m := gatewayEnvWith(map[string]string{
		"SIGNGATE_ROUTES_0_BUCKET":   "-",
		"SIGNGATE_ROUTES_0_REGION":   "-",
		"SIGNGATE_ROUTES_0_CDN_BASE": "https://cdn.example.com",
	})
	return withChanges(m, changes)
}

func TestStreamingDefaults(t *testing.T) {
	g, err := LoadGateway(gatewayEnv())
	if err != nil {
		t.Fatal(err)
	}
	r := g.Routes[0]
	if r.Streaming != StreamingOff || r.CookieDomain != "" || r.ManifestMaxBytes != 1<<20 || r.ManifestTimeout != 10*time.Second {
		t.Errorf("streaming defaults: %q %q %d %s", r.Streaming, r.CookieDomain, r.ManifestMaxBytes, r.ManifestTimeout)
	}
	if g.ManifestConcurrency != 16 {
		t.Errorf("SIGNGATE_MANIFEST_CONCURRENCY default: %d, want 16", g.ManifestConcurrency)
	}
	g, err = LoadGateway(withChanges(gatewayEnv(), map[string]string{"SIGNGATE_MANIFEST_CONCURRENCY": "3"}))
	if err != nil {
		t.Fatal(err)
	}
	if g.ManifestConcurrency != 3 {
		t.Errorf("SIGNGATE_MANIFEST_CONCURRENCY=3 read as %d", g.ManifestConcurrency)
	}
}

func TestStreamingSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		changes map[string]string
		check   func(Route) bool
	}{
		{"manifest on Qencode", map[string]string{"SIGNGATE_ROUTES_0_BUCKET": "my-bucket", "SIGNGATE_ROUTES_0_REGION": "us-west", "SIGNGATE_ROUTES_0_CDN_BASE": "-",
			"SIGNGATE_ROUTES_0_STREAMING": "manifest", "SIGNGATE_ROUTES_0_MANIFEST_MAX_BYTES": "65536", "SIGNGATE_ROUTES_0_MANIFEST_TIMEOUT": "3s"},
			func(r Route) bool {
				return r.Streaming == StreamingManifest && r.ManifestMaxBytes == 65536 && r.ManifestTimeout == 3*time.Second
			}},
		{"cookie, host-only", map[string]string{"SIGNGATE_ROUTES_0_STREAMING": "cookie"},
			func(r Route) bool { return r.Streaming == StreamingCookie && r.CookieDomain == "" }},
		{"cookie on the parent domain", map[string]string{"SIGNGATE_ROUTES_0_STREAMING": "cookie", "SIGNGATE_ROUTES_0_COOKIE_DOMAIN": ".example.com"},
			func(r Route) bool { return r.CookieDomain == ".example.com" }},
		{"cookie domain is the CDN host", map[string]string{"SIGNGATE_ROUTES_0_STREAMING": "cookie", "SIGNGATE_ROUTES_0_COOKIE_DOMAIN": "CDN.example.com"},
			func(r Route) bool { return r.CookieDomain == "CDN.example.com" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := LoadGateway(cdnEnv(tc.changes))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(g.Routes[0]) {
				t.Errorf("route: %+v", g.Routes[0])
			}
		})
	}
}

func TestStreamingErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		changes map[string]string
		want    string
	}{
		{"unknown mode", map[string]string{"SIGNGATE_ROUTES_0_STREAMING": "hls"}, "SIGNGATE_ROUTES_0_STREAMING"},
		{"mode in capitals", map[string]string{"SIGNGATE_ROUTES_0_STREAMING": "Cookie"}, "SIGNGATE_ROUTES_0_STREAMING"},
		{"cookie on Qencode's own domain", map[string]string{"SIGNGATE_ROUTES_0_CDN_BASE": "-", "SIGNGATE_ROUTES_0_BUCKET": "my-bucket", "SIGNGATE_ROUTES_0_REGION": "us-west", "SIGNGATE_ROUTES_0_STREAMING": "cookie"}, "SIGNGATE_ROUTES_0_STREAMING"},
		{"cookie domain without cookie mode", map[string]string{"SIGNGATE_ROUTES_0_COOKIE_DOMAIN": ".example.com"}, "SIGNGATE_ROUTES_0_COOKIE_DOMAIN"},
		{"cookie domain in manifest mode", map[string]string{"SIGNGATE_ROUTES_0_STREAMING": "manifest", "SIGNGATE_ROUTES_0_COOKIE_DOMAIN": ".example.com"}, "SIGNGATE_ROUTES_0_COOKIE_DOMAIN"},
		{"cookie domain not covering the CDN", map[string]string{"SIGNGATE_ROUTES_0_STREAMING": "cookie", "SIGNGATE_ROUTES_0_COOKIE_DOMAIN": ".example.org"}, "SIGNGATE_ROUTES_0_COOKIE_DOMAIN"},
		{"cookie domain a suffix but not at a dot", map[string]string{"SIGNGATE_ROUTES_0_STREAMING": "cookie", "SIGNGATE_ROUTES_0_COOKIE_DOMAIN": "ample.com"}, "SIGNGATE_ROUTES_0_COOKIE_DOMAIN"},
		{"cookie domain a TLD", map[string]string{"SIGNGATE_ROUTES_0_STREAMING": "cookie", "SIGNGATE_ROUTES_0_COOKIE_DOMAIN": ".com"}, "SIGNGATE_ROUTES_0_COOKIE_DOMAIN"},
		{"cookie domain with a port", map[string]string{"SIGNGATE_ROUTES_0_STREAMING": "cookie", "SIGNGATE_ROUTES_0_COOKIE_DOMAIN": "example.com:443"}, "SIGNGATE_ROUTES_0_COOKIE_DOMAIN"},
		{"cookie domain an IP", map[string]string{"SIGNGATE_ROUTES_0_STREAMING": "cookie", "SIGNGATE_ROUTES_0_CDN_BASE": "http://127.0.0.1:8081", "SIGNGATE_ROUTES_0_COOKIE_DOMAIN": "127.0.0.1"}, "SIGNGATE_ROUTES_0_COOKIE_DOMAIN"},
		{"cookie domain with a semicolon", map[string]string{"SIGNGATE_ROUTES_0_STREAMING": "cookie", "SIGNGATE_ROUTES_0_COOKIE_DOMAIN": "example.com;secure"}, "SIGNGATE_ROUTES_0_COOKIE_DOMAIN"},
		{"manifest limit zero", map[string]string{"SIGNGATE_ROUTES_0_MANIFEST_MAX_BYTES": "0"}, "SIGNGATE_ROUTES_0_MANIFEST_MAX_BYTES"},
		{"manifest limit huge", map[string]string{"SIGNGATE_ROUTES_0_MANIFEST_MAX_BYTES": "1073741824"}, "SIGNGATE_ROUTES_0_MANIFEST_MAX_BYTES"},
		{"manifest limit not a number", map[string]string{"SIGNGATE_ROUTES_0_MANIFEST_MAX_BYTES": "1MiB"}, "SIGNGATE_ROUTES_0_MANIFEST_MAX_BYTES"},
		{"manifest timeout zero", map[string]string{"SIGNGATE_ROUTES_0_MANIFEST_TIMEOUT": "0s"}, "SIGNGATE_ROUTES_0_MANIFEST_TIMEOUT"},
		{"manifest concurrency zero", map[string]string{"SIGNGATE_MANIFEST_CONCURRENCY": "0"}, "SIGNGATE_MANIFEST_CONCURRENCY"},
		{"manifest concurrency huge", map[string]string{"SIGNGATE_MANIFEST_CONCURRENCY": "100000"}, "SIGNGATE_MANIFEST_CONCURRENCY"},
		{"manifest concurrency not a number", map[string]string{"SIGNGATE_MANIFEST_CONCURRENCY": "many"}, "SIGNGATE_MANIFEST_CONCURRENCY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadGateway(cdnEnv(tc.changes))
			if err == nil {
				t.Fatalf("no error, want one naming %s", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want+":") {
				t.Errorf("error does not name %s:\n%v", tc.want, err)
			}
		})
	}
}

func TestDomainMatch(t *testing.T) {
	for _, tc := range []struct {
		host, domain string
		want         bool
	}{
		{"cdn.example.com", "example.com", true},
		{"CDN.Example.com", "example.com", true},
		{"example.com", "example.com", true},
		{"a.b.example.com", "example.com", true},
		{"badexample.com", "example.com", false},
		{"example.com.evil", "example.com", false},
		{"127.0.0.1", "0.0.1", false},
	} {
		if got := DomainMatch(tc.host, tc.domain); got != tc.want {
			t.Errorf("DomainMatch(%q, %q) = %v, want %v", tc.host, tc.domain, got, tc.want)
		}
	}
}
