package samples

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/edge"
	"github.com/signgate/signgate/internal/testenv"
	"github.com/signgate/signgate/signer"
)

// dir is docs/samples, from this package's directory.
const dir = "../../docs/samples"

// sample is one program of docs/samples: command returns the argv that
// runs it (before its own arguments), or skips t when its interpreter is
// missing.
type sample struct {
	name    string
	command func(t *testing.T) []string
}

func samples() []sample {
	goBuild := func(pkg string) func(t *testing.T) []string {
		return func(t *testing.T) []string {
			gobin := testenv.Program(t, "go")
			out := filepath.Join(t.TempDir(), filepath.Base(pkg))
			cmd := exec.Command(gobin, "build", "-o", out, "./"+pkg)
			cmd.Dir = dir
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build %s: %v\n%s", pkg, err, b)
			}
			return []string{out}
		}
	}
	return []sample{
		{"python", func(t *testing.T) []string {
			// The first python3 that has PyJWT: the one on PATH, or
			// Debian's, which python3-jwt installs into (a pyenv or venv
			// python3 ahead of it on PATH does not see Debian's modules).
			py := testenv.Program(t, "python3")
			var out []byte
			for _, p := range []string{py, "/usr/bin/python3"} {
				b, err := exec.Command(p, "-c", "import jwt, cryptography").CombinedOutput()
				if err == nil {
					return []string{p, filepath.Join(dir, "python", "sign.py")}
				}
				out = b
			}
			testenv.Missing(t, "the Python module jwt (PyJWT) with cryptography for "+py+" or /usr/bin/python3",
				"Debian: apt-get install python3-jwt python3-cryptography; "+strings.TrimSpace(string(out)))
			return nil
		}},
		{"node", func(t *testing.T) []string {
			node := testenv.Program(t, "node")
			if _, err := os.Stat(filepath.Join(dir, "node", "node_modules", "jsonwebtoken", "package.json")); err != nil {
				testenv.Missing(t, "the npm package jsonwebtoken in docs/samples/node", "run npm ci in docs/samples/node")
			}
			return []string{node, filepath.Join(dir, "node", "sign.js")}
		}},
		{"go-signer", goBuild("go/signer")},
		{"go-golangjwt", goBuild("go/golangjwt")},
		{"shell", func(t *testing.T) []string {
			testenv.Program(t, "openssl")
			return []string{testenv.Program(t, "sh"), filepath.Join(dir, "shell", "sign.sh")}
		}},
	}
}

// TestSamples mints tokens with every sample and presents them to a real
// edge: a token opens what its uri grants (200) and nothing else (403),
// and its times hold; header and payload are the contract's, checked from
// the raw JSON.
func TestSamples(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the samples' end-to-end test in -short mode")
	}
	priv, err := signer.GenerateKey(signer.MinKeyBits)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, signer.EncodePrivateKey(priv), 0o600); err != nil {
		t.Fatal(err)
	}
	kid := uuid.NewString()
	srv := serveBucket(t, kid, priv)

	for _, s := range samples() {
		t.Run(s.name, func(t *testing.T) {
			argv := s.command(t)
			mint := func(uri, ttl string, extra ...string) string {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				args := append(append(slices.Clone(argv[1:]), keyFile, kid, uri, ttl), extra...)
				var stdout, stderr bytes.Buffer
				cmd := exec.CommandContext(ctx, argv[0], args...)
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("%s %s: %v\n%s", s.name, strings.Join(args[len(argv)-1:], " "), err, stderr.String())
				}
				tok := strings.TrimSuffix(stdout.String(), "\n")
				if strings.ContainsAny(tok, " \r\n") || strings.Count(tok, ".") != 2 {
					t.Fatalf("%s printed %q, want one token on one line", s.name, stdout.String())
				}
				return tok
			}

			dirTok := mint("/v/abc", "300", "nbf=0", "user=alice")
			checkShape(t, dirTok, kid, "/v/abc", true, map[string]string{"user": "alice"})
			fileTok := mint("/v/abc/clip.mp4", "300")
			checkShape(t, fileTok, kid, "/v/abc/clip.mp4", false, nil)

			for _, tc := range []struct {
				name, token, path string
				status            int
				reason            string
			}{
				{"directory grant opens a file in it", dirTok, "/v/abc/clip.mp4", 200, ""},
				{"directory grant, deeper", dirTok, "/v/abc/hls/seg0.ts", 200, ""},
				{"directory grant, sibling with the same prefix", dirTok, "/v/abcdef/x.ts", 403, "out_of_scope"},
				{"directory grant, elsewhere", dirTok, "/top.txt", 403, "out_of_scope"},
				{"file grant opens the file", fileTok, "/v/abc/clip.mp4", 200, ""},
				{"file grant, another file beside it", fileTok, "/v/abc/hls/seg0.ts", 403, "out_of_scope"},
				{"not active yet", mint("/v/abc", "7200", "nbf=3600"), "/v/abc/clip.mp4", 403, "token_not_yet_valid"},
				{"expired", mint("/v/abc", "-3600"), "/v/abc/clip.mp4", 403, "token_expired"},
				{"whole bucket", mint("", "60"), "/top.txt", 200, ""},
			} {
				status, reason, body := get(t, srv.URL+tc.path+"?auth="+tc.token)
				if status != tc.status || reason != tc.reason {
					t.Errorf("%s: GET %s: %d %q, want %d %q", tc.name, tc.path, status, reason, tc.status, tc.reason)
				}
				if status == 200 && body != bucketFiles()[strings.TrimPrefix(tc.path, "/")] {
					t.Errorf("%s: GET %s: body %q", tc.name, tc.path, body)
				}
			}
		})
	}
}

