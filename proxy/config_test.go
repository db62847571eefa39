package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/proxy/auth"
	"github.com/signgate/signgate/signer"
)

// memoryRoute is a route to cdn whose key is held in memory.
func memoryRoute(t *testing.T, cdn string) Route {
	return Route{
		Route: config.Route{Prefix: "/media", CDNBase: cdn, TTL: time.Hour, Scope: signer.ScopeFile, RedirectStatus: http.StatusFound, Public: true},
		Key:   testKey(t, "key1.pem"),
	}
}

// TestMemoryKey: a route's key held in memory serves at once, is never
// reloaded (Reload keeps it, the watcher has no file to watch), and
// tokens signed with it verify on the CDN.
func TestMemoryKey(t *testing.T) {
	clock := newClock()
	rt := memoryRoute(t, "")
	cdn := newCDN(t, clock.Now, rt.Key)
	rt.CDNBase = cdn.URL
	g, err := New(context.Background(), Config{Routes: []Route{rt}, WatchKeys: true}, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.stopWatch != nil {
		t.Error("a watcher started with no key file")
	}
	if err := g.Reload(); err != nil || !g.Ready() {
		t.Fatalf("Reload: %v, ready %v; want nil, true", err, g.Ready())
	}
	rec := httptest.NewRecorder()
	g.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/media/a.mp4", nil))
	if rec.Code != http.StatusFound {
		t.Fatalf("status %d, want 302", rec.Code)
	}
	resp, err := http.Get(rec.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the CDN answered %d to the signed URL, want 200", resp.StatusCode)
	}
}

// TestSettingErrors: what New refuses is a *SettingError naming the
// route and the setting, one per problem.
func TestSettingErrors(t *testing.T) {
	key := testKey(t, "key1.pem")
	for name, tc := range map[string]struct {
		change  func(*Config)
		route   int
		setting string
	}{
		"memory key and key file": {func(c *Config) { c.Routes[0].KeyFile = filepath.Join("testdata", "key1.pem") }, 0, "KEY_FILE"},
		"memory key without kid":  {func(c *Config) { c.Routes[0].Key = &signer.SigningKey{Key: key.Key} }, 0, "KEY_ID"},
		"no key at all":           {func(c *Config) { c.Routes[0].Key = nil }, 0, "KEY_FILE"},
		"bad CDN base":            {func(c *Config) { c.Routes[0].CDNBase = "cdn.example.com" }, 0, "CDN_BASE"},
		"bad upstream":            {func(c *Config) { c.Upstream = "http://[::1" }, -1, "UPSTREAM"},
	} {
		t.Run(name, func(t *testing.T) {
			c := Config{Routes: []Route{memoryRoute(t, "https://cdn.example.com")}}
			tc.change(&c)
			g, err := New(context.Background(), c, Options{})
			if err == nil {
				g.Close()
				t.Fatal("New accepted it")
			}
			var se *SettingError
			if !errors.As(err, &se) || se.Route != tc.route || se.Setting != tc.setting {
				t.Fatalf("error %v: want a *SettingError of route %d, %s", err, tc.route, tc.setting)
			}
		})
	}
}

// TestForwardOnlyThroughGateway: forward-auth reaches Options.Auth only
// as proxy.Forward at the top of the chain, so that the app is always
// asked about the gateway's grant and its yes counts for that grant alone
// (gateway.go links). An auth.Forward built outside, or any forward-auth
// link inside a chain at any depth, is refused by New (found by review:
// a raw auth.Forward asked about the request's path and its principal was
// admitted like a JWT's).
func TestForwardOnlyThroughGateway(t *testing.T) {
	raw := func() auth.Authenticator {
		return auth.NewForward(auth.ForwardOptions{URL: "http://127.0.0.1:1/check"})
	}
	bound := func() auth.Authenticator {
		return Forward("fwd", auth.ForwardOptions{URL: "http://127.0.0.1:1/check"}).Authenticator
	}
	jwt, err := auth.NewJWT([]byte("0123456789abcdef0123456789abcdef"), auth.JWTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	chain := func(as ...auth.Authenticator) auth.Authenticator {
		var ls []auth.Link
		for i, a := range as {
			ls = append(ls, auth.Link{Name: fmt.Sprintf("inner%d", i), Authenticator: a})
		}
		return auth.NewChain(ls, auth.Hooks{})
	}
	for name, tc := range map[string]struct {
		links []auth.Link
		ok    bool
	}{
		"proxy.Forward":               {[]auth.Link{Forward("fwd", auth.ForwardOptions{URL: "http://127.0.0.1:1/check"})}, true},
		"jwt, then proxy.Forward":     {[]auth.Link{{Name: "jwt", Authenticator: jwt}, Forward("fwd", auth.ForwardOptions{URL: "http://127.0.0.1:1/check"})}, true},
		"a chain of jwt":              {[]auth.Link{{Name: "c", Authenticator: chain(jwt)}}, true},
		"raw auth.Forward":            {[]auth.Link{{Name: "fwd", Authenticator: raw()}}, false},
		"jwt, then raw auth.Forward":  {[]auth.Link{{Name: "jwt", Authenticator: jwt}, {Name: "fwd", Authenticator: raw()}}, false},
		"raw auth.Forward in a chain": {[]auth.Link{{Name: "c", Authenticator: chain(jwt, raw())}}, false},
		"proxy.Forward in a chain":    {[]auth.Link{{Name: "c", Authenticator: chain(bound())}}, false},
		"raw auth.Forward two deep":   {[]auth.Link{{Name: "c", Authenticator: chain(jwt, chain(raw()))}}, false},
		"proxy.Forward two deep":      {[]auth.Link{{Name: "c", Authenticator: chain(chain(jwt), chain(jwt, bound()))}}, false},
	} {
		t.Run(name, func(t *testing.T) {
			rt := memoryRoute(t, "https://cdn.example.com")
			rt.Public = false
			g, err := New(context.Background(), Config{Routes: []Route{rt}}, Options{Auth: tc.links})
			if tc.ok {
				if err != nil {
					t.Fatalf("New refused it: %v", err)
				}
				g.Close()
				return
			}
			if err == nil {
				g.Close()
				t.Fatal("New accepted it")
			}
			if !strings.Contains(err.Error(), "proxy.Forward") {
				t.Errorf("error %q does not point to proxy.Forward", err)
			}
		})
	}
}
