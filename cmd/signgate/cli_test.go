package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// runCLI runs the program with args and an empty environment and returns
// its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCLIEnv(t, map[string]string{}, args...)
}

// runCLIEnv runs the program with args and environ, bounded in time.
func runCLIEnv(t *testing.T, environ map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	err := run(ctx, args, environ, strings.NewReader(""), &out, &errb)
	return exitCode(err, &errb), out.String(), errb.String()
}

// testKeyFile is the signer package's throwaway test key.
const testKeyFile = "../../signer/testdata/rsa2048.pem"

func TestUsage(t *testing.T) {
	code, _, stderr := runCLI(t, "frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) || !strings.Contains(stderr, "Commands:") {
		t.Errorf("unknown command: exit %d, stderr %q", code, stderr)
	}
	if code, _, _ := runCLI(t); code != 2 {
		t.Errorf("no command: exit %d, want 2", code)
	}
	for name := range commands() {
		t.Run(name+" -h", func(t *testing.T) {
			code, stdout, stderr := runCLI(t, name, "-h")
			if code != 0 || !strings.Contains(stdout+stderr, "Usage: signgate "+name) {
				t.Errorf("exit %d, output %q", code, stdout+stderr)
			}
		})
	}
	if code, _, stderr := runCLI(t, "sign", "--bogus"); code != 2 || !strings.Contains(stderr, "bogus") {
		t.Errorf("bad flag: exit %d, stderr %q", code, stderr)
	}
	for _, v := range []string{"version", "--version", "-version", "-v"} {
		if code, stdout, _ := runCLI(t, v); code != 0 || !strings.HasPrefix(stdout, "signgate ") {
			t.Errorf("%s: exit %d, stdout %q", v, code, stdout)
		}
	}
}

func TestKeygenSignVerify(t *testing.T) {
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "k.pem")
	code, out, stderr := runCLI(t, "keygen", "--out", keyPath)
	if code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, stderr)
	}
	st, err := os.Stat(keyPath)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v", err, st.Mode())
	}
	kid := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(out, "\n", 2)[0], "kid:"))
	if len(kid) != 32 || !strings.Contains(out, "BEGIN PUBLIC KEY") || !strings.Contains(out, `"kty": "RSA"`) {
		t.Fatalf("keygen output: %s", out)
	}
	pemBytes, _ := os.ReadFile(keyPath)
	if !bytes.HasPrefix(pemBytes, []byte("-----BEGIN RSA PRIVATE KEY-----")) {
		t.Fatalf("key is not PKCS#1 PEM")
	}
	if code, _, stderr := runCLI(t, "keygen", "--out", keyPath); code != 1 || !strings.Contains(stderr, "not overwriting") {
		t.Errorf("second keygen: exit %d, %s", code, stderr)
	}
	if after, _ := os.ReadFile(keyPath); !bytes.Equal(after, pemBytes) {
		t.Error("keygen overwrote the key")
	}

	code, out, stderr = runCLI(t, "sign", "--key", keyPath, "--kid", kid, "--scope", "dir", "--claim", "user=ann",
		"https://bkt.media-storage.eu-central.qencode.com/v/a%20b/x.ts?x=1&auth=old")
	if code != 0 {
		t.Fatalf("sign: exit %d: %s", code, stderr)
	}
	signed := strings.TrimSpace(out)
	if !strings.HasPrefix(signed, "https://bkt.media-storage.eu-central.qencode.com/v/a%20b/x.ts?x=1&auth=ey") || strings.Contains(signed, "old") {
		t.Fatalf("signed URL = %s", signed)
	}
	tok := signed[strings.Index(signed, "auth=")+5:]

	code, out, _ = runCLI(t, "verify", "--key", keyPath, "--kid", kid, signed)
	if code != 0 || !strings.HasPrefix(out, "valid\n") || !strings.Contains(out, `"uri": "/v/a b"`) || !strings.Contains(out, `"user": "ann"`) {
		t.Fatalf("verify: exit %d: %s", code, out)
	}
	// The same token on a path outside its directory.
	other := strings.Replace(signed, "/v/a%20b/", "/v/other/", 1)
	code, out, _ = runCLI(t, "verify", "--key", keyPath, other)
	if code != 1 || !strings.HasPrefix(out, "invalid: out_of_scope") {
		t.Fatalf("verify other path: exit %d: %s", code, out)
	}
	if strings.Contains(out, tok) {
		t.Error("verify printed the token")
	}

	// --token-only, then the same token through a JWKS served over HTTP.
	code, out, _ = runCLI(t, "sign", "--key", keyPath, "--kid", kid, "--token-only", "--uri", "", "/any.mp4")
	if code != 0 || strings.Count(out, ".") != 2 {
		t.Fatalf("token-only: exit %d: %q", code, out)
	}
	priv, _ := signer.ParsePrivateKey(pemBytes)
	jwks, _ := json.Marshal(signer.NewJWKSet(signer.PublicKey{ID: kid, Key: &priv.PublicKey}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(jwks) }))
	defer srv.Close()
	code, out, _ = runCLI(t, "verify", "--jwks", srv.URL, "https://cdn.example.com/x/y.mp4?auth="+strings.TrimSpace(out))
	if code != 0 {
		t.Fatalf("verify --jwks: exit %d: %s", code, out)
	}
}

func TestSignErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a key"), 0o600)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no key", []string{"sign", "/x"}, 2, "--key and --kid are required"},
		{"no path", []string{"sign", "--key", testKeyFile, "--kid", "k"}, 2, "want exactly one"},
		{"bad key", []string{"sign", "--key", garbage, "--kid", "k", "/x"}, 1, "no PEM block"},
		{"missing key file", []string{"sign", "--key", filepath.Join(dir, "nope.pem"), "--kid", "k", "/x"}, 1, "no such file"},
		{"bad path", []string{"sign", "--key", testKeyFile, "--kid", "k", "/v/../x"}, 1, "dot segment"},
		{"ttl and exp", []string{"sign", "--key", testKeyFile, "--kid", "k", "--ttl", "1m", "--exp", "1800000000", "/x"}, 2, "not both"},
		{"bad scope", []string{"sign", "--key", testKeyFile, "--kid", "k", "--scope", "folder", "/x"}, 2, "folder"},
		{"bad exp", []string{"sign", "--key", testKeyFile, "--kid", "k", "--exp", "tomorrow", "/x"}, 2, "tomorrow"},
		{"reserved claim", []string{"sign", "--key", testKeyFile, "--kid", "k", "--claim", "exp=1", "/x"}, 2, "--exp"},
		{"bad base", []string{"sign", "--key", testKeyFile, "--kid", "k", "--base", "ftp://x", "/x"}, 2, "scheme"},
		{"uri with ..", []string{"sign", "--key", testKeyFile, "--kid", "k", "--uri", "/v/../x", "/x"}, 2, "grants nothing"},
		{"uri with an empty segment", []string{"sign", "--key", testKeyFile, "--kid", "k", "--uri", "//v", "/v/x"}, 2, "grants nothing"},
		{"uri with .", []string{"sign", "--key", testKeyFile, "--kid", "k", "--uri", "v/./x", "/v/x"}, 2, "grants nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d with %q", code, stderr, tt.code, tt.want)
			}
			if strings.Contains(stderr, "PRIVATE KEY") {
				t.Error("key material in the error")
			}
		})
	}
}

func TestVerifyReasons(t *testing.T) {
	code, out, _ := runCLI(t, "verify", "--key", testKeyFile, "https://cdn.example.com/x.mp4")
	if code != 1 || !strings.HasPrefix(out, "invalid: token_missing") {
		t.Errorf("no token: exit %d: %s", code, out)
	}
	code, out, _ = runCLI(t, "sign", "--key", testKeyFile, "--kid", "k", "--exp", "1000000000", "/x.mp4")
	if code != 0 {
		t.Fatal(out)
	}
	code, out, _ = runCLI(t, "verify", "--key", testKeyFile, "https://cdn.example.com"+strings.TrimSpace(out))
	if code != 1 || !strings.HasPrefix(out, "invalid: token_expired") {
		t.Errorf("expired: exit %d: %s", code, out)
	}
	if code, _, stderr := runCLI(t, "verify", "--key", testKeyFile, "--jwks", "x", "u"); code != 2 || !strings.Contains(stderr, "one of --key or --jwks") {
		t.Errorf("both sources: exit %d: %s", code, stderr)
	}
}

