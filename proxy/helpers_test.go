package proxy

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/httpx"
	"github.com/signgate/signgate/internal/logbuf"
	"github.com/signgate/signgate/internal/testenv"
	"github.com/signgate/signgate/signer"
)

// fakeClock and syncBuffer are testenv's.
type (
	fakeClock  = testenv.Clock
	syncBuffer = testenv.Buffer
)

func newClock() *fakeClock { return testenv.NewClock(time.Unix(1_800_000_000, 0)) }

// hmacSecret is the session secret of the test configurations.
const hmacSecret = "0123456789abcdef0123456789abcdef-test-secret"

// testKey reads a test key from testdata.
func testKey(t testing.TB, name string) *signer.SigningKey {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := signer.ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return &signer.SigningKey{ID: strings.TrimSuffix(name, ".pem"), Key: priv}
}

// copyKey copies a test key into dir and returns its path.
func copyKey(t testing.TB, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "route.pem")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// cdn is a stand-in CDN: it verifies ?auth= for the path like the edge
// does and answers 200 "cdn:<path>", or 401/403 with the reason.
type cdn struct {
	*httptest.Server
	keys signer.Keys
}

func newCDN(t testing.TB, now func() time.Time, keys ...*signer.SigningKey) *cdn {
	c := &cdn{keys: signer.Keys{}}
	for _, k := range keys {
		c.keys[k.ID] = k.Public()
	}
	v := signer.NewVerifier(c.keys)
	v.Now = now
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := signer.CanonicalPath(r.URL.EscapedPath())
		if err == nil {
			_, err = v.Verify(r.URL.Query().Get("auth"), p)
		}
		if err != nil {
			http.Error(w, signer.Reason(err), http.StatusForbidden)
			return
		}
		io.WriteString(w, "cdn:"+p)
	}))
	t.Cleanup(c.Close)
	return c
}

// app is a stand-in upstream app that records what it was sent.
type app struct {
	*httptest.Server
	mu   sync.Mutex
	last *http.Request
}

func newApp(t testing.TB, h http.HandlerFunc) *app {
	a := &app{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.last = r.Clone(r.Context())
		a.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		io.WriteString(w, "app:"+r.URL.Path)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *app) lastRequest() *http.Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

// fixture is a gateway on a real listener with its CDN and app.
type fixture struct {
	t       testing.TB
	clock   *fakeClock
	key     *signer.SigningKey
	cdn     *cdn
	app     *app
	gw      *Gateway
	srv     *httptest.Server
	logs    *syncBuffer
	environ map[string]string
}

// newFixture starts a gateway for environ on top of defaults: one route
// /media on the CDN stand-in with key1, jwt auth with hmacSecret (bearer
// or the "session" cookie), the app as upstream. A value "" in environ
// deletes a default.
func newFixture(t testing.TB, environ map[string]string) *fixture {
	t.Helper()
	return newFixtureWith(t, environ, Options{})
}

// newFixtureWith is newFixture with opts for New (its Log and Now are the
// fixture's).
func newFixtureWith(t testing.TB, environ map[string]string, opts Options) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: newClock(), key: testKey(t, "key1.pem"), logs: &syncBuffer{}}
	f.cdn = newCDN(t, f.clock.Now, f.key)
	f.app = newApp(t, nil)
	env := map[string]string{
		"SIGNGATE_UPSTREAM":               f.app.URL,
		"SIGNGATE_AUTH":                   "jwt",
		"SIGNGATE_JWT_SECRET":             hmacSecret,
		"SIGNGATE_JWT_COOKIE":             "session",
		"SIGNGATE_WATCH_KEYS":             "false",
		"SIGNGATE_ROUTES_0_PREFIX":        "/media",
		"SIGNGATE_ROUTES_0_CDN_BASE":      f.cdn.URL,
		"SIGNGATE_ROUTES_0_KEY_FILE":      filepath.Join("testdata", "key1.pem"),
		"SIGNGATE_ROUTES_0_KEY_ID":        "key1",
		"SIGNGATE_ROUTES_0_TTL":           "1h",
		"SIGNGATE_ROUTES_0_SCOPE":         "file",
		"SIGNGATE_LOGIN_URL":              "https://login.example.com/login?app=1",
		"SIGNGATE_CORS_ORIGINS":           "https://app.example.com",
		"SIGNGATE_FORWARD_SUBJECT_HEADER": "X-Auth-User",
	}
	for k, v := range environ {
		if v == "" {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	f.environ = env
	cfg, err := config.LoadGateway(env)
	if err != nil {
		t.Fatal(err)
	}
	// Tests keep the logs to inspect them; benchmarks format them as
	// signgate does (logbuf's JSON, info level, access lines batched) and
	// discard them.
	var log *slog.Logger
	if _, bench := t.(*testing.B); bench {
		w := logbuf.New(io.Discard)
		t.Cleanup(func() { w.Close() })
		log = slog.New(logbuf.JSON(w, nil, httpx.AccessLogMessage, httpx.CheckLogMessage))
	} else {
		log = slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	opts.Log, opts.Now = log, f.clock.Now
	f.gw, err = newFromEnv(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.gw.Close() })
	f.srv = httptest.NewServer(f.gw.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

// session returns a valid HS256 session token for sub with extra claims.
func (f *fixture) session(sub string, extra jwt.MapClaims) string {
	c := jwt.MapClaims{"sub": sub, "exp": f.clock.Now().Add(time.Hour).Unix()}
	for k, v := range extra {
		c[k] = v
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(hmacSecret))
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// do sends a request to the gateway without following redirects.
func (f *fixture) do(method, target string, hdr map[string]string) *http.Response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+target, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := noRedirect().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func noRedirect() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func body(t testing.TB, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// location parses the Location of a redirect.
func location(t testing.TB, resp *http.Response) *url.URL {
	t.Helper()
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("Location %q: %v", resp.Header.Get("Location"), err)
	}
	return u
}