// bucketFiles are the bucket's files and their bytes.
func bucketFiles() map[string]string {
	return map[string]string{
		"v/abc/clip.mp4":    "MP4-BYTES",
		"v/abc/hls/seg0.ts": "SEGMENT-0",
		"v/abcdef/x.ts":     "NOT-GRANTED",
		"top.txt":           "TOP",
	}
}

// serveBucket runs a real edge, on the system clock, with one
// authenticated bucket of files that knows the public half of priv as kid.
func serveBucket(t *testing.T, kid string, priv *rsa.PrivateKey) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	media := filepath.Join(root, "media")
	for name, body := range bucketFiles() {
		p := filepath.Join(media, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(root, "edge.db")
	store, err := edge.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	pub := signer.EncodePublicKey(&priv.PublicKey)
	if err := store.CreateKey(ctx, edge.Key{ID: kid, Bucket: "media", PublicKey: pub, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	e, err := edge.New(config.Edge{
		Listen: "127.0.0.1:0", APIListen: config.APIOff, DB: config.Database(db),
		SingleBucket: true,
		Buckets:      []config.Bucket{{Name: "media", Origin: media, Policy: config.PolicyAuthenticated}},
		Leeway:       time.Minute, CacheSize: 1000, Refresh: time.Hour,
	}, edge.Options{Log: slog.New(slog.DiscardHandler), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(func() {
		srv.Close()
		e.Close()
	})
	return srv
}

// get fetches url and returns the status, the edge's refusal reason, and
// the body.
func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("X-Signgate-Reason"), string(b)
}

// checkShape reads tok's header and payload as raw JSON: the header is
// exactly {alg: RS256, kid, typ: JWT}; the payload holds uri (a string),
// exp (an integer), nbf (an integer) when nbf is true, and the custom
// string claims, and nothing else.
func checkShape(t *testing.T, tok, kid, uri string, nbf bool, custom map[string]string) {
	t.Helper()
	parts := strings.Split(tok, ".")
	part := func(i int) map[string]json.RawMessage {
		b, err := base64.RawURLEncoding.Strict().DecodeString(parts[i])
		if err != nil {
			t.Fatalf("token part %d is not canonical base64url: %v", i, err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("token part %d is not a JSON object: %s", i, b)
		}
		return m
	}
	str := func(raw json.RawMessage) (string, bool) {
		var s string
		return s, len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil
	}
	integer := func(raw json.RawMessage) bool {
		var n int64
		return len(raw) > 0 && raw[0] != '"' && json.Unmarshal(raw, &n) == nil
	}

	h := part(0)
	if len(h) != 3 {
		t.Errorf("header has %d fields, want alg, kid, typ: %v", len(h), keys(h))
	}
	for name, want := range map[string]string{"alg": "RS256", "kid": kid, "typ": "JWT"} {
		if got, ok := str(h[name]); !ok || got != want {
			t.Errorf("header %s = %s, want %q", name, h[name], want)
		}
	}

	p := part(1)
	want := []string{"exp", "uri"}
	if got, ok := str(p["uri"]); !ok || got != uri {
		t.Errorf("uri = %s, want %q", p["uri"], uri)
	}
	if !integer(p["exp"]) {
		t.Errorf("exp = %s, want an integer", p["exp"])
	}
	if nbf {
		want = append(want, "nbf")
		if !integer(p["nbf"]) {
			t.Errorf("nbf = %s, want an integer", p["nbf"])
		}
	}
	for name, v := range custom {
		want = append(want, name)
		if got, ok := str(p[name]); !ok || got != v {
			t.Errorf("claim %s = %s, want %q", name, p[name], v)
		}
	}
	slices.Sort(want)
	if got := keys(p); !slices.Equal(got, want) {
		t.Errorf("payload fields %v, want %v", got, want)
	}
}

func keys(m map[string]json.RawMessage) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
