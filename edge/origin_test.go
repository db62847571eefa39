package edge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// originModUnix is when the origin's files last changed.
const originModUnix = 1_700_000_000

// recordingOrigin is an HTTP origin (as S3 or MinIO would be) that keeps
// the last request it saw.
type recordingOrigin struct {
	mu   sync.Mutex
	last *http.Request
	srv  *httptest.Server
}

func newRecordingOrigin(t *testing.T) *recordingOrigin {
	o := &recordingOrigin{}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.last = r.Clone(context.Background())
		o.mu.Unlock()
		switch r.URL.Path {
		case "/bucket/v/abc/master.m3u8":
			w.Header().Set("Content-Type", "application/octet-stream") // as S3 often has it
			w.Header().Set("Cache-Control", "public, max-age=60")
			w.Write([]byte("#EXTM3U\n"))
		case "/bucket/v/abc/seg0.ts":
			http.ServeContent(w, r, "seg0.ts", time.Unix(originModUnix, 0), strings.NewReader("0123456789"))
		default:
			w.Header().Set("Cache-Control", "public, max-age=300") // an origin may cache its 404s
			w.Header().Set("Etag", `"404"`)
			http.Error(w, "<Error><Code>NoSuchKey</Code></Error>", http.StatusNotFound)
		}
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *recordingOrigin) request() *http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

func TestHTTPOrigin(t *testing.T) {
	o := newRecordingOrigin(t)
	h := newHarness(t, func(c *config.Edge) {
		c.Buckets[0].Origin = o.srv.URL + "/bucket/"
		c.Buckets[0].Policy = config.PolicyAuthenticated
	})
	k := h.addKey("key1.pem", "k1", "media")
	tok := sign(t, k, signer.Claims{URI: "/v"})

	resp := h.get(mediaHost, "/v/abc/seg0.ts?x=1&auth="+tok+"&y=%20",
		"Range", "bytes=2-4",
		"Cookie", "session=s1; "+CookieName+"=other-token; theme=dark",
		"Authorization", "Bearer secret-bearer",
	)
	if resp.StatusCode != http.StatusPartialContent || body(t, resp) != "234" {
		t.Fatalf("range through the origin: %d", resp.StatusCode)
	}
	if resp.Header.Get("Content-Type") != "video/mp2t" || resp.Header.Get("Cache-Control") != "private" {
		t.Errorf("Content-Type %q, Cache-Control %q", resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	r := o.request()
	if r.URL.Path != "/bucket/v/abc/seg0.ts" || r.URL.RawQuery != "x=1&y=%20" {
		t.Errorf("origin saw %s ? %s", r.URL.Path, r.URL.RawQuery)
	}
	if c := r.Header.Get("Cookie"); c != "session=s1; theme=dark" {
		t.Errorf("origin saw Cookie %q", c)
	}
	if a := r.Header.Get("Authorization"); a != "" {
		t.Errorf("origin saw Authorization %q", a)
	}
	if r.Host != strings.TrimPrefix(o.srv.URL, "http://") {
		t.Errorf("origin saw Host %q", r.Host)
	}

	// The cookie alone: it stays behind too.
	resp = h.get(mediaHost, "/v/abc/master.m3u8", "Cookie", CookieName+"="+tok)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.apple.mpegurl" {
		t.Errorf("playlist: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("Cache-Control") != "private" {
		t.Errorf("an authenticated answer kept the origin's Cache-Control: %q", resp.Header.Get("Cache-Control"))
	}
	if c, ok := o.request().Header["Cookie"]; ok {
		t.Errorf("origin saw Cookie %q", c)
	}

	// Conditional requests reach the origin.
	resp = h.get(mediaHost, "/v/abc/seg0.ts?auth="+tok, "If-Modified-Since", time.Unix(originModUnix, 0).UTC().Format(http.TimeFormat))
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since through the origin: %d", resp.StatusCode)
	}
	// The origin's 404 passes through.
	if resp := h.get(mediaHost, "/v/none.ts?auth="+tok); resp.StatusCode != 404 {
		t.Errorf("missing file: %d", resp.StatusCode)
	} else {
		checkErrorHeaders(t, resp)
	}
	// As does a failed precondition, from a bucket that is private.
	if resp := h.get(mediaHost, "/v/abc/seg0.ts?auth="+tok, "If-Match", `"nope"`); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("If-Match through the origin: %d", resp.StatusCode)
	} else {
		checkErrorHeaders(t, resp)
	}
	// Nothing is asked of the origin for a refused request.
	before := o.request()
	if resp := h.get(mediaHost, "/v/abc/seg0.ts"); resp.StatusCode != 401 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	// Nor for path parameters, which such an origin may read as "..".
	for _, p := range []string{"/v/..;/secret/x.ts", "/v/%2e%2e;/secret/x.ts", "/v/..%3b/secret/x.ts", "/v/a;b/x.ts"} {
		if resp := h.get(mediaHost, p+"?auth="+tok); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", p, resp.StatusCode)
		}
	}
	if o.request() != before {
		t.Errorf("a refused request reached the origin")
	}
	if strings.Contains(h.logs.String(), tok) {
		t.Errorf("the token reached the log")
	}
}

func TestHTTPOriginDown(t *testing.T) {
	o := newRecordingOrigin(t)
	h := newHarness(t, func(c *config.Edge) { c.Buckets[0].Origin = o.srv.URL })
	o.srv.Close()
	resp := h.get(mediaHost, "/v/abc/seg0.ts?auth=whatever")
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("origin down: %d", resp.StatusCode)
	}
	if c := errorCode(t, resp); c != "origin_unavailable" {
		t.Errorf("code %q", c)
	}
}

