package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// fileCDN is a stand-in CDN for manifest mode: it verifies ?auth= for the
// path like the edge (403 with X-Signgate-Reason when it fails, 401
// without a token), then serves files from a map, 404 for others. A
// handler in hooks answers its path instead. It keeps the requests it got.
type fileCDN struct {
	*httptest.Server
	verifier *signer.Verifier

	mu    sync.Mutex
	files map[string]string
	hooks map[string]http.HandlerFunc
	reqs  []*http.Request
}

func newFileCDN(t testing.TB, now func() time.Time, key *signer.SigningKey) *fileCDN {
	c := &fileCDN{files: map[string]string{}, hooks: map[string]http.HandlerFunc{}}
	c.verifier = signer.NewVerifier(signer.Keys{key.ID: key.Public()})
	c.verifier.Now = now
	c.Server = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.Close)
	return c
}

func (c *fileCDN) serve(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.reqs = append(c.reqs, r.Clone(r.Context()))
	hook := c.hooks[r.URL.Path]
	body, ok := c.files[r.URL.Path]
	c.mu.Unlock()
	if hook != nil {
		hook(w, r)
		return
	}
	p, err := signer.CanonicalPath(r.URL.EscapedPath())
	if err == nil {
		_, err = c.verifier.Verify(r.URL.Query().Get("auth"), p)
	}
	if err != nil {
		w.Header().Set("X-Signgate-Reason", signer.Reason(err))
		code := http.StatusForbidden
		if r.URL.Query().Get("auth") == "" {
			code = http.StatusUnauthorized
		}
		http.Error(w, signer.Reason(err), code)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	io.WriteString(w, body)
}

func (c *fileCDN) put(path, body string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.files[path] = body
}

func (c *fileCDN) hook(path string, h http.HandlerFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hooks[path] = h
}

func (c *fileCDN) requests() []*http.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*http.Request(nil), c.reqs...)
}

// fetchOK GETs a URL and reports whether the CDN accepted it.
func (c *fileCDN) fetchOK(t testing.TB, u string) bool {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden
}

// streamFixture is a gateway whose route 0 is /media on a fileCDN, in the
// given streaming mode, with env on top; "$CDN" in a value stands for the
// CDN's URL.
func streamFixture(t testing.TB, mode string, env map[string]string) (*fixture, *fileCDN) {
	t.Helper()
	key := testKey(t, "key1.pem")
	clock := newClock()
	c := newFileCDN(t, clock.Now, key)
	e := map[string]string{
		"SIGNGATE_ROUTES_0_CDN_BASE":  c.URL,
		"SIGNGATE_ROUTES_0_STREAMING": mode,
	}
	for k, v := range env {
		e[k] = strings.ReplaceAll(v, "$CDN", c.URL)
	}
	f := newFixture(t, e)
	// The fixture has its own clock; the CDN must share it.
	c.verifier.Now = f.clock.Now
	return f, c
}

// claimsOf parses a token of key1 (without checking its scope).
func claimsOf(t testing.TB, f *fixture, tok string) signer.Claims {
	t.Helper()
	v := signer.NewVerifier(signer.Keys{f.key.ID: f.key.Public()})
	v.Now = f.clock.Now
	c, err := v.Parse(tok)
	if err != nil {
		t.Fatalf("token does not parse: %v", err)
	}
	return c
}

// uriLines returns the non-comment, non-empty lines of an HLS playlist.
func uriLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
