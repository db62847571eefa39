package proxy

import (
	"encoding/base64"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

func TestKeyReload(t *testing.T) {
	dir := t.TempDir()
	keyFile := copyKey(t, dir, "key1.pem")
	f := newFixture(t, map[string]string{"SIGNGATE_ROUTES_0_KEY_FILE": keyFile})
	tok := f.session("alice", nil)
	get := func() string {
		resp := f.do("GET", "/media/x.mp4", bearer(tok))
		if resp.StatusCode != 302 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return resp.Header.Get("Location")
	}
	first := get()

	if err := f.gw.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := get(); got != first || f.gw.Cache().Stats().Signatures != 1 {
		t.Errorf("an unchanged key file must keep the key and its cached tokens")
	}

	for _, bad := range []string{"", "not a key", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"} {
		os.WriteFile(keyFile, []byte(bad), 0o600)
		err := f.gw.Reload()
		if err == nil || !strings.Contains(err.Error(), "route 0") {
			t.Errorf("bad key file %q: Reload error %v", bad, err)
		}
		if got := get(); got != first {
			t.Errorf("a bad key file replaced the key")
		}
	}
	if !strings.Contains(f.logs.String(), "keeping the previous key") {
		t.Errorf("a failed reload is not logged")
	}
	if strings.Contains(f.logs.String(), "PRIVATE KEY") {
		t.Errorf("key material in the logs")
	}
	if resp := f.do("GET", "/readyz", nil); resp.StatusCode != 200 {
		t.Errorf("readyz %d after a failed reload with the old key kept", resp.StatusCode)
	}

	// A new key under the kid fixed by KEY_ID: refused, the old key
	// kept. Every URL signed with it would fail at the edge.
	data, _ := os.ReadFile(filepath.Join("testdata", "key3.pem"))
	os.WriteFile(keyFile, data, 0o600)
	err := f.gw.Reload()
	if err == nil || !strings.Contains(err.Error(), "SIGNGATE_ROUTES_0_KEY_FILE") || !strings.Contains(err.Error(), "SIGNGATE_ROUTES_0_KEY_ID ") {
		t.Fatalf("a new key under a fixed kid: Reload error %v, want one naming both variables", err)
	}
	if got := get(); got != first {
		t.Error("a new key under a fixed kid replaced the old one")
	}
	if s := keyState(f.gw.routes[0].keyState.Load()); s != keyMismatch {
		t.Errorf("key state %s, want mismatch", s)
	}
}

// TestKeyIDFileRotation: with KEY_ID_FILE, a new key with a new kid
// rotates on reload without a restart; a bad kid file keeps the old pair.
func TestKeyIDFileRotation(t *testing.T) {
	dir := t.TempDir()
	keyFile := copyKey(t, dir, "key1.pem")
	kidFile := filepath.Join(dir, "kid")
	os.WriteFile(kidFile, []byte("key1\n"), 0o600)
	f := newFixture(t, map[string]string{
		"SIGNGATE_ROUTES_0_KEY_FILE":    keyFile,
		"SIGNGATE_ROUTES_0_KEY_ID":      "",
		"SIGNGATE_ROUTES_0_KEY_ID_FILE": kidFile,
	})
	tok := f.session("alice", nil)
	kidOf := func() string {
		t.Helper()
		resp := f.do("GET", "/media/x.mp4", bearer(tok))
		loc := location(t, resp)
		v := signer.NewVerifier(signer.NewKeys(
			signer.PublicKey{ID: "key1", Key: &testKey(t, "key1.pem").Key.PublicKey},
			signer.PublicKey{ID: "key3", Key: &testKey(t, "key3.pem").Key.PublicKey}))
		v.Now = f.clock.Now
		if _, err := v.Verify(loc.Query().Get("auth"), "/media/x.mp4"); err != nil {
			t.Fatalf("token does not verify: %v", err)
		}
		parts := strings.Split(loc.Query().Get("auth"), ".")
		h, _ := base64.RawURLEncoding.DecodeString(parts[0])
		return string(h)
	}
	if h := kidOf(); !strings.Contains(h, `"kid":"key1"`) {
		t.Fatalf("header %s, want kid key1", h)
	}
	data, _ := os.ReadFile(filepath.Join("testdata", "key3.pem"))
	os.WriteFile(keyFile, data, 0o600)
	os.WriteFile(kidFile, []byte("key3"), 0o600)
	if err := f.gw.Reload(); err != nil {
		t.Fatal(err)
	}
	if h := kidOf(); !strings.Contains(h, `"kid":"key3"`) {
		t.Fatalf("after rotation, header %s, want kid key3", h)
	}
	for _, bad := range []string{"", "two words", strings.Repeat("k", 300)} {
		os.WriteFile(kidFile, []byte(bad), 0o600)
		if err := f.gw.Reload(); err == nil || !strings.Contains(err.Error(), "key id file") {
			t.Errorf("kid file %q: Reload error %v", bad, err)
		}
		if h := kidOf(); !strings.Contains(h, `"kid":"key3"`) {
			t.Errorf("a bad kid file replaced the key: %s", h)
		}
	}
}

// TestKeyErrorsNameTheirVariable: a key that does not load at start-up
// names the variable of the file at fault.
func TestKeyErrorsNameTheirVariable(t *testing.T) {
	dir := t.TempDir()
	keyFile := copyKey(t, dir, "key1.pem")
	kidFile := filepath.Join(dir, "kid")
	os.WriteFile(kidFile, []byte("two words"), 0o600)
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a key"), 0o600)
	for _, tc := range []struct {
		name             string
		keyFile, kidFile string
		want, notWant    string
	}{
		{"missing key file", filepath.Join(dir, "none.pem"), "", "SIGNGATE_ROUTES_0_KEY_FILE: ", "KEY_ID_FILE"},
		{"bad key file", garbage, "", "SIGNGATE_ROUTES_0_KEY_FILE: ", "KEY_ID_FILE"},
		{"missing kid file", keyFile, filepath.Join(dir, "nokid"), "SIGNGATE_ROUTES_0_KEY_ID_FILE: ", "KEY_FILE:"},
		{"bad kid file", keyFile, kidFile, "SIGNGATE_ROUTES_0_KEY_ID_FILE: ", "KEY_FILE:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{
				"SIGNGATE_UPSTREAM":          "http://127.0.0.1:1",
				"SIGNGATE_AUTH":              "jwt",
				"SIGNGATE_JWT_SECRET":        hmacSecret,
				"SIGNGATE_WATCH_KEYS":        "false",
				"SIGNGATE_ROUTES_0_PREFIX":   "/media",
				"SIGNGATE_ROUTES_0_CDN_BASE": "https://cdn.example.com",
				"SIGNGATE_ROUTES_0_KEY_FILE": tc.keyFile,
			}
			if tc.kidFile != "" {
				env["SIGNGATE_ROUTES_0_KEY_ID_FILE"] = tc.kidFile
			} else {
				env["SIGNGATE_ROUTES_0_KEY_ID"] = "key1"
			}
			cfg, err := config.LoadGateway(env)
			if err != nil {
				t.Fatal(err)
			}
			g, err := newFromEnv(cfg, Options{})
			if err == nil {
				g.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), tc.notWant) {
				t.Errorf("error %q, want it to name %s only", err, strings.TrimSuffix(tc.want, ": "))
			}
		})
	}
}

