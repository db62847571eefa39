package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sign --scheme and verify --scheme round-trip for the schemes that
// verify with a public key: cloudfront (ECDSA and RSA keys) and ed25519;
// a changed path or the wrong key fails with its reason. s3 signs.
func TestSchemeSignVerify(t *testing.T) {
	ec := filepath.Join("..", "..", "signer", "testdata", "ec.pem")
	ed := filepath.Join("..", "..", "signer", "testdata", "ed25519.pem")
	for _, tc := range []struct {
		scheme, key, kid, url string
		extra                 []string
	}{
		{"cloudfront", ec, "KX", "https://d1.cloudfront.net/v/abc/a.ts", []string{"--scope", "dir"}},
		{"cloudfront", testKeyFile, "KX", "https://d1.cloudfront.net/v/a b.mp4", []string{"--opt", "CLOUDFRONT_HASH=sha256"}},
		{"ed25519", ed, "ed1", "https://cdn.example.com/v/abc/a.ts", []string{"--scope", "dir"}},
	} {
		args := append([]string{"sign", "--scheme", tc.scheme, "--key", tc.key, "--kid", tc.kid}, tc.extra...)
		code, out, stderr := runCLI(t, append(args, tc.url)...)
		if code != 0 {
			t.Fatalf("%s sign: exit %d: %s", tc.scheme, code, stderr)
		}
		signed := strings.TrimSpace(out)
		code, out, stderr = runCLI(t, "verify", "--scheme", tc.scheme, "--key", tc.key, "--kid", tc.kid, signed)
		if code != 0 || !strings.HasPrefix(out, "valid") {
			t.Errorf("%s verify: exit %d: %s %s", tc.scheme, code, out, stderr)
		}
		moved := strings.Replace(signed, "/v/", "/w/", 1)
		code, out, _ = runCLI(t, "verify", "--scheme", tc.scheme, "--key", tc.key, "--kid", tc.kid, moved)
		if code != 1 || !strings.HasPrefix(out, "invalid: out_of_scope") && !strings.HasPrefix(out, "invalid: bad_signature") {
			t.Errorf("%s verify of another path: exit %d: %s", tc.scheme, code, out)
		}
	}
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("wJalrXUtnFEMI/K7MDENG\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := runCLI(t, "sign", "--scheme", "s3", "--key", secret, "--kid", "AK", "--opt", "S3_BUCKET=media", "http://127.0.0.1:9000/media/v/a.mp4")
	if code != 0 || !strings.Contains(out, "X-Amz-Signature=") || strings.Contains(out+stderr, "wJalr") {
		t.Errorf("s3 sign: exit %d: %s %s", code, out, stderr)
	}
	code, _, stderr = runCLI(t, "sign", "--scheme", "s3", "--key", secret, "--kid", "AK", "--opt", "S3_BUCKET=media", "--scope", "dir", "http://127.0.0.1:9000/media/v/a.mp4")
	if code != 2 || !strings.Contains(stderr, "SCOPE") {
		t.Errorf("s3 sign --scope dir: exit %d: %s", code, stderr)
	}
}
