package proxy

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Key rotation under load, through a real gateway and a real verifying
// edge: clients fetch signed redirects and follow them to the edge while
// the key files are replaced, in each of the ways an operator rotates.
// Not one URL may fail, and the new key must be in use afterwards.

// TestRotatePairUnderLoad: KEY_FILE and KEY_ID_FILE replaced one after
// the other, by rename (mv) or in place (cp), either way round: the
// watcher waits for the pair to be quiet, so no URL is signed with the
// new key under the old kid. A second write that comes long after the
// first (after the watcher took the files) finds the half pair refused,
// by its own rule or by the route's JWKS, and the old pair serving.
func TestRotatePairUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name     string
		write    func(*testing.T, string, []byte)
		gap      time.Duration // 0: none; -1: until the half pair is refused
		kidFirst bool
		jwks     bool
		refused  string // the state of the half pair, with gap -1
	}{
		{name: "mv, gap, mv", write: replaceFile, gap: rotationGap},
		{name: "mv kid, gap, mv key", write: replaceFile, gap: rotationGap, kidFirst: true},
		{name: "cp, gap, cp", write: rewriteFile, gap: rotationGap},
		{name: "cp then cp", write: rewriteFile},
		{name: "mv, gap, mv, JWKS checked", write: replaceFile, gap: rotationGap, jwks: true},
		{name: "mv, long gap, mv", write: replaceFile, gap: -1, refused: "mismatch"},
		{name: "mv kid, long gap, mv key", write: replaceFile, gap: -1, kidFirst: true, refused: "mismatch"},
		{name: "mv, long gap, mv, JWKS checked", write: replaceFile, gap: -1, jwks: true, refused: "mismatch"},
		{name: "mv kid, long gap, mv key, JWKS checked", write: replaceFile, gap: -1, kidFirst: true, jwks: true, refused: "mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			media, api := rotationEdge(t)
			dir := t.TempDir()
			keyFile, kidFile := filepath.Join(dir, "media.pem"), filepath.Join(dir, "media.kid")
			os.WriteFile(keyFile, pemOf(t, "key1.pem"), 0o600)
			os.WriteFile(kidFile, []byte("key1\n"), 0o600)
			env := map[string]string{
				"SIGNGATE_ROUTES_0_KEY_FILE":    keyFile,
				"SIGNGATE_ROUTES_0_KEY_ID_FILE": kidFile,
			}
			if tc.jwks {
				env["SIGNGATE_ROUTES_0_JWKS_URL"] = api.URL + "/v1/buckets/" + rotationBucket + "/jwks.json"
			}
			g, srv, f, logs := rotationGateway(t, media.URL, env)
			runRotation(t, g, srv.URL, f.session("alice", nil), func(l *rotationLoad) {
				first := func() { tc.write(t, keyFile, pemOf(t, "key3.pem")) }
				second := func() { tc.write(t, kidFile, []byte("key3\n")) }
				if tc.kidFirst {
					first, second = second, first
				}
				first()
				switch {
				case tc.gap > 0:
					<-time.After(tc.gap)
				case tc.gap < 0:
					untilRefused(t, g, l, tc.refused)
				}
				second()
			})
			wantErrors := 0
			if tc.refused != "" {
				wantErrors = 1
			}
			if n := errorLines(logs); n != wantErrors {
				t.Errorf("%d ERROR lines, want %d:\n%s", n, wantErrors, logs)
			}
			if tc.refused != "" && !strings.Contains(logs.String(), `"variables":"SIGNGATE_ROUTES_0_KEY_`) {
				t.Errorf("the refusal does not name the variables:\n%s", logs)
			}
		})
	}
}

