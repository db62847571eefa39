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
	// The shared-secret schemes, with options that change the token.
	dir := t.TempDir()
	keyOf := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		scheme, key, kid string
		opts             []string
	}{
		{"google", keyOf("google", "nZtRohdNF9m3cKM24IcK4w=="), "my-key", nil},
		{"mediacdn", keyOf("mediacdn", "DJUcnLguVFKmVCFnWGubG1MZg7fWAnxacMjKDhVZMGI="), "my-keyset-key", nil},
		{"mediacdn", keyOf("mediacdn-hmac", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="), "hmac-key", []string{"--opt", "MEDIACDN_ALGORITHM=sha256"}},
		{"akamai", keyOf("akamai", "52a152a152a152a152a152a152a1"), "", []string{"--opt", "AKAMAI_TOKEN_NAME=hdnts", "--opt", "AKAMAI_ALGORITHM=sha1"}},
		{"bunny", keyOf("bunny", "229248f0-f007-4bf9-ba1f-bbf1b4ad9d40"), "", nil},
		{"bunny", keyOf("bunny-adv", "229248f0-f007-4bf9-ba1f-bbf1b4ad9d40"), "", []string{"--opt", "BUNNY_MODE=advanced", "--opt", "BUNNY_FORM=query"}},
	} {
		for _, scope := range []string{"file", "dir"} {
			name := tc.scheme + "/" + scope + strings.Join(tc.opts, "")
			args := append([]string{"sign", "--scheme", tc.scheme, "--key", tc.key, "--kid", tc.kid, "--scope", scope}, tc.opts...)
			code, out, stderr := runCLI(t, append(args, "https://media.example.com/v/abc/a.ts")...)
			if code != 0 {
				t.Fatalf("%s sign: exit %d: %s", name, code, stderr)
			}
			signed := strings.TrimSpace(out)
			verify := append([]string{"verify", "--scheme", tc.scheme, "--key", tc.key, "--kid", tc.kid}, tc.opts...)
			if code, out, stderr = runCLI(t, append(verify, signed)...); code != 0 || !strings.HasPrefix(out, "valid") {
				t.Errorf("%s verify: exit %d: %s %s (%s)", name, code, out, stderr, signed)
			}
			moved := strings.Replace(signed, "/v/abc/", "/v/abd/", 1)
			if code, out, _ = runCLI(t, append(verify, moved)...); code != 1 || !strings.HasPrefix(out, "invalid: ") {
				t.Errorf("%s verify of another path: exit %d: %s", name, code, out)
			}
			if len(tc.opts) > 0 {
				// Without the options, the token is not the scheme's default one.
				if code, out, _ = runCLI(t, "verify", "--scheme", tc.scheme, "--key", tc.key, "--kid", tc.kid, signed); code != 1 {
					t.Errorf("%s verify without its options: exit %d: %s", name, code, out)
				}
			}
		}
	}
	if code, _, stderr := runCLI(t, "sign", "--scheme", "google", "--key", keyOf("g2", "nZtRohdNF9m3cKM24IcK4w=="), "https://media.example.com/a.ts"); code != 2 || !strings.Contains(stderr, "KEY_ID") {
		t.Errorf("sign --scheme google without --kid: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "verify", "--key", testKeyFile, "--opt", "X=1", "https://cdn.example.com/a?auth=x"); code != 2 || !strings.Contains(stderr, "--opt") {
		t.Errorf("verify qencode --opt: exit %d: %s", code, stderr)
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
