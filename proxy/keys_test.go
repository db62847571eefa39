package proxy

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// TestKeyMismatchIsVisible: a new key under the kid KEY_ID fixes is
// refused, and shows: one ERROR naming KEY_FILE and KEY_ID however often
// it is retried, /readyz 200 "degraded" with the route's state, the
// metric; the old file back makes it ok again.
func TestKeyMismatchIsVisible(t *testing.T) {
	dir := t.TempDir()
	keyFile := copyKey(t, dir, "key1.pem")
	f := newFixture(t, map[string]string{"SIGNGATE_ROUTES_0_KEY_FILE": keyFile, "SIGNGATE_ROUTES_0_NAME": "media"})
	os.WriteFile(keyFile, pemOf(t, "key3.pem"), 0o600)
	for range 5 {
		if err := f.gw.Reload(); err == nil {
			t.Fatal("a new key under a fixed kid reloaded")
		}
	}
	logs := f.logs.String()
	if n := strings.Count(logs, `"level":"ERROR"`); n != 1 || !strings.Contains(logs, `"variables":"SIGNGATE_ROUTES_0_KEY_FILE, SIGNGATE_ROUTES_0_KEY_ID"`) || !strings.Contains(logs, `"state":"mismatch"`) {
		t.Errorf("%d ERROR lines, want 1 naming both variables:\n%s", n, logs)
	}
	if strings.Contains(logs, "PRIVATE KEY") || strings.Contains(logs, "MII") {
		t.Error("key material in the logs")
	}
	code, b := readyz(t, f.gw)
	if code != http.StatusOK || b.Status != "degraded" || len(b.Keys) != 1 || b.Keys[0] != (struct{ Route, Prefix, State, Kid string }{"media", "/media", "mismatch", "key1"}) {
		t.Errorf("readyz %d %+v, want 200 degraded, media in state mismatch", code, b)
	}
	if m := metricText(t, f.gw); !strings.Contains(m, `signgate_key_state{route="media",state="mismatch"} 1`) {
		t.Errorf("metrics:\n%s", m)
	}
	os.WriteFile(keyFile, pemOf(t, "key1.pem"), 0o600)
	if err := f.gw.Reload(); err != nil {
		t.Fatal(err)
	}
	if code, b := readyz(t, f.gw); code != http.StatusOK || b.Status != "ok" || b.Keys[0].State != "ok" {
		t.Errorf("readyz %d %+v after the old file came back", code, b)
	}
	if !strings.Contains(f.logs.String(), `"key file good again"`) {
		t.Error("the return is not logged")
	}
}

// metricText returns the gateway's /metrics page.
func metricText(t *testing.T, g *Gateway) string {
	t.Helper()
	w := httptest.NewRecorder()
	g.MetricsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	return w.Body.String()
}

// pubs returns the public halves of keys.
func pubs(keys ...*signer.SigningKey) []signer.PublicKey {
	out := make([]signer.PublicKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.Public())
	}
	return out
}

