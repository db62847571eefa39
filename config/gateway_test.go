package config

import (
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// minimal is a valid gateway environment; tests change it.
func gatewayEnv() map[string]string {
	return map[string]string{
		"SIGNGATE_AUTH":              "jwt",
		"SIGNGATE_JWT_SECRET":        "0123456789abcdef0123456789abcdef",
		"SIGNGATE_ROUTES_0_PREFIX":   "/media",
		"SIGNGATE_ROUTES_0_BUCKET":   "my-bucket",
		"SIGNGATE_ROUTES_0_REGION":   "us-west",
		"SIGNGATE_ROUTES_0_KEY_FILE": "/keys/a.pem",
		"SIGNGATE_ROUTES_0_KEY_ID":   "kid-a",
	}
}

func gatewayEnvWith(changes map[string]string) map[string]string {
	return withChanges(gatewayEnv(), changes)
}

// withChanges applies changes to m: "-" deletes a variable.
func withChanges(m, changes map[string]string) map[string]string {
	for k, v := range changes {
		if v == "-" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

func TestLoadGatewayDefaults(t *testing.T) {
	g, err := LoadGateway(gatewayEnv())
	if err != nil {
		t.Fatal(err)
	}
	if g.Listen != ":8080" || g.MetricsListen != "127.0.0.1:9090" || g.CacheSize != 100_000 || g.GOGC != 400 ||
		g.SubjectHeader != "X-Signgate-Subject" || g.AuthHeader != "X-Forwarded-User" || len(g.TrustedProxies) != 0 {
		t.Errorf("defaults: %+v", g)
	}
	if len(g.Routes) != 1 {
		t.Fatalf("routes: %+v", g.Routes)
	}
	r := g.Routes[0]
	if r.TTL != time.Hour || r.MinValidity != 0 || r.Scope != signer.ScopeFile || r.RedirectStatus != 302 || r.Public || r.StripPrefix {
		t.Errorf("route defaults: %+v", r)
	}
	b, err := r.Base()
	if err != nil || b.String() != "https://my-bucket.media-storage.us-west.qencode.com" {
		t.Errorf("base %v, %v", b, err)
	}
	if s := r.Lifetime().Step(); s != 30*time.Minute {
		t.Errorf("step %s", s)
	}
}

func TestLoadGatewaySeveralRoutes(t *testing.T) {
	g, err := LoadGateway(gatewayEnvWith(map[string]string{
		"SIGNGATE_ROUTES_1_PREFIX":          "/premium/",
		"SIGNGATE_ROUTES_1_CDN_BASE":        "https://cdn.example.com/base",
		"SIGNGATE_ROUTES_1_KEY_FILE":        "/keys/b.pem",
		"SIGNGATE_ROUTES_1_KEY_ID":          "kid-b",
		"SIGNGATE_ROUTES_1_SCOPE":           "dir",
		"SIGNGATE_ROUTES_1_TTL":             "10m",
		"SIGNGATE_ROUTES_1_MIN_VALIDITY":    "8m",
		"SIGNGATE_ROUTES_1_REDIRECT_STATUS": "307",
		"SIGNGATE_ROUTES_1_REQUIRE":         "plan=premium, role = viewer",
		"SIGNGATE_ROUTES_1_STRIP_PREFIX":    "true",
		"SIGNGATE_TRUSTED_PROXIES":          "10.0.0.0/8, 192.0.2.1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	r := g.Routes[1]
	if r.Scope != signer.ScopeDir || r.TTL != 10*time.Minute || r.MinValidity != 8*time.Minute || r.RedirectStatus != 307 || !r.StripPrefix {
		t.Errorf("route 1: %+v", r)
	}
	if got := r.Requirements(); len(got) != 2 || got[1] != (Requirement{"role", "viewer"}) {
		t.Errorf("requirements %+v", got)
	}
	if ps := g.TrustedPrefixes(); len(ps) != 2 || ps[1].String() != "192.0.2.1/32" {
		t.Errorf("trusted %v", ps)
	}
}

// TestLoadGatewayErrorsNameTheVariable checks that every problem names
// its variable, all of them at once.
func TestLoadGatewayErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		changes map[string]string
		want    []string
	}{
		{"gap in route indices", map[string]string{"SIGNGATE_ROUTES_2_PREFIX": "/x"}, []string{"SIGNGATE_ROUTES_2_PREFIX"}},
		{"unknown route variable", map[string]string{"SIGNGATE_ROUTES_0_PREFIXX": "/x"}, []string{"SIGNGATE_ROUTES_0_PREFIXX"}},
		{"bad route index", map[string]string{"SIGNGATE_ROUTES_01_PREFIX": "/x"}, []string{"SIGNGATE_ROUTES_01_PREFIX"}},
		{"bad duration", map[string]string{"SIGNGATE_ROUTES_0_TTL": "soon"}, []string{"SIGNGATE_ROUTES_0_TTL"}},
		{"bad scope", map[string]string{"SIGNGATE_ROUTES_0_SCOPE": "everything"}, []string{"SIGNGATE_ROUTES_0_SCOPE"}},
		{"bad bool", map[string]string{"SIGNGATE_ROUTES_0_PUBLIC": "maybe"}, []string{"SIGNGATE_ROUTES_0_PUBLIC"}},
		{"bad top-level int", map[string]string{"SIGNGATE_CACHE_SIZE": "lots"}, []string{"SIGNGATE_CACHE_SIZE"}},
		{"bad top-level duration", map[string]string{"SIGNGATE_FORWARD_TTL": "x"}, []string{"SIGNGATE_FORWARD_TTL"}},
		{"no prefix", map[string]string{"SIGNGATE_ROUTES_0_PREFIX": "-"}, []string{"SIGNGATE_ROUTES_0_PREFIX"}},
		{"relative prefix", map[string]string{"SIGNGATE_ROUTES_0_PREFIX": "media"}, []string{"SIGNGATE_ROUTES_0_PREFIX"}},
		{"non-canonical prefix", map[string]string{"SIGNGATE_ROUTES_0_PREFIX": "/a/../b"}, []string{"SIGNGATE_ROUTES_0_PREFIX"}},
		{"reserved prefix", map[string]string{"SIGNGATE_ROUTES_0_PREFIX": "/.signgate"}, []string{"SIGNGATE_ROUTES_0_PREFIX"}},
		{"duplicate prefix", map[string]string{"SIGNGATE_ROUTES_1_PREFIX": "/media/", "SIGNGATE_ROUTES_1_CDN_BASE": "https://c.example", "SIGNGATE_ROUTES_1_KEY_FILE": "k", "SIGNGATE_ROUTES_1_KEY_ID": "k"}, []string{"SIGNGATE_ROUTES_1_PREFIX"}},
		{"no CDN", map[string]string{"SIGNGATE_ROUTES_0_BUCKET": "-", "SIGNGATE_ROUTES_0_REGION": "-"}, []string{"SIGNGATE_ROUTES_0_BUCKET"}},
		{"both CDN forms", map[string]string{"SIGNGATE_ROUTES_0_CDN_BASE": "https://c.example"}, []string{"SIGNGATE_ROUTES_0_CDN_BASE"}},
		{"bad CDN base", map[string]string{"SIGNGATE_ROUTES_0_BUCKET": "-", "SIGNGATE_ROUTES_0_REGION": "-", "SIGNGATE_ROUTES_0_CDN_BASE": "ftp://c.example"}, []string{"SIGNGATE_ROUTES_0_CDN_BASE"}},
		{"bad bucket", map[string]string{"SIGNGATE_ROUTES_0_BUCKET": "My_Bucket"}, []string{"SIGNGATE_ROUTES_0_BUCKET"}},
		{"bad region", map[string]string{"SIGNGATE_ROUTES_0_REGION": "us west"}, []string{"SIGNGATE_ROUTES_0_REGION"}},
		{"no key", map[string]string{"SIGNGATE_ROUTES_0_KEY_FILE": "-", "SIGNGATE_ROUTES_0_KEY_ID": "-"}, []string{"SIGNGATE_ROUTES_0_KEY_FILE", "SIGNGATE_ROUTES_0_KEY_ID"}},
		{"kid and kid file", map[string]string{"SIGNGATE_ROUTES_0_KEY_ID_FILE": "/run/kid"}, []string{"SIGNGATE_ROUTES_0_KEY_ID_FILE"}},
		{"JSON key file beside a key file and a kid", map[string]string{"SIGNGATE_ROUTES_0_KEY_JSON_FILE": "/run/key.json"}, []string{"SIGNGATE_ROUTES_0_KEY_FILE", "SIGNGATE_ROUTES_0_KEY_ID"}},
		{"JSON key file beside a kid file", map[string]string{"SIGNGATE_ROUTES_0_KEY_JSON_FILE": "/run/key.json", "SIGNGATE_ROUTES_0_KEY_FILE": "-", "SIGNGATE_ROUTES_0_KEY_ID": "-", "SIGNGATE_ROUTES_0_KEY_ID_FILE": "/run/kid"}, []string{"SIGNGATE_ROUTES_0_KEY_ID_FILE"}},
		{"JWKS timeout", map[string]string{"SIGNGATE_ROUTES_0_JWKS_TIMEOUT": "0s"}, []string{"SIGNGATE_ROUTES_0_JWKS_TIMEOUT"}},
		{"bad JWKS URL", map[string]string{"SIGNGATE_ROUTES_0_JWKS_URL": "cdn.example/jwks.json"}, []string{"SIGNGATE_ROUTES_0_JWKS_URL"}},
		{"min validity too large", map[string]string{"SIGNGATE_ROUTES_0_MIN_VALIDITY": "2h"}, []string{"SIGNGATE_ROUTES_0_MIN_VALIDITY"}},
		{"fractional TTL", map[string]string{"SIGNGATE_ROUTES_0_TTL": "1500ms"}, []string{"SIGNGATE_ROUTES_0_TTL"}},
		{"TTL without a validity floor", map[string]string{"SIGNGATE_ROUTES_0_TTL": "1s"}, []string{"SIGNGATE_ROUTES_0_TTL"}},
		{"redirect status", map[string]string{"SIGNGATE_ROUTES_0_REDIRECT_STATUS": "301"}, []string{"SIGNGATE_ROUTES_0_REDIRECT_STATUS"}},
		{"bad requirement", map[string]string{"SIGNGATE_ROUTES_0_REQUIRE": "premium"}, []string{"SIGNGATE_ROUTES_0_REQUIRE"}},
		{"public with requirements", map[string]string{"SIGNGATE_ROUTES_0_PUBLIC": "true", "SIGNGATE_ROUTES_0_REQUIRE": "a=b"}, []string{"SIGNGATE_ROUTES_0_REQUIRE"}},
		{"duplicate name", map[string]string{"SIGNGATE_ROUTES_0_NAME": "1", "SIGNGATE_ROUTES_1_PREFIX": "/b", "SIGNGATE_ROUTES_1_CDN_BASE": "https://c.example", "SIGNGATE_ROUTES_1_KEY_FILE": "k", "SIGNGATE_ROUTES_1_KEY_ID": "k"}, []string{"SIGNGATE_ROUTES_1_NAME"}},
		{"no routes", map[string]string{"SIGNGATE_ROUTES_0_PREFIX": "-", "SIGNGATE_ROUTES_0_BUCKET": "-", "SIGNGATE_ROUTES_0_REGION": "-", "SIGNGATE_ROUTES_0_KEY_FILE": "-", "SIGNGATE_ROUTES_0_KEY_ID": "-"}, []string{"SIGNGATE_ROUTES_0_PREFIX"}},
		{"no authenticator for a private route", map[string]string{"SIGNGATE_AUTH": "-"}, []string{"SIGNGATE_AUTH"}},
		{"unknown authenticator", map[string]string{"SIGNGATE_AUTH": "jwt,magic"}, []string{"SIGNGATE_AUTH"}},
		{"header auth trusting nobody", map[string]string{"SIGNGATE_AUTH": "header"}, []string{"SIGNGATE_TRUSTED_PROXIES"}},
		{"bad trusted proxy", map[string]string{"SIGNGATE_TRUSTED_PROXIES": "10.0.0.0/33,nope"}, []string{"SIGNGATE_TRUSTED_PROXIES"}},
		{"jwt without key", map[string]string{"SIGNGATE_JWT_SECRET": "-"}, []string{"SIGNGATE_JWT_SECRET"}},
		{"jwt with two keys", map[string]string{"SIGNGATE_JWT_JWKS_URL": "https://id.example/jwks"}, []string{"SIGNGATE_JWT_SECRET"}},
		{"short secret", map[string]string{"SIGNGATE_JWT_SECRET": "short"}, []string{"SIGNGATE_JWT_SECRET"}},
		{"alg none", map[string]string{"SIGNGATE_JWT_ALGORITHMS": "none"}, []string{"SIGNGATE_JWT_ALGORITHMS"}},
		{"RS256 with a secret", map[string]string{"SIGNGATE_JWT_ALGORITHMS": "RS256"}, []string{"SIGNGATE_JWT_ALGORITHMS"}},
		{"forward without URL", map[string]string{"SIGNGATE_AUTH": "forward"}, []string{"SIGNGATE_FORWARD_URL"}},
		{"bad upstream", map[string]string{"SIGNGATE_UPSTREAM": "app:8080"}, []string{"SIGNGATE_UPSTREAM"}},
		{"login URL off the rails", map[string]string{"SIGNGATE_LOGIN_URL": "//evil.example/login"}, []string{"SIGNGATE_LOGIN_URL"}},
		{"CORS wildcard among others", map[string]string{"SIGNGATE_CORS_ORIGINS": "*,https://a.example"}, []string{`SIGNGATE_CORS_ORIGINS: "*" must stand alone`}},
		{"CORS origin with a path", map[string]string{"SIGNGATE_CORS_ORIGINS": "https://a.example/app"}, []string{"SIGNGATE_CORS_ORIGINS"}},
		{"GOGC", map[string]string{"SIGNGATE_GOGC": "5"}, []string{"SIGNGATE_GOGC"}},
		{"cache size", map[string]string{"SIGNGATE_CACHE_SIZE": "0"}, []string{"SIGNGATE_CACHE_SIZE"}},
		{"several at once", map[string]string{"SIGNGATE_CACHE_SIZE": "0", "SIGNGATE_ROUTES_0_TTL": "x", "SIGNGATE_ROUTES_3_PREFIX": "/y"},
			[]string{"SIGNGATE_ROUTES_0_TTL", "SIGNGATE_ROUTES_3_PREFIX"}},
		{"several validation problems", map[string]string{"SIGNGATE_CACHE_SIZE": "0", "SIGNGATE_GOGC": "1", "SIGNGATE_ROUTES_0_REDIRECT_STATUS": "200"},
			[]string{"SIGNGATE_CACHE_SIZE", "SIGNGATE_GOGC", "SIGNGATE_ROUTES_0_REDIRECT_STATUS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadGateway(gatewayEnvWith(tc.changes))
			if err == nil {
				t.Fatalf("no error, want one naming %v", tc.want)
			}
			for _, v := range tc.want {
				if !strings.Contains(err.Error(), v+":") {
					t.Errorf("error does not name %s:\n%v", v, err)
				}
			}
		})
	}
}

// TestLoadGatewayUnknownVariables: a misspelt variable stops start-up
// instead of leaving its check off; the edge's variables and those read
// by hand are not the gateway's to refuse.
func TestLoadGatewayUnknownVariables(t *testing.T) {
	for _, tc := range []struct {
		name    string
		changes map[string]string
		want    string
	}{
		{"misspelt issuer", map[string]string{"SIGNGATE_JWT_ISSUR": "https://id.example"}, "SIGNGATE_JWT_ISSUR: unknown variable; did you mean SIGNGATE_JWT_ISSUER?"},
		{"plural audience", map[string]string{"SIGNGATE_JWT_AUDIENCES": "app"}, "SIGNGATE_JWT_AUDIENCES: unknown variable; did you mean SIGNGATE_JWT_AUDIENCE?"},
		{"nothing close", map[string]string{"SIGNGATE_COMPLETELY_DIFFERENT": "1"}, "SIGNGATE_COMPLETELY_DIFFERENT: unknown variable (see signgate config)"},
		{"route setting", map[string]string{"SIGNGATE_ROUTES_0_KEYFILE": "k"}, "SIGNGATE_ROUTES_0_KEYFILE: unknown route setting KEYFILE; did you mean SIGNGATE_ROUTES_0_KEY_FILE?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadGateway(gatewayEnvWith(tc.changes))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	t.Run("others' variables", func(t *testing.T) {
		_, err := LoadGateway(gatewayEnvWith(map[string]string{
			"SIGNGATE_EDGE_LISTEN":       ":9000",
			"SIGNGATE_EDGE_LEWAY":        "1s", // the edge's to refuse
			"SIGNGATE_LOG_LEVEL":         "debug",
			"SIGNGATE_API_URL":           "https://api.example",
			"SIGNGATE_TEST_POSTGRES":     "postgres://x",
			"SIGNGATE_UPDATE_SCREENSHOT": "1",
		}))
		if err != nil {
			t.Error(err)
		}
	})
}

func TestLoadGatewayKeepsSecretsOutOfErrors(t *testing.T) {
	_, err := LoadGateway(gatewayEnvWith(map[string]string{"SIGNGATE_JWT_SECRET": "hunter2", "SIGNGATE_UPSTREAM": "https://user:pw@app.example"}))
	if err == nil {
		t.Fatal("want errors")
	}
	for _, s := range []string{"hunter2", "pw@"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error shows %q: %v", s, err)
		}
	}
}

func TestHeaderKey(t *testing.T) {
	for _, s := range []string{"X-Forwarded-User", "x_forwarded_user", "X.FORWARDED.USER", "x-Forwarded_user"} {
		if headerKey(s) != "x-forwarded-user" {
			t.Errorf("headerKey(%q) = %q", s, headerKey(s))
		}
	}
}

func TestMetricsOff(t *testing.T) {
	for v, want := range map[string]bool{"-": true, "127.0.0.1:9191": true, "off": false} {
		g, err := LoadGateway(gatewayEnvWith(map[string]string{"SIGNGATE_METRICS_LISTEN": v}))
		if err != nil {
			t.Fatal(err)
		}
		if g.MetricsEnabled() != want {
			t.Errorf("SIGNGATE_METRICS_LISTEN=%q: enabled %v, want %v", v, g.MetricsEnabled(), want)
		}
	}
}

// TestLoadGatewayKeyJSONFile: one JSON file stands for the key file and
// its kid, with or without the route's JWKS URL.
func TestLoadGatewayKeyJSONFile(t *testing.T) {
	cfg, err := LoadGateway(gatewayEnvWith(map[string]string{
		"SIGNGATE_ROUTES_0_KEY_FILE": "-", "SIGNGATE_ROUTES_0_KEY_ID": "-",
		"SIGNGATE_ROUTES_0_KEY_JSON_FILE": "/run/key.json",
		"SIGNGATE_ROUTES_0_JWKS_URL":      "https://api.example.com/v1/buckets/b/jwks.json",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if r := cfg.Routes[0]; r.KeyJSONFile != "/run/key.json" || r.KeyFile != "" || r.JWKSURL == "" {
		t.Errorf("route %+v", r)
	}
}
