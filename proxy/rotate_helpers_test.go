package proxy

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
)

// rotationGap is the pause between the two writes of a pair: the
// scenario itself (two commands, one after the other), not a wait.
const rotationGap = 100 * time.Millisecond

// rotationBucket is the edge's bucket of the rotation tests.
const rotationBucket = "rot"

// rotationFiles are the objects the clients fetch.
var rotationFiles = []string{"/media/a.mp4", "/media/b.mp4", "/media/c.mp4", "/media/d.mp4"}

// rotationEdge runs an edge that holds key1 and key3 for one
// authenticated bucket serving rotationFiles: media on one listener, the
// control API (with the bucket's JWKS) on another.
func rotationEdge(t *testing.T) (media, api *httptest.Server) {
	t.Helper()
	root := t.TempDir()
	dir := writeObjects(t, root, rotationFiles)
	e, media := startBucketEdge(t, root, dir, rotationBucket, nil, testKey(t, "key1.pem"), testKey(t, "key3.pem"))
	api = httptest.NewServer(e.APIHandler())
	t.Cleanup(api.Close)
	return media, api
}

// rotationGateway runs a gateway watching its key files, with route env
// (SIGNGATE_ROUTES_0_* key settings) on the edge at media.
func rotationGateway(t *testing.T, media string, env map[string]string) (*Gateway, *httptest.Server, *fixture, *syncBuffer) {
	t.Helper()
	base := map[string]string{
		"SIGNGATE_ROUTES_0_CDN_BASE": media,
		"SIGNGATE_ROUTES_0_KEY_FILE": "",
		"SIGNGATE_ROUTES_0_KEY_ID":   "",
	}
	for k, v := range env {
		base[k] = v
	}
	f := newFixture(t, base)
	cfg, err := config.LoadGateway(f.environ)
	if err != nil {
		t.Fatal(err)
	}
	cfg.WatchKeys = true
	logs := &syncBuffer{}
	g, err := newFromEnv(cfg, Options{Log: slog.New(slog.NewJSONHandler(logs, nil)), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return g, srv, f, logs
}

// rotationLoad is clients fetching signed redirects from the gateway and
// following them to the edge, counting requests, failures and the kids
// the URLs were signed under.
type rotationLoad struct {
	requests, failures atomic.Int64
	mu                 sync.Mutex
	byKid              map[string]int
	firstFailure       string
	progress           chan struct{}
	stop               chan struct{}
	wg                 sync.WaitGroup
}

// startLoad runs n clients against the gateway at gw with token tok.
func startLoad(t *testing.T, gw, tok string, n int) *rotationLoad {
	l := &rotationLoad{byKid: map[string]int{}, progress: make(chan struct{}, 1), stop: make(chan struct{})}
	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{MaxIdleConnsPerHost: n},
	}
	t.Cleanup(client.CloseIdleConnections)
	for w := range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := w; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				kid, err := fetchThrough(client, gw, tok, rotationFiles[i%len(rotationFiles)])
				l.record(kid, err)
			}
		}()
	}
	return l
}

func (l *rotationLoad) record(kid string, err error) {
	l.requests.Add(1)
	l.mu.Lock()
	if err != nil {
		l.failures.Add(1)
		if l.firstFailure == "" {
			l.firstFailure = err.Error()
		}
	} else {
		l.byKid[kid]++
	}
	l.mu.Unlock()
	select {
	case l.progress <- struct{}{}:
	default:
	}
}

// signedUnder returns how many URLs signed under kid opened at the edge.
func (l *rotationLoad) signedUnder(kid string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byKid[kid]
}

// waitFor waits until cond holds, as requests complete, or fails the test
// at deadline.
func (l *rotationLoad) waitFor(t *testing.T, what string, deadline <-chan time.Time, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-l.progress:
		case <-deadline:
			l.end()
			t.Fatalf("timed out waiting for %s: %d requests, %d failed, by kid %v", what, l.requests.Load(), l.failures.Load(), l.byKid)
		}
	}
}

