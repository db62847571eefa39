package edge

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// fuzzEdge is an edge over the test files, with a secret file next to the
// bucket directory and a link to it inside.
func fuzzEdge(f *testing.F, policy string) (*Edge, string) {
	root := f.TempDir()
	cfg := baseConfig(f, root)
	cfg.APIListen = config.APIOff
	cfg.Buckets[0].Policy = policy
	writeFile(f, filepath.Join(root, "secret.txt"), "SECRET")
	if err := os.Symlink(filepath.Join(root, "secret.txt"), filepath.Join(cfg.Buckets[0].Origin, "link.txt")); err != nil {
		f.Fatal(err)
	}
	e, err := New(cfg, Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { e.Close() })
	return e, cfg.Buckets[0].Origin
}

// FuzzServePath: whatever the path, nothing outside the bucket is served,
// a 200 is exactly the file the canonical path names, and nothing fails
// with a 5xx.
func FuzzServePath(f *testing.F) {
	e, dir := fuzzEdge(f, "public")
	h := e.Handler()
	for _, s := range []string{
		"/v/abc/seg0.ts", "/../secret.txt", "/%2e%2e/secret.txt", "/link.txt", "/v/abc/%2e%2e/%2e%2e/secret.txt",
		"/v//abc", "/v/abc/seg%30.ts", "/a%00b", "/..%2f..%2fsecret.txt", "/v/abc/", "/top.txt", "/%5c..%5csecret.txt",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.Parse("http://" + mediaHost + raw)
		if err != nil || u.Host != mediaHost || u.Opaque != "" {
			t.Skip()
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL, r.Host = u, mediaHost
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		body := w.Body.String()
		if strings.Contains(body, "SECRET") {
			t.Fatalf("%q served the secret", raw)
		}
		switch w.Code {
		case http.StatusOK:
			p, err := signer.CanonicalPath(u.EscapedPath())
			if err != nil {
				t.Fatalf("%q: 200 for a path that is not canonical: %v", raw, err)
			}
			want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
			if err != nil || string(want) != body {
				t.Fatalf("%q: served %q, the file %s holds %q (%v)", raw, body, p, want, err)
			}
		case http.StatusBadRequest, http.StatusNotFound:
		default:
			t.Fatalf("%q: status %d", raw, w.Code)
		}
	})
}

// FuzzCheck: arbitrary tokens never verify, and every refusal carries one
// of signer's reasons.
func FuzzCheck(f *testing.F) {
	e, _ := fuzzEdge(f, "authenticated")
	k := testKey(f, "key1.pem")
	k.ID, k.Bucket = "k1", "media"
	if err := e.store.CreateKey(f.Context(), Key{ID: "k1", Bucket: "media", PublicKey: signer.EncodePublicKey(&k.Key.PublicKey)}); err != nil {
		f.Fatal(err)
	}
	if err := e.Refresh(f.Context()); err != nil {
		f.Fatal(err)
	}
	valid, err := k.Sign(signer.Claims{})
	if err != nil {
		f.Fatal(err)
	}
	b := e.byName["media"]
	if err := e.check(e.snap.Load(), b, valid, "/x"); err != nil {
		f.Fatalf("the valid token fails: %v", err)
	}
	for _, i := range []int{5, len(valid) / 2, len(valid) - 3} {
		flipped := []byte(valid)
		flipped[i] ^= 0x01
		f.Add(string(flipped))
	}
	f.Add("")
	f.Add("a.b.c")
	f.Add(valid[:strings.LastIndexByte(valid, '.')+1])
	f.Add("eyJhbGciOiJub25lIiwia2lkIjoiazEifQ.eyJ1cmkiOiIifQ.")
	f.Fuzz(func(t *testing.T, tok string) {
		if tok == valid {
			t.Skip()
		}
		err := e.check(e.snap.Load(), b, tok, "/x")
		if err == nil {
			t.Fatalf("%q verified", tok)
		}
		if r := signer.Reason(err); r == "invalid_token" || r == "" {
			t.Fatalf("%q: refusal without a reason: %v", tok, err)
		}
		if tok != "" && len(tok) > 8 && strings.Contains(err.Error(), tok) {
			t.Fatalf("the error quotes the token")
		}
		if errors.Is(err, signer.ErrMissing) && tok != "" {
			t.Fatalf("%q reported missing", tok)
		}
	})
}
