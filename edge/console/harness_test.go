package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/edge"
	"github.com/signgate/signgate/internal/testenv"
)

const testAPIKey = "console-test-api-key-0123456789"

// portal is an edge with its API and the portal behind one test server,
// and everything the edge and the portal logged.
type portal struct {
	edge  *edge.Edge
	api   string // the API listener's base URL: the portal is under /console/
	media string // the media listener's base URL
	logs  *testenv.Buffer
}

// startPortal runs an edge (SQLite in a temporary directory, the bucket
// "media" holding /v/clip.txt) with the portal mounted on its API, on
// httptest servers; tls serves the API over TLS.
func startPortal(t *testing.T, tls bool) *portal {
	t.Helper()
	dir := t.TempDir()
	origin := filepath.Join(dir, "bucket")
	writeFile(t, filepath.Join(origin, "v", "clip.txt"), "hello from the bucket\n")
	cfg, err := config.LoadEdge(map[string]string{
		"SIGNGATE_EDGE_LISTEN":           "127.0.0.1:0",
		"SIGNGATE_EDGE_API_LISTEN":       "127.0.0.1:0",
		"SIGNGATE_EDGE_METRICS_LISTEN":   config.MetricsOff,
		"SIGNGATE_EDGE_DB":               filepath.Join(dir, "edge.db"),
		"SIGNGATE_EDGE_DOMAIN":           "example.test",
		"SIGNGATE_EDGE_SINGLE_BUCKET":    "true",
		"SIGNGATE_EDGE_BUCKETS_0_NAME":   "media",
		"SIGNGATE_EDGE_BUCKETS_0_REGION": "eu-central",
		"SIGNGATE_EDGE_BUCKETS_0_ORIGIN": origin,
		"SIGNGATE_EDGE_API_KEYS":         testAPIKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ed, err := edge.New(cfg, edge.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ed.Close() })
	c, err := New(ed, Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	h := Mount(ed.APIHandler(), c)
	var api *httptest.Server
	if tls {
		api = httptest.NewTLSServer(h)
	} else {
		api = httptest.NewServer(h)
	}
	t.Cleanup(api.Close)
	media := httptest.NewServer(ed.Handler())
	t.Cleanup(media.Close)
	return &portal{edge: ed, api: api.URL, media: media.URL, logs: logs}
}

// browserClient is a client with a cookie jar that does not follow
// redirects, so a test sees each 303.
func (p *portal) browserClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if strings.HasPrefix(p.api, "https:") {
		c.Transport = &http.Transport{TLSClientConfig: insecureTLS()}
	}
	return c
}

// get fetches u and returns the status and the body.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// post submits form to u as a browser on the same origin would.
func post(t *testing.T, c *http.Client, u string, form url.Values, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf returns the CSRF token of the first form on a page.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field on the page:\n%s", page)
	}
	return m[1]
}

// signIn signs c in with key and returns the sign-in answer.
func (p *portal) signIn(t *testing.T, c *http.Client, key string) (*http.Response, string) {
	t.Helper()
	_, page := get(t, c, p.api+"/console/sign-in")
	return post(t, c, p.api+"/console/sign-in", url.Values{"csrf": {csrfOf(t, page)}, "api_key": {key}}, nil)
}

// signedIn returns a client signed in with the test API key.
func (p *portal) signedIn(t *testing.T) *http.Client {
	t.Helper()
	c := p.browserClient(t)
	if resp, body := p.signIn(t, c, testAPIKey); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d\n%s", resp.StatusCode, body)
	}
	return c
}

func (p *portal) policy(t *testing.T) edge.Policy {
	t.Helper()
	for _, b := range p.edge.Buckets() {
		if b.Name == "media" {
			return b.Policy
		}
	}
	t.Fatal("no bucket media")
	return ""
}
