package edge

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/testenv"
	"github.com/signgate/signgate/signer"
)

// testAPIKey is the API key the test edges accept.
const testAPIKey = "test-api-key-0123456789"

// fakeClock and syncBuffer are testenv's.
type (
	fakeClock  = testenv.Clock
	syncBuffer = testenv.Buffer
)

func newClock() *fakeClock { return testenv.NewClock(time.Unix(1_750_000_000, 0)) }

// harness is an edge on real listeners, with its files, store, clock and
// logs.
type harness struct {
	t     *testing.T
	e     *Edge
	media *httptest.Server
	api   *httptest.Server
	clock *fakeClock
	dir   string // the "media" bucket's directory
	db    string
	logs  *syncBuffer
}

// testFiles are the files of the "media" bucket.
func testFiles() map[string]string {
	return map[string]string{
		"v/abc/master.m3u8":  "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlow.m3u8\n",
		"v/abc/seg0.ts":      "TS-SEGMENT-0",
		"v/abc/init.m4s":     "M4S",
		"v/abc/manifest.mpd": "<MPD/>",
		"v/abc/video.mp4":    "0123456789abcdefghij",
		"v/abc/clip.webm":    "WEBM",
		"v/abcdef/x.ts":      "OTHER",
		"top.txt":            "top",
	}
}

// baseConfig is a two-bucket edge: "media" (directory, public by default)
// and "other" (directory, authenticated).
func baseConfig(t testing.TB, root string) config.Edge {
	t.Helper()
	media := filepath.Join(root, "media")
	other := filepath.Join(root, "other")
	for name, body := range testFiles() {
		writeFile(t, filepath.Join(media, name), body)
	}
	writeFile(t, filepath.Join(other, "o.ts"), "O")
	return config.Edge{
		Listen:    "127.0.0.1:0",
		APIListen: "127.0.0.1:0",
		DB:        config.Database(filepath.Join(root, "edge.db")),
		Domain:    "example.test",
		Buckets: []config.Bucket{
			{Name: "media", Region: "us-west", Origin: media, Hosts: []string{"cdn.example.test"}, Policy: "public"},
			{Name: "other", Region: "us-west", Origin: other, Policy: "authenticated"},
		},
		APIKeys:   []config.Secret{testAPIKey},
		Leeway:    time.Minute,
		CacheSize: 1000,
		Refresh:   time.Hour, // tests call Refresh themselves
		AccessLog: true,
	}
}

func writeFile(t testing.TB, name, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newHarness starts an edge over a fresh directory; mutate adjusts the
// configuration first.
func newHarness(t *testing.T, mutate func(*config.Edge)) *harness {
	t.Helper()
	root := t.TempDir()
	cfg := baseConfig(t, root)
	if mutate != nil {
		mutate(&cfg)
	}
	return startHarness(t, cfg, newClock())
}

func startHarness(t *testing.T, cfg config.Edge, clock *fakeClock) *harness {
	t.Helper()
	return startHarnessStore(t, cfg, clock, nil)
}

// startHarnessStore is startHarness on the given store (nil: the one
// cfg.DB names); the caller closes a store it passes.
func startHarnessStore(t *testing.T, cfg config.Edge, clock *fakeClock, store Store) *harness {
	t.Helper()
	logs := &syncBuffer{}
	e, err := New(cfg, Options{Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Now: clock.Now, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, e: e, clock: clock, dir: cfg.Buckets[0].Origin, db: cfg.DB.Reveal(), logs: logs}
	h.media = httptest.NewServer(e.Handler())
	h.api = httptest.NewServer(e.APIHandler())
	t.Cleanup(func() {
		h.media.Close()
		h.api.Close()
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// testKey reads a test-only private key from testdata.
func testKey(t testing.TB, name string) *signer.SigningKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	k, err := signer.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return &signer.SigningKey{Key: k}
}

// addKey stores the public half of a test key under kid for bucket,
// straight into the store, and refreshes the edge.
func (h *harness) addKey(file, kid, bucket string) *signer.SigningKey {
	h.t.Helper()
	return h.storeKey(file, Key{ID: kid, Bucket: bucket})
}

// storeKey stores the public half of a test key as k says (its ID and its
// bucket or stream id), straight into the store, and refreshes the edge.
func (h *harness) storeKey(file string, k Key) *signer.SigningKey {
	h.t.Helper()
	sk := testKey(h.t, file)
	sk.ID, sk.Bucket = k.ID, k.Bucket
	k.Name, k.PublicKey, k.Created = k.ID, signer.EncodePublicKey(&sk.Key.PublicKey), h.clock.Now()
	if err := h.e.store.CreateKey(context.Background(), k); err != nil {
		h.t.Fatal(err)
	}
	if err := h.e.Refresh(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	return sk
}

// get requests path on host from the media listener, with extra headers.
func (h *harness) get(host, target string, hdr ...string) *http.Response {
	h.t.Helper()
	return h.do(http.MethodGet, host, target, hdr...)
}

func (h *harness) do(method, host, target string, hdr ...string) *http.Response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.media.URL+target, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := h.media.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// call makes an API request with an optional bearer token and JSON body
// and decodes the answer into a map.
func (h *harness) call(method, path, bearer, body string) (int, map[string]any, http.Header) {
	h.t.Helper()
	st, data, hdr := h.send(method, path, bearer, body)
	var m map[string]any
	if len(data) > 0 && method != http.MethodHead {
		if err := json.Unmarshal(data, &m); err != nil {
			h.t.Fatalf("%s %s: body is not JSON: %q", method, path, data)
		}
	}
	return st, m, hdr
}

// send makes an API request (with bearer, when not empty) and returns the
// status, the body's bytes and the headers.
func (h *harness) send(method, path, bearer, body string) (int, []byte, http.Header) {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.api.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := h.api.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, data, resp.Header
}

// bearer gets an API bearer token for testAPIKey.
func (h *harness) bearer() string {
	h.t.Helper()
	st, m, _ := h.call(http.MethodPost, "/v1/access_token/"+testAPIKey, "", "")
	if st != http.StatusOK {
		h.t.Fatalf("access_token: %d %v", st, m)
	}
	return m["token"].(string)
}

// body reads a response body.
func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// errorCode decodes an error body, {"error": STATUS, "code", "message"},
// checks its "error", and returns its code.
func errorCode(t *testing.T, resp *http.Response) string {
	t.Helper()
	var m struct {
		Error         int
		Code, Message string
	}
	b := body(t, resp)
	if err := json.Unmarshal([]byte(b), &m); err != nil {
		t.Fatalf("error body is not the JSON expected: %q", b)
	}
	if m.Error != resp.StatusCode || m.Message == "" {
		t.Errorf("error body %q: want \"error\": %d and a message", b, resp.StatusCode)
	}
	return m.Code
}

// mediaHost is the Qencode-style host of the "media" bucket.
const mediaHost = "media.media-storage.us-west.example.test"
const otherHost = "other.media-storage.us-west.example.test"

// sign mints a token with k.
func sign(t testing.TB, k *signer.SigningKey, c signer.Claims) string {
	t.Helper()
	tok, err := k.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
