package proxy

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/signgate/signgate/signer"
)

// TestVendorSchemesThroughTheGateway: a route of each scheme with a
// shared-secret or public-key check (google, mediacdn, akamai, bunny)
// redirects to a URL that the scheme's own Checker accepts for the path
// asked for, and, for the grant that grant.go gave, refuses for a
// sibling that shares the prefix as a string (/v/abc and /v/abcdef) and
// for a file beside the grant. So the gateway wires each scheme's Mint
// and URL as the scheme's tests (checked against the vendors' vectors
// and libraries) expect.
func TestVendorSchemesThroughTheGateway(t *testing.T) {
	random := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	for _, tc := range []struct {
		scheme, keyID string
		key           []byte
		opts          map[string]string
	}{
		{scheme: "google", keyID: "my-key", key: []byte(base64.URLEncoding.EncodeToString(random(16)))},
		{scheme: "mediacdn", keyID: "my-keyset-key", key: []byte(base64.StdEncoding.EncodeToString(random(32)))},
		{scheme: "mediacdn", keyID: "hmac-key", key: []byte(base64.StdEncoding.EncodeToString(random(32))), opts: map[string]string{"MEDIACDN_ALGORITHM": "sha256"}},
		{scheme: "akamai", key: []byte(hex.EncodeToString(random(32)))},
		{scheme: "bunny", key: []byte(hex.EncodeToString(random(16)))},
		{scheme: "bunny", key: []byte(hex.EncodeToString(random(16))), opts: map[string]string{"BUNNY_MODE": "advanced", "BUNNY_FORM": "query"}},
	} {
		for _, scope := range []string{"file", "dir"} {
			name := tc.scheme + "/" + scope
			if a := tc.opts["MEDIACDN_ALGORITHM"] + tc.opts["BUNNY_MODE"]; a != "" {
				name += "/" + a
			}
			t.Run(name, func(t *testing.T) {
				keyFile := filepath.Join(t.TempDir(), "key")
				if err := os.WriteFile(keyFile, tc.key, 0o600); err != nil {
					t.Fatal(err)
				}
				env := map[string]string{
					"SIGNGATE_ROUTES_0_SCHEME":   tc.scheme,
					"SIGNGATE_ROUTES_0_CDN_BASE": "https://media.example.com",
					"SIGNGATE_ROUTES_0_KEY_FILE": keyFile,
					"SIGNGATE_ROUTES_0_KEY_ID":   tc.keyID,
					"SIGNGATE_ROUTES_0_SCOPE":    scope,
				}
				for k, v := range tc.opts {
					env["SIGNGATE_ROUTES_0_"+k] = v
				}
				f := newFixture(t, env)
				resp := f.do("GET", "/media/v/abc/seg1.ts", map[string]string{"Authorization": "Bearer " + f.session("alice", nil)})
				if resp.StatusCode != http.StatusFound {
					t.Fatalf("status %d", resp.StatusCode)
				}
				loc, err := url.Parse(resp.Header.Get("Location"))
				if err != nil || loc.Host != "media.example.com" {
					t.Fatalf("Location %q: %v", resp.Header.Get("Location"), err)
				}
				sch, err := signer.LookupScheme(tc.scheme)
				if err != nil {
					t.Fatal(err)
				}
				base, _ := signer.ParseBase("https://media.example.com")
				ck, err := sch.(signer.VerifyingScheme).NewChecker(signer.Settings{Base: base, KeyID: tc.keyID, Key: tc.key, Options: tc.opts})
				if err != nil {
					t.Fatal(err)
				}
				check := func(u *url.URL) error {
					// Bunny's path form carries its token (with an encoded
					// token_path) before the path, which its checker reads
					// from EscapedPath; the others check the canonical path.
					p, err := signer.CanonicalPath(u.EscapedPath())
					if err != nil && tc.scheme != "bunny" {
						return err
					}
					_, err = ck.Check(signer.Request{Path: p, EscapedPath: u.EscapedPath(), Host: u.Host, RawQuery: u.RawQuery, Now: f.clock.Now()})
					return err
				}
				if err := check(loc); err != nil {
					t.Fatalf("the scheme's checker refuses the gateway's URL %s: %v", loc, err)
				}
				// The same token on other paths: a sibling beside the grant
				// is refused in both scopes; a file in the same directory
				// only with the dir scope.
				for _, other := range []struct {
					from, to string
					opens    bool
				}{
					{"/media/v/abc/seg1.ts", "/media/v/abcdef/seg1.ts", false},
					{"/media/v/abc/seg1.ts", "/media/v/abc/seg2.ts", scope == "dir"},
				} {
					moved := *loc
					moved.Path = replaceOnce(loc.Path, other.from, other.to)
					moved.RawPath = replaceOnce(loc.EscapedPath(), other.from, other.to)
					if moved.Path == loc.Path {
						t.Fatalf("path %s does not hold %s", loc.Path, other.from)
					}
					if err := check(&moved); (err == nil) != other.opens {
						t.Errorf("token of %s on %s: err %v, want opens=%v", other.from, other.to, err, other.opens)
					}
				}
			})
		}
	}
}

// replaceOnce replaces the last occurrence of old in s with new (a
// path-form token precedes the path, so the path is at the end).
func replaceOnce(s, old, new string) string {
	for i := len(s) - len(old); i >= 0; i-- {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	return s
}
