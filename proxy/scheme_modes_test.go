package proxy

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// schemeCDN is an origin on 127.0.0.1 that checks every request with a
// scheme's own Checker (URL, query and cookies) before it serves a file:
// what a CDN of that scheme does.
type schemeCDN struct {
	*httptest.Server
	scheme string
	mu     sync.Mutex
	check  signer.Checker
	now    func() time.Time
	files  map[string]string
}

func (c *schemeCDN) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	ck, files, now := c.check, c.files, c.now
	c.mu.Unlock()
	esc := r.URL.EscapedPath()
	if c.scheme == "bunny" {
		esc = signer.BunnyFilePath(esc) // the path form's token comes first
	}
	file, _ := url.PathUnescape(esc)
	p, err := signer.CanonicalPath(esc)
	if err != nil {
		http.Error(w, "path", http.StatusBadRequest)
		return
	}
	req := signer.Request{Path: p, EscapedPath: r.URL.EscapedPath(), Host: r.Host, RawQuery: r.URL.RawQuery, Cookies: r.Cookies(), Header: r.Header, Now: now()}
	if _, err := ck.Check(req); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	body, ok := files[file]
	if !ok {
		http.NotFound(w, r)
		return
	}
	io.WriteString(w, body)
}

// TestSchemeModesThroughTheGateway: for every scheme with a checker, the
// gateway's other ways of handing out a token work unchanged, checked by
// a real origin that verifies with the scheme's own Checker: the URL of
// /.signgate/sign; manifest mode (the manifest fetched with the scheme's
// token, each rewritten URI opening its segment); cookie mode where the
// scheme has cookies (docs/cdn.md): the cookies open the directory's
// segments and not a sibling's.
func TestSchemeModesThroughTheGateway(t *testing.T) {
	random := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	rsa, err := os.ReadFile(filepath.Join("testdata", "key1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, scheme, keyID string
		key                 []byte
		opts                map[string]string
		cookies             bool
	}{
		{name: "cloudfront", scheme: "cloudfront", keyID: "K2JCJMDEHXQW5F", key: rsa, cookies: true},
		{name: "google", scheme: "google", keyID: "my-key", key: []byte(base64.URLEncoding.EncodeToString(random(16))), cookies: true},
		{name: "mediacdn", scheme: "mediacdn", keyID: "my-keyset-key", key: []byte(base64.StdEncoding.EncodeToString(random(32))), cookies: true},
		{name: "mediacdn-sha256", scheme: "mediacdn", keyID: "hmac-key", key: []byte(base64.StdEncoding.EncodeToString(random(32))), opts: map[string]string{"MEDIACDN_ALGORITHM": "sha256"}},
		{name: "akamai", scheme: "akamai", key: []byte(hex.EncodeToString(random(32))), cookies: true},
		{name: "bunny-path", scheme: "bunny", key: []byte(hex.EncodeToString(random(16)))},
		{name: "bunny-advanced", scheme: "bunny", key: []byte(hex.EncodeToString(random(16))), opts: map[string]string{"BUNNY_MODE": "advanced", "BUNNY_FORM": "query"}},
	} {
		modes := []string{"sign", "manifest"}
		if tc.cookies {
			modes = append(modes, "cookie")
		}
		for _, mode := range modes {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				keyFile := filepath.Join(t.TempDir(), "key")
				if err := os.WriteFile(keyFile, tc.key, 0o600); err != nil {
					t.Fatal(err)
				}
				c := &schemeCDN{scheme: tc.scheme, files: map[string]string{
					"/media/v/abc/index.m3u8":  "#EXTM3U\n#EXTINF:1,\nseg1.ts\n#EXTINF:1,\nseg2.ts\n",
					"/media/v/abc/seg1.ts":     "seg1",
					"/media/v/abc/seg2.ts":     "seg2",
					"/media/v/abcdef/seg1.ts":  "sibling",
					"/media/v/abc/master.m3u8": "#EXTM3U\n",
				}}
				c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
				defer c.Close()
				env := map[string]string{
					"SIGNGATE_ROUTES_0_SCHEME":   tc.scheme,
					"SIGNGATE_ROUTES_0_CDN_BASE": c.URL,
					"SIGNGATE_ROUTES_0_KEY_FILE": keyFile,
					"SIGNGATE_ROUTES_0_KEY_ID":   tc.keyID,
					"SIGNGATE_ROUTES_0_SCOPE":    "dir",
				}
				if mode != "sign" {
					env["SIGNGATE_ROUTES_0_STREAMING"] = mode
				}
				for k, v := range tc.opts {
					env["SIGNGATE_ROUTES_0_"+k] = v
				}
				f := newFixture(t, env)
				sch, err := signer.LookupScheme(tc.scheme)
				if err != nil {
					t.Fatal(err)
				}
				base, _ := signer.ParseBase(c.URL)
				ck, err := sch.(signer.VerifyingScheme).NewChecker(signer.Settings{Base: base, KeyID: tc.keyID, Key: tc.key, Options: tc.opts})
				if err != nil {
					t.Fatal(err)
				}
				c.mu.Lock()
				c.check, c.now = ck, f.clock.Now
				c.mu.Unlock()
				fetch := func(u string, cookies []*http.Cookie) (int, string) {
					t.Helper()
					req, err := http.NewRequest("GET", u, nil)
					if err != nil {
						t.Fatal(err)
					}
					for _, ck := range cookies {
						req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
					}
					resp, err := noRedirect().Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					b, _ := io.ReadAll(resp.Body)
					return resp.StatusCode, string(b)
				}
				switch mode {
				case "sign":
					resp := f.get("/.signgate/sign?path=/media/v/abc/seg1.ts", nil)
					var out struct {
						URL string `json:"url"`
					}
					if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
						t.Fatalf("sign: status %d, %v", resp.StatusCode, err)
					}
					if code, b := fetch(out.URL, nil); code != 200 || b != "seg1" {
						t.Fatalf("the origin answered %d %q to the signed URL %s", code, b, out.URL)
					}
				case "manifest":
					resp := f.get("/media/v/abc/index.m3u8", nil)
					got := body(t, resp)
					if resp.StatusCode != 200 {
						t.Fatalf("manifest: status %d: %s (the origin checks the gateway's fetch too)", resp.StatusCode, got)
					}
					uris := uriLines(got)
					if len(uris) != 2 {
						t.Fatalf("manifest %q: want 2 URIs", got)
					}
					for i, u := range uris {
						if code, b := fetch(u, nil); code != 200 || b != []string{"seg1", "seg2"}[i] {
							t.Errorf("rewritten URI %s: the origin answered %d %q", u, code, b)
						}
					}
				case "cookie":
					resp := f.get("/media/v/abc/master.m3u8", nil)
					if resp.StatusCode != http.StatusFound || len(resp.Cookies()) == 0 {
						t.Fatalf("cookie mode: status %d, %d cookies", resp.StatusCode, len(resp.Cookies()))
					}
					jar := resp.Cookies()
					for _, ck := range jar {
						if ck.Path != "/media/v/abc" {
							t.Errorf("cookie %s path %q, want the grant /media/v/abc", ck.Name, ck.Path)
						}
					}
					for path, want := range map[string]int{"/media/v/abc/seg1.ts": 200, "/media/v/abc/seg2.ts": 200, "/media/v/abcdef/seg1.ts": 403} {
						if code, _ := fetch(c.URL+path, jar); code != want {
							t.Errorf("%s with the cookies: the origin answered %d, want %d", path, code, want)
						}
					}
					if code, _ := fetch(c.URL+"/media/v/abc/seg1.ts", nil); code != 403 {
						t.Errorf("a segment without the cookies: %d, want 403", code)
					}
				}
			})
		}
	}
}