// A URL that does not parse is refused without being quoted back: its
// query may hold a token.
func TestBadURLNeverShowsToken(t *testing.T) {
	const secret = "eyJSECRETTOKEN"
	for _, u := range []string{
		"https://cdn.example.com:99999x/x.mp4?auth=" + secret,
		"https://cdn.example.com/x\x01.mp4?auth=" + secret,
	} {
		for _, args := range [][]string{
			{"verify", "--key", testKeyFile, u},
			{"sign", "--key", testKeyFile, "--kid", "k", u},
		} {
			t.Run(args[0]+" "+strings.ReplaceAll(u, "\x01", `\x01`), func(t *testing.T) {
				code, stdout, stderr := runCLI(t, args...)
				if code != 2 || !strings.Contains(stderr, "not a URL") {
					t.Errorf("exit %d, stderr %q", code, stderr)
				}
				if strings.Contains(stdout+stderr, secret) {
					t.Errorf("the token was printed: %q", stdout+stderr)
				}
			})
		}
	}
}

// verify reads the token as the edge does: an unrelated badly escaped
// parameter does not matter, two auth parameters are refused, a token
// spelled with CR/LF (the strict parse) is refused, and
// --bucket, which a JWK Set cannot satisfy, goes with --key only.
func TestVerifyReadsTokenAsEdge(t *testing.T) {
	code, out, stderr := runCLI(t, "sign", "--key", testKeyFile, "--kid", "k", "--uri", "", "--token-only", "/x.mp4")
	if code != 0 {
		t.Fatal(stderr)
	}
	tok := strings.TrimSpace(out)
	for _, tc := range []struct {
		name, url string
		code      int
		out       string
	}{
		{"bad unrelated parameter", "https://cdn.example.com/x.mp4?x=%zz&auth=" + tok, 0, "valid\n"},
		{"two auth parameters", "https://cdn.example.com/x.mp4?auth=" + tok + "&auth=" + tok, 1, "invalid: token_malformed"},
		{"escaped name twice", "https://cdn.example.com/x.mp4?auth=" + tok + "&%61uth=x", 1, "invalid: token_malformed"},
		{"CR LF in the signature", "https://cdn.example.com/x.mp4?auth=" + tok[:len(tok)-8] + "%0D%0A" + tok[len(tok)-8:], 1, "invalid: token_malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, "verify", "--key", testKeyFile, tc.url)
			if code != tc.code || !strings.HasPrefix(out, tc.out) {
				t.Errorf("exit %d, out %q, stderr %q; want exit %d, %q", code, out, stderr, tc.code, tc.out)
			}
			if strings.Contains(out+stderr, tok) {
				t.Error("verify printed the token")
			}
		})
	}
	code, _, stderr = runCLI(t, "verify", "--jwks", "keys.json", "--bucket", "media", "https://cdn.example.com/x.mp4?auth="+tok)
	if code != 2 || !strings.Contains(stderr, "--bucket goes with --key") {
		t.Errorf("--jwks with --bucket: exit %d, %q", code, stderr)
	}
}

// sign's defaults and the --uri forms that do grant something.
func TestSignTTLAndURI(t *testing.T) {
	pemBytes, err := os.ReadFile(testKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := signer.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	v := signer.NewVerifier(signer.NewKeys(signer.PublicKey{ID: "k", Key: &priv.PublicKey}))
	for _, tc := range []struct{ uri, path string }{
		{"", "/x"}, {"/", "/x"}, {"v", "/v/x"}, {"/v/", "/v/x"}, {"/v/a b", "/v/a b/x"}, {"/v/100%", "/v/100%/x"},
	} {
		before := time.Now()
		code, out, stderr := runCLI(t, "sign", "--key", testKeyFile, "--kid", "k", "--token-only", "--uri", tc.uri, "/x")
		if code != 0 {
			t.Fatalf("--uri %q: exit %d: %s", tc.uri, code, stderr)
		}
		c, err := v.Verify(strings.TrimSpace(out), tc.path)
		if err != nil {
			t.Fatalf("--uri %q on %s: %v", tc.uri, tc.path, err)
		}
		if c.URI != tc.uri {
			t.Errorf("uri claim %q, want %q", c.URI, tc.uri)
		}
		// The default lifetime is 10 minutes.
		if d := c.Expires.Sub(before.Truncate(time.Second)); d < 10*time.Minute || d > 10*time.Minute+2*time.Second {
			t.Errorf("default exp is %s ahead, want 10m", d)
		}
	}
}
