package proxy

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// TestCloudFrontRoute: a route with SIGNGATE_ROUTES_0_SCHEME=cloudfront
// redirects to a CloudFront signed URL whose custom policy grants the
// directory (scope dir), and sets the three CloudFront cookies in cookie
// mode, for the grant that grant.go gave; the signature verifies with
// the key's public half.
func TestCloudFrontRoute(t *testing.T) {
	f := newFixture(t, map[string]string{
		"SIGNGATE_ROUTES_0_SCHEME":        "cloudfront",
		"SIGNGATE_ROUTES_0_CDN_BASE":      "https://d111111abcdef8.cloudfront.net",
		"SIGNGATE_ROUTES_0_KEY_ID":        "K2JCJMDEHXQW5F",
		"SIGNGATE_ROUTES_0_SCOPE":         "dir",
		"SIGNGATE_ROUTES_0_STREAMING":     "cookie",
		"SIGNGATE_ROUTES_0_COOKIE_DOMAIN": ".cloudfront.net",
	})
	resp := f.do("GET", "/media/v/abc/master.m3u8?x=1&Signature=evil", map[string]string{"Authorization": "Bearer " + f.session("alice", nil)})
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Host != "d111111abcdef8.cloudfront.net" || loc.Path != "/media/v/abc/master.m3u8" {
		t.Fatalf("Location %s", loc)
	}
	q := loc.Query()
	if q.Get("x") != "" || len(q["Signature"]) != 1 || q.Get("Key-Pair-Id") != "K2JCJMDEHXQW5F" {
		t.Fatalf("query %v: the client's query must be dropped, the token's kept", q)
	}
	js := cfDecode(t, q.Get("Policy"))
	if !strings.Contains(string(js), `"Resource":"https://d111111abcdef8.cloudfront.net/media/v/abc/*"`) {
		t.Fatalf("policy %s does not grant the directory", js)
	}
	pemBytes, _ := os.ReadFile(filepath.Join("testdata", "key1.pem"))
	block, _ := pem.Decode(pemBytes)
	priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := signer.CloudFrontVerify(&priv.PublicKey, js, cfDecode(t, q.Get("Signature")), false); err != nil {
		t.Errorf("signature: %v", err)
	}
	names := map[string]bool{}
	for _, c := range resp.Cookies() {
		names[c.Name] = true
		if c.Path != "/media/v/abc" || c.Domain != "cloudfront.net" || !c.HttpOnly {
			t.Errorf("cookie %s: %+v", c.Name, c)
		}
	}
	for _, n := range []string{"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"} {
		if !names[n] {
			t.Errorf("no %s cookie among %v", n, names)
		}
	}
}

// TestSchemeRefusesScopeAtStart: a scheme that cannot express a
// directory refuses scope dir at start, naming the variable.
func TestSchemeRefusesScopeAtStart(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SIGNGATE_ROUTES_0_SCHEME": "s3", "SIGNGATE_ROUTES_0_S3_BUCKET": "media", "SIGNGATE_ROUTES_0_SCOPE": "dir"}, "SIGNGATE_ROUTES_0_SCOPE"},
		{map[string]string{"SIGNGATE_ROUTES_0_SCHEME": "cloudfront", "SIGNGATE_ROUTES_0_CLOUDFRONT_POLICY": "canned", "SIGNGATE_ROUTES_0_SCOPE": "dir"}, "SIGNGATE_ROUTES_0_SCOPE"},
		{map[string]string{"SIGNGATE_ROUTES_0_SCHEME": "akamai-nope"}, "SIGNGATE_ROUTES_0_SCHEME"},
		{map[string]string{"SIGNGATE_ROUTES_0_CLOUDFRONT_HASH": "sha256"}, "SIGNGATE_ROUTES_0_CLOUDFRONT_HASH"},
	} {
		env := map[string]string{
			"SIGNGATE_AUTH": "header", "SIGNGATE_ROUTES_0_PREFIX": "/media",
			"SIGNGATE_ROUTES_0_CDN_BASE": "http://127.0.0.1:9000/media",
			"SIGNGATE_ROUTES_0_KEY_FILE": "k", "SIGNGATE_ROUTES_0_KEY_ID": "k",
		}
		for k, v := range tc.env {
			env[k] = v
		}
		_, err := config.LoadGateway(env)
		if err == nil || !strings.Contains(err.Error(), tc.want+":") {
			t.Errorf("%v: %v, want an error naming %s", tc.env, err, tc.want)
		}
	}
}

// cfDecode reads CloudFront's base64 (- _ ~ for + = /).
func cfDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.NewReplacer("-", "+", "_", "=", "~", "/").Replace(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