func (l *rotationLoad) end() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// fetchThrough asks the gateway for path and follows the redirect to
// the edge; it returns the kid the URL was signed under.
func fetchThrough(c *http.Client, gw, tok, path string) (string, error) {
	req, _ := http.NewRequest("GET", gw+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("gateway %s: %d", path, resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	resp, err = c.Get(loc)
	if err != nil {
		return "", err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("edge %s: %d %s", path, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return tokenKid(loc), nil
}

// tokenKid reads the kid from the header of the token in signed URL u.
func tokenKid(u string) string {
	_, q, _ := strings.Cut(u, "auth=")
	h, _, _ := strings.Cut(q, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return ""
	}
	var hdr struct {
		Kid string `json:"kid"`
	}
	json.Unmarshal(b, &hdr)
	return hdr.Kid
}

// runRotation puts the gateway at gw under load, rotates with rotate once
// URLs signed under key1 flow, and waits until URLs signed under key3 do.
// It fails the test on any failed URL, and returns the load's counts.
func runRotation(t *testing.T, g *Gateway, gw, tok string, rotate func(*rotationLoad)) *rotationLoad {
	t.Helper()
	const (
		clients  = 4
		minEach  = 60 // URLs under each key, at least
		deadline = 15 * time.Second
	)
	l := startLoad(t, gw, tok, clients)
	defer l.end()
	until := time.After(deadline)
	l.waitFor(t, "URLs under key1", until, func() bool { return l.signedUnder("key1") >= minEach })
	rotate(l)
	l.waitFor(t, "URLs under key3", until, func() bool { return l.signedUnder("key3") >= minEach })
	l.end()
	n, failed := l.requests.Load(), l.failures.Load()
	t.Logf("%d requests, %d failed URLs; by kid %v", n, failed, l.byKid)
	if failed != 0 {
		t.Errorf("%d of %d URLs failed during the rotation; the first: %s", failed, n, l.firstFailure)
	}
	if n < 2*minEach {
		t.Errorf("%d requests, want at least %d", n, 2*minEach)
	}
	if k := g.routes[0].key.Load(); k.ID != "key3" || !k.Key.Equal(testKey(t, "key3.pem").Key) {
		t.Errorf("after the rotation the gateway signs with %v, want key3", k)
	}
	if s := keyState(g.routes[0].keyState.Load()); s != keyOK {
		t.Errorf("key state %s after the rotation, want ok", s)
	}
	return l
}

// errorLines counts the ERROR lines in logs.
func errorLines(logs *syncBuffer) int { return strings.Count(logs.String(), `"level":"ERROR"`) }

// replaceFile writes data to a temporary file beside path and renames it
// onto path, as mv does.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// rewriteFile writes data over path in place, as cp does: truncate, then
// write.
func rewriteFile(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	half := len(data) / 2
	_, err = f.Write(data[:half])
	if err == nil {
		_, err = f.Write(data[half:])
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// pemOf returns the PEM of a test key.
func pemOf(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readyz returns the gateway's /readyz answer.
func readyz(t *testing.T, g *Gateway) (int, readyzBody) {
	t.Helper()
	w := httptest.NewRecorder()
	g.MetricsHandler().ServeHTTP(w, httptest.NewRequest("GET", PathReadyz, nil))
	var b readyzBody
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
		t.Fatalf("readyz %d %q: %v", w.Code, w.Body, err)
	}
	return w.Code, b
}

type readyzBody struct {
	Status string
	Keys   []struct{ Route, Prefix, State, Kid string }
}

// untilRefused waits, as requests complete, until the gateway has
// refused the half of a pair written so far: /readyz says degraded, the
// route's state is want, and it still signs under key1.
func untilRefused(t *testing.T, g *Gateway, l *rotationLoad, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	l.waitFor(t, "the half pair refused", deadline, func() bool {
		return keyState(g.routes[0].keyState.Load()).String() == want
	})
	code, b := readyz(t, g)
	if code != http.StatusOK || b.Status != "degraded" || len(b.Keys) != 1 || b.Keys[0].State != want || b.Keys[0].Kid != "key1" || b.Keys[0].Prefix != "/media" {
		t.Errorf("readyz %d %+v, want 200 degraded with route /media in state %s, kid key1", code, b, want)
	}
}

// keyJSONOf returns a test key as the create-key API answers it.
func keyJSONOf(t *testing.T, name string) []byte {
	t.Helper()
	kid := strings.TrimSuffix(name, ".pem")
	b, err := json.Marshal(map[string]any{"status": "ok", "error": 0, "signing_key": map[string]any{
		"id": kid, "name": nil, "bucket": rotationBucket, "stream_id": nil,
		"created": "2026-01-01 00:00:00", "private_key": string(pemOf(t, name)),
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// switchable is the edge's API behind a switch: up, down (503), or hung
// (no answer until the test ends).
type switchable struct {
	h    http.Handler
	mode atomic.Int32 // 0 up, 1 down, 2 hung
	done chan struct{}
}

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch s.mode.Load() {
	case 1:
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	case 2:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
	default:
		s.h.ServeHTTP(w, r)
	}
}
