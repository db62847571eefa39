package proxy

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
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