// TestRotateKubernetesSecretUnderLoad: a Kubernetes secret volume swaps
// its "..data" link to a new directory holding both files at once.
func TestRotateKubernetesSecretUnderLoad(t *testing.T) {
	media, _ := rotationEdge(t)
	dir := t.TempDir()
	version := func(name, key, kid string) {
		d := filepath.Join(dir, name)
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "media.pem"), pemOf(t, key), 0o600)
		os.WriteFile(filepath.Join(d, "media.kid"), []byte(kid+"\n"), 0o600)
	}
	version("..2026_01_01", "key1.pem", "key1")
	if err := os.Symlink("..2026_01_01", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"media.pem", "media.kid"} {
		if err := os.Symlink(filepath.Join("..data", f), filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	g, srv, f, _ := rotationGateway(t, media.URL, map[string]string{
		"SIGNGATE_ROUTES_0_KEY_FILE":    filepath.Join(dir, "media.pem"),
		"SIGNGATE_ROUTES_0_KEY_ID_FILE": filepath.Join(dir, "media.kid"),
	})
	runRotation(t, g, srv.URL, f.session("alice", nil), func(*rotationLoad) {
		// As the kubelet's atomic writer does: a new directory, a new
		// link beside ..data, renamed over it, the old directory gone.
		version("..2026_02_02", "key3.pem", "key3")
		tmp := filepath.Join(dir, "..data_tmp")
		if err := os.Symlink("..2026_02_02", tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Join(dir, "..2026_01_01")); err != nil {
			t.Fatal(err)
		}
	})
}

// TestRotateJSONFileUnderLoad: KEY_JSON_FILE replaced in one write,
// atomically (mv) or in place (cp), with or without the JWKS check.
func TestRotateJSONFileUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(*testing.T, string, []byte)
		jwks  bool
	}{
		{"mv", replaceFile, false},
		{"cp", rewriteFile, false},
		{"mv, JWKS checked", replaceFile, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			media, api := rotationEdge(t)
			keyFile := filepath.Join(t.TempDir(), "media.json")
			os.WriteFile(keyFile, keyJSONOf(t, "key1.pem"), 0o600)
			env := map[string]string{"SIGNGATE_ROUTES_0_KEY_JSON_FILE": keyFile}
			if tc.jwks {
				env["SIGNGATE_ROUTES_0_JWKS_URL"] = api.URL + "/v1/buckets/" + rotationBucket + "/jwks.json"
			}
			g, srv, f, logs := rotationGateway(t, media.URL, env)
			runRotation(t, g, srv.URL, f.session("alice", nil), func(*rotationLoad) {
				tc.write(t, keyFile, keyJSONOf(t, "key3.pem"))
			})
			if n := errorLines(logs); n != 0 {
				t.Errorf("%d ERROR lines for a clean rotation:\n%s", n, logs)
			}
		})
	}
}

// TestRotateWithJWKSDownUnderLoad: a pair rotated while the route's JWKS
// is down, or hangs, stays unverified (the old pair serving, /readyz
// degraded, one ERROR); once the JWKS answers again, the retry takes the
// new pair.
func TestRotateWithJWKSDownUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode int32
	}{{"503", 1}, {"hung", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			media, api := rotationEdge(t)
			sw := &switchable{h: api.Config.Handler, done: make(chan struct{})}
			jwks := httptest.NewServer(sw)
			t.Cleanup(jwks.Close)
			t.Cleanup(func() { close(sw.done) })
			dir := t.TempDir()
			keyFile, kidFile := filepath.Join(dir, "media.pem"), filepath.Join(dir, "media.kid")
			os.WriteFile(keyFile, pemOf(t, "key1.pem"), 0o600)
			os.WriteFile(kidFile, []byte("key1\n"), 0o600)
			g, srv, f, logs := rotationGateway(t, media.URL, map[string]string{
				"SIGNGATE_ROUTES_0_KEY_FILE":     keyFile,
				"SIGNGATE_ROUTES_0_KEY_ID_FILE":  kidFile,
				"SIGNGATE_ROUTES_0_JWKS_URL":     jwks.URL + "/v1/buckets/" + rotationBucket + "/jwks.json",
				"SIGNGATE_ROUTES_0_JWKS_TIMEOUT": "200ms",
			})
			runRotation(t, g, srv.URL, f.session("alice", nil), func(l *rotationLoad) {
				sw.mode.Store(tc.mode)
				replaceFile(t, keyFile, pemOf(t, "key3.pem"))
				replaceFile(t, kidFile, []byte("key3\n"))
				untilRefused(t, g, l, "unverified")
				sw.mode.Store(0)
			})
			if n := errorLines(logs); n != 1 || !strings.Contains(logs.String(), `"variables":"SIGNGATE_ROUTES_0_KEY_FILE, SIGNGATE_ROUTES_0_KEY_ID_FILE, SIGNGATE_ROUTES_0_JWKS_URL"`) {
				t.Errorf("%d ERROR lines, want 1 naming the variables:\n%s", n, logs)
			}
		})
	}
}