func TestKeyFileWatch(t *testing.T) {
	dir := t.TempDir()
	keyFile := copyKey(t, dir, "key1.pem")
	kidFile := filepath.Join(dir, "kid")
	os.WriteFile(kidFile, []byte("key1\n"), 0o600)
	reloaded := make(chan struct{}, 64)
	cfg := func() config.Gateway {
		f := newFixture(t, map[string]string{
			"SIGNGATE_ROUTES_0_KEY_FILE":    keyFile,
			"SIGNGATE_ROUTES_0_KEY_ID":      "",
			"SIGNGATE_ROUTES_0_KEY_ID_FILE": kidFile,
		})
		c, err := config.LoadGateway(f.environ)
		if err != nil {
			t.Fatal(err)
		}
		c.WatchKeys = true
		return c
	}()
	g, err := newFromEnv(cfg, Options{Reloaded: func() { reloaded <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	// Replace both files atomically, as a secret mount or an editor does.
	for _, c := range []struct{ file, data string }{{kidFile, "key3\n"}, {keyFile, ""}} {
		data := []byte(c.data)
		if c.data == "" {
			data, _ = os.ReadFile(filepath.Join("testdata", "key3.pem"))
		}
		tmp := filepath.Join(dir, ".new")
		os.WriteFile(tmp, data, 0o600)
		if err := os.Rename(tmp, c.file); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.After(10 * time.Second)
	for k := g.routes[0].key.Load(); k.ID != "key3" || !k.Key.Equal(testKey(t, "key3.pem").Key); k = g.routes[0].key.Load() {
		select {
		case <-reloaded:
		case <-deadline:
			t.Fatal("the key files changed and no reload took them")
		}
	}
}

// TestKeyWatchIsCalm: with the key file deleted, a busy file beside it
// (a log, say) costs no reload and no log line; the missing key is logged
// once, and the old key serves on until the file is back.
func TestKeyWatchIsCalm(t *testing.T) {
	dir := t.TempDir()
	keyFile := copyKey(t, dir, "key1.pem")
	reloaded := make(chan struct{}, 1024)
	f := newFixture(t, map[string]string{"SIGNGATE_ROUTES_0_KEY_FILE": keyFile})
	cfg, err := config.LoadGateway(f.environ)
	if err != nil {
		t.Fatal(err)
	}
	cfg.WatchKeys = true
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	g, err := newFromEnv(cfg, Options{
		Log:      slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Registry: reg,
		Reloaded: func() { reloaded <- struct{}{} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	key := g.routes[0].key.Load()
	wait := func(what string) {
		t.Helper()
		select {
		case <-reloaded:
		case <-time.After(10 * time.Second):
			t.Fatalf("no reload after %s", what)
		}
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	wait("the key file was removed")
	busy := filepath.Join(dir, "gateway.log")
	for i := range 2000 {
		if err := os.WriteFile(busy, []byte(strconv.Itoa(i)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The key comes back, renamed into place: the watcher has seen every
	// write before this.
	data, err := os.ReadFile(filepath.Join("testdata", "key1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "new.tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, keyFile); err != nil {
		t.Fatal(err)
	}
	for g.keysBad() {
		wait("the key file came back")
	}
	if g.routes[0].key.Load() != key {
		t.Error("the key changed, though the same file came back")
	}
	failed := strings.Count(logs.String(), `"key reload failed`)
	if failed != 1 {
		t.Errorf("%d ERROR lines for one missing file, want 1:\n%s", failed, logs)
	}
	if !strings.Contains(logs.String(), `"key file good again"`) {
		t.Errorf("the file's return is not logged:\n%s", logs)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var attempts float64
	state := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "signgate_key_reloads_total":
				attempts += m.GetCounter().GetValue()
			case "signgate_key_state":
				state[m.GetLabel()[1].GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	// The removal, the return, and at most a few timed retries between:
	// never one per write of the busy file.
	if attempts > 10 {
		t.Errorf("%v reload attempts for 2000 writes beside the key, want a handful", attempts)
	}
	if state["ok"] != 1 || state["missing"] != 0 {
		t.Errorf("signgate_key_state %v, want ok", state)
	}
}