// flakyStore fails its reads on demand, to show that a revocation takes
// effect even when the store cannot be read back.
type flakyStore struct {
	Store
	fail atomic.Bool
}

func (s *flakyStore) Keys(ctx context.Context) ([]Key, error) {
	if s.fail.Load() {
		return nil, errors.New("store unavailable")
	}
	return s.Store.Keys(ctx)
}

func TestRevocationWhenStoreReadFails(t *testing.T) {
	root := t.TempDir()
	cfg := baseConfig(t, root)
	cfg.Buckets[0].Policy = config.PolicyAuthenticated
	sq, err := OpenSQLite(context.Background(), cfg.DB.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	fs := &flakyStore{Store: sq}
	e, err := New(cfg, Options{Store: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	media, api := httptest.NewServer(e.Handler()), httptest.NewServer(e.APIHandler())
	defer media.Close()
	defer api.Close()
	h := &harness{t: t, e: e, media: media, api: api, clock: newClock(), logs: &syncBuffer{}}
	k := h.addKey("key1.pem", "k1", "media")
	signed := sign(t, k, signer.Claims{})
	if resp := h.get(mediaHost, "/top.txt?auth="+signed); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	tok := h.bearer()
	fs.fail.Store(true)
	if st, m, _ := h.call("DELETE", "/v1/signing-keys/k1", tok, ""); st != 200 {
		t.Fatalf("delete: %d %v", st, m)
	}
	if resp := h.get(mediaHost, "/top.txt?auth="+signed); resp.StatusCode != 403 {
		t.Errorf("after delete with the store unreadable: %d", resp.StatusCode)
	}
	if st, _, _ := h.call("PUT", "/v1/buckets/media/policy/public", tok, ""); st != 200 {
		t.Fatal(st)
	}
	if resp := h.get(mediaHost, "/top.txt"); resp.StatusCode != 200 {
		t.Errorf("after policy public with the store unreadable: %d", resp.StatusCode)
	}
}

func TestCORS(t *testing.T) {
	for _, tc := range []struct {
		name, origins, origin string
		allow                 string // Access-Control-Allow-Origin expected
		creds                 bool
	}{
		{"off", "", "https://app.example", "", false},
		{"star", "*", "https://app.example", "*", false},
		{"listed", "https://app.example,https://other.example", "https://app.example", "https://app.example", true},
		{"not listed", "https://app.example", "https://evil.example", "", false},
		{"no Origin", "https://app.example", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *config.Edge) {
				if tc.origins != "" {
					c.CORSOrigins = strings.Split(tc.origins, ",")
				}
				c.Buckets[0].Policy = config.PolicyAuthenticated
			})
			var hdr []string
			if tc.origin != "" {
				hdr = []string{"Origin", tc.origin}
			}
			resp := h.get(mediaHost, "/top.txt", hdr...) // a 401: errors carry CORS too
			if resp.StatusCode != 401 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.allow {
				t.Errorf("Allow-Origin %q, want %q", got, tc.allow)
			}
			if got := resp.Header.Get("Access-Control-Allow-Credentials") == "true"; got != tc.creds {
				t.Errorf("Allow-Credentials %v, want %v", got, tc.creds)
			}
			if tc.allow != "" && !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), ReasonHeader) {
				t.Errorf("Expose-Headers %q", resp.Header.Get("Access-Control-Expose-Headers"))
			}
			pre := h.do("OPTIONS", mediaHost, "/v/abc/seg0.ts", append(hdr, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "range")...)
			want := http.StatusNoContent
			if tc.allow == "" {
				want = http.StatusMethodNotAllowed
			}
			if pre.StatusCode != want {
				t.Errorf("preflight %d, want %d", pre.StatusCode, want)
			}
			if want == http.StatusNoContent && !strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Range") {
				t.Errorf("preflight Allow-Headers %q", pre.Header.Get("Access-Control-Allow-Headers"))
			}
		})
	}
}

func TestCORSWithHTTPOrigin(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Write([]byte("x"))
	}))
	defer srv.Close()
	h := newHarness(t, func(c *config.Edge) {
		c.Buckets[0].Origin = srv.URL
		c.CORSOrigins = []string{"https://app.example"}
	})
	resp := h.get(mediaHost, "/a.ts", "Origin", "https://app.example")
	if got := resp.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "https://app.example" {
		t.Errorf("Allow-Origin %q", got)
	}
}

// A GET with a body (a length or chunked) never streams that body to the
// HTTP origin.
func TestHTTPOriginGetsNoBody(t *testing.T) {
	type seen struct {
		body   string
		length int64
		te     []string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{string(b), r.ContentLength, r.TransferEncoding}
		w.Write([]byte("x"))
	}))
	defer srv.Close()
	h := newHarness(t, func(c *config.Edge) { c.Buckets[0].Origin = srv.URL })
	for _, tc := range []struct {
		name   string
		body   io.Reader
		length int64
	}{
		{"with a length", strings.NewReader("smuggled"), 8},
		{"chunked", io.MultiReader(strings.NewReader("smug"), strings.NewReader("gled")), -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", h.media.URL+"/a.ts", tc.body)
			req.Host, req.ContentLength = mediaHost, tc.length
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			s := <-got
			if s.body != "" || s.length != 0 || len(s.te) != 0 {
				t.Errorf("origin saw body %q, Content-Length %d, Transfer-Encoding %q", s.body, s.length, s.te)
			}
		})
	}
}