// TestKeyStartWithJWKS: at start-up, a JWKS that contradicts the key
// files is an error naming the variables, and config -check's CheckKeys
// says the same; one that cannot be reached, or does not list the kid
// yet, starts the route unverified (degraded), and a later reload
// confirms it.
func TestKeyStartWithJWKS(t *testing.T) {
	k1, k3 := testKey(t, "key1.pem"), testKey(t, "key3.pem")
	load := func(t *testing.T, jwks *jwksServer) (config.Gateway, error) {
		cfg, err := config.LoadGateway(newFixture(t, nil).environ)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Routes[0].JWKSURL = jwks.URL + "/jwks.json"
		g, err := newFromEnv(cfg, Options{})
		if err == nil {
			defer g.Close()
			if s := keyState(g.routes[0].keyState.Load()); s != keyOK {
				t.Errorf("state %s with the kid listed", s)
			}
		}
		return cfg, err
	}
	t.Run("contradicts", func(t *testing.T) {
		k := *k3
		k.ID = "key1" // key3's public half under key1's kid
		cfg, err := load(t, newJWKSServer(t, k.Public()))
		if err == nil || !strings.Contains(err.Error(), "SIGNGATE_ROUTES_0_KEY_FILE: ") || !strings.Contains(err.Error(), "SIGNGATE_ROUTES_0_JWKS_URL") {
			t.Fatalf("New: %v, want an error naming KEY_FILE and JWKS_URL", err)
		}
		if err := checkKeysEnv(cfg); err == nil || !strings.Contains(err.Error(), "SIGNGATE_ROUTES_0_JWKS_URL lists kid") {
			t.Errorf("CheckKeys: %v", err)
		}
	})
	for _, tc := range []struct {
		name string
		keys []*signer.SigningKey
	}{{"no usable set", nil}, {"kid not listed", []*signer.SigningKey{k3}}} {
		t.Run(tc.name, func(t *testing.T) {
			jwks := newJWKSServer(t, pubs(tc.keys...)...)
			f := newFixture(t, nil)
			cfg, err := config.LoadGateway(f.environ)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Routes[0].JWKSURL = jwks.URL
			if err := checkKeysEnv(cfg); err != nil {
				t.Errorf("CheckKeys: %v, want nil: the gateway starts", err)
			}
			g, err := newFromEnv(cfg, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer g.Close()
			if code, b := readyz(t, g); code != http.StatusOK || b.Status != "degraded" || b.Keys[0].State != "unverified" || b.Keys[0].Kid != "key1" {
				t.Errorf("readyz %d %+v, want degraded, unverified, signing with key1", code, b)
			}
			jwks.set(pubs(k1, k3)...)
			if err := g.Reload(); err != nil {
				t.Fatal(err)
			}
			if code, b := readyz(t, g); code != http.StatusOK || b.Status != "ok" {
				t.Errorf("readyz %d %+v once the JWKS lists the kid", code, b)
			}
		})
	}
	t.Run("listed", func(t *testing.T) {
		if _, err := load(t, newJWKSServer(t, pubs(k1, k3)...)); err != nil {
			t.Fatal(err)
		}
	})
}

// TestKeyPairNeverMismatches is a property over random sequences of
// writes to a key file and a kid file, each followed by a reload: the
// pair in use never changes only one half (without a JWKS), and with a
// JWKS it is always a pair the JWKS lists; a bad file never takes the
// key away.
func TestKeyPairNeverMismatches(t *testing.T) {
	keys := map[string]*signer.SigningKey{"key1": testKey(t, "key1.pem"), "key2": testKey(t, "key2.pem"), "key3": testKey(t, "key3.pem")}
	names := []string{"key1", "key2", "key3"}
	for _, withJWKS := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(7, uint64(len(names))))
		dir := t.TempDir()
		keyFile := copyKey(t, dir, "key1.pem")
		kidFile := filepath.Join(dir, "kid")
		os.WriteFile(kidFile, []byte("key1"), 0o600)
		env := map[string]string{"SIGNGATE_ROUTES_0_KEY_FILE": keyFile, "SIGNGATE_ROUTES_0_KEY_ID": "", "SIGNGATE_ROUTES_0_KEY_ID_FILE": kidFile}
		atCDN := pubs(keys["key1"], keys["key3"]) // key2 is not at the CDN
		jwks := newJWKSServer(t, atCDN...)
		if withJWKS {
			env["SIGNGATE_ROUTES_0_JWKS_URL"] = jwks.URL
		}
		f := newFixture(t, env)
		prev := f.gw.routes[0].key.Load()
		rotations := 0
		for step := range 300 {
			switch rng.IntN(5) {
			case 0, 1:
				os.WriteFile(keyFile, pemOf(t, names[rng.IntN(3)]+".pem"), 0o600)
			case 2, 3:
				os.WriteFile(kidFile, []byte(names[rng.IntN(3)]), 0o600)
			case 4:
				os.WriteFile([]string{keyFile, kidFile}[rng.IntN(2)], []byte("garbage"), 0o600)
			}
			if rng.IntN(8) == 0 {
				jwks.set() // no usable set for this reload
			} else {
				jwks.set(atCDN...)
			}
			f.gw.Reload()
			cur := f.gw.routes[0].key.Load()
			switch {
			case cur == nil:
				t.Fatalf("step %d: no key", step)
			case (cur.ID == prev.ID) != cur.Key.Equal(prev.Key):
				t.Fatalf("step %d: the pair changed one half only: %s -> %s", step, prev.ID, cur.ID)
			case withJWKS && (cur.ID == "key2" || !cur.Key.Equal(keys[cur.ID].Key)):
				t.Fatalf("step %d: in use %s, not a pair the JWKS lists", step, cur.ID)
			}
			if cur != prev {
				rotations++
			}
			prev = cur
		}
		if rotations < 5 {
			t.Errorf("JWKS %v: %d rotations in 300 steps, want some", withJWKS, rotations)
		}
	}
}
