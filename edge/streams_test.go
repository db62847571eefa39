package edge

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// The live stream "cam1" of the stream tests: its files, and a host of
// its own.
const (
	streamID   = "cam1"
	streamHost = "play-cam1.example.test"
	// edgeHost is a host of no bucket: there /live/{id}/ is all it serves.
	edgeHost = "edge.example.test"
)

func streamFiles() map[string]string {
	return map[string]string{
		"index.m3u8":     "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nindex0.ts\n",
		"index0.ts":      "TS-0",
		"manifest.mpd":   `<MPD type="dynamic"/>`,
		"chunk-0.m4s":    "M4S",
		"sub/index.m3u8": "#EXTM3U\n",
		"sub/index0.ts":  "SUB-TS-0",
		"live/cam1/x.ts": "NOT-A-STREAM-PATH",
	}
}

// withStream adds the stream cam1 over a fresh directory to the two-bucket
// configuration.
func withStream(t *testing.T) func(*config.Edge) {
	return func(c *config.Edge) {
		dir := filepath.Join(t.TempDir(), streamID)
		for name, body := range streamFiles() {
			writeFile(t, filepath.Join(dir, name), body)
		}
		c.Streams = append(c.Streams, config.Stream{ID: streamID, Origin: dir, Hosts: []string{streamHost}})
		c.StreamSegmentMaxAge = time.Minute
	}
}

// addStreamKey stores the public half of a test key under kid for live
// stream id, straight into the store, and refreshes the edge.
func (h *harness) addStreamKey(file, kid, id string) *signer.SigningKey {
	h.t.Helper()
	return h.storeKey(file, Key{ID: kid, StreamID: id})
}

func TestStreamServing(t *testing.T) {
	h := newHarness(t, withStream(t))
	k := h.addStreamKey("key1.pem", "s1", streamID)
	tok := sign(t, k, signer.Claims{Expires: h.clock.Now().Add(time.Hour)})
	sub := sign(t, k, signer.Claims{URI: "/sub", Expires: h.clock.Now().Add(time.Hour)})
	files := streamFiles()
	cases := []struct {
		name, host, target string
		status             int
		body, cc, ctype    string
		reason             string
	}{
		{"playlist by path", edgeHost, "/live/cam1/index.m3u8?auth=" + tok, 200, files["index.m3u8"], "no-store", "application/vnd.apple.mpegurl", ""},
		{"segment by path", edgeHost, "/live/cam1/index0.ts?auth=" + tok, 200, files["index0.ts"], "private, max-age=60", "video/mp2t", ""},
		{"mpd by path", edgeHost, "/live/cam1/manifest.mpd?auth=" + tok, 200, files["manifest.mpd"], "no-store", "application/dash+xml", ""},
		{"fmp4 segment", edgeHost, "/live/cam1/chunk-0.m4s?auth=" + tok, 200, files["chunk-0.m4s"], "private, max-age=60", "video/iso.segment", ""},
		{"by its own host", streamHost, "/index.m3u8?auth=" + tok, 200, files["index.m3u8"], "no-store", "", ""},
		{"own host, any port and case", "PLAY-cam1.example.test.:8443", "/sub/index0.ts?auth=" + tok, 200, files["sub/index0.ts"], "private, max-age=60", "", ""},
		{"own host: the path is the stream's", streamHost, "/live/cam1/x.ts?auth=" + tok, 200, files["live/cam1/x.ts"], "", "", ""},
		{"path form on a bucket's host", mediaHost, "/live/cam1/index0.ts?auth=" + tok, 200, files["index0.ts"], "", "", ""},
		{"escaped form of the path", edgeHost, "/live/%63am1/index0.ts?auth=" + tok, 200, files["index0.ts"], "", "", ""},
		{"cookie", edgeHost, "/live/cam1/index0.ts", 200, files["index0.ts"], "", "", ""},
		{"scoped token inside", edgeHost, "/live/cam1/sub/index0.ts?auth=" + sub, 200, files["sub/index0.ts"], "", "", ""},
		{"scoped token outside", edgeHost, "/live/cam1/index0.ts?auth=" + sub, 403, "", "no-store", "", "out_of_scope"},
		{"no token", edgeHost, "/live/cam1/index.m3u8", 401, "", "no-store", "", "token_missing"},
		{"the stream's root", edgeHost, "/live/cam1/?auth=" + tok, 404, "", "no-store", "", ""},
		{"no listing", edgeHost, "/live/cam1?auth=" + tok, 404, "", "no-store", "", ""},
		{"missing file", edgeHost, "/live/cam1/index9.ts?auth=" + tok, 404, "", "no-store", "", ""},
		{"ids are case-sensitive", edgeHost, "/live/CAM1/index0.ts?auth=" + tok, 404, "", "no-store", "", ""},
		{"unknown stream", edgeHost, "/live/cam2/index0.ts?auth=" + tok, 404, "", "no-store", "", ""},
		// A path that is not canonical is no stream's: on a host of no
		// bucket, nothing (404); on a bucket's host, 400.
		{"dot segments", edgeHost, "/live/cam1/../cam1/index0.ts?auth=" + tok, 404, "", "no-store", "", ""},
		{"dot segments on a bucket host", mediaHost, "/live/cam1/../cam1/index0.ts?auth=" + tok, 400, "", "no-store", "", ""},
		{"encoded dot segments", mediaHost, "/live/cam1/%2e%2e/%2e%2e/v/abc/seg0.ts?auth=" + tok, 400, "", "no-store", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var hdr []string
			if c.name == "cookie" {
				hdr = []string{"Cookie", CookieName + "=" + tok}
			}
			resp := h.get(c.host, c.target, hdr...)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, c.status, resp.Header.Get(ReasonHeader))
			}
			if c.body != "" {
				if got := body(t, resp); got != c.body {
					t.Errorf("body %q, want %q", got, c.body)
				}
			}
			if c.cc != "" && resp.Header.Get("Cache-Control") != c.cc {
				t.Errorf("Cache-Control %q, want %q", resp.Header.Get("Cache-Control"), c.cc)
			}
			if c.ctype != "" && resp.Header.Get("Content-Type") != c.ctype {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), c.ctype)
			}
			if c.reason != "" && resp.Header.Get(ReasonHeader) != c.reason {
				t.Errorf("reason %q, want %q", resp.Header.Get(ReasonHeader), c.reason)
			}
		})
	}
	if strings.Contains(h.logs.String(), tok) {
		t.Error("a token reached the log")
	}
}

// TestStreamConditionalGET: a player revalidating a playlist gets 304
// while it is unchanged, still uncacheable; a Range of a segment works.
func TestStreamConditionalGET(t *testing.T) {
	h := newHarness(t, withStream(t))
	k := h.addStreamKey("key1.pem", "s1", streamID)
	tok := sign(t, k, signer.Claims{Expires: h.clock.Now().Add(time.Hour)})
	first := h.get(edgeHost, "/live/cam1/index.m3u8?auth="+tok)
	etag := first.Header.Get("Etag")
	if first.StatusCode != 200 || etag == "" {
		t.Fatalf("first: %d, Etag %q", first.StatusCode, etag)
	}
	again := h.get(edgeHost, "/live/cam1/index.m3u8?auth="+tok, "If-None-Match", etag)
	if again.StatusCode != 304 || again.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("revalidation: %d, Cache-Control %q", again.StatusCode, again.Header.Get("Cache-Control"))
	}
	part := h.get(edgeHost, "/live/cam1/index0.ts?auth="+tok, "Range", "bytes=1-2")
	if part.StatusCode != 206 || body(t, part) != "S-" {
		t.Errorf("range: %d", part.StatusCode)
	}
}

// TestStreamAndBucketKeysApart: the examples of the property in
// stream_prop_test.go, with the reasons a client sees.
func TestStreamAndBucketKeysApart(t *testing.T) {
	h := newHarness(t, func(c *config.Edge) {
		withStream(t)(c)
		// A stream spelled like a bucket: its keys are still not the bucket's.
		c.Streams = append(c.Streams, config.Stream{ID: "other", Origin: c.Streams[0].Origin})
	})
	exp := h.clock.Now().Add(time.Hour)
	bucketKey := h.addKey("key1.pem", "b1", "other")
	streamKey := h.addStreamKey("key2.pem", "s1", streamID)
	otherStreamKey := h.addStreamKey("key2.pem", "s2", "other")
	bt := sign(t, bucketKey, signer.Claims{Expires: exp})
	st := sign(t, streamKey, signer.Claims{Expires: exp})
	ot := sign(t, otherStreamKey, signer.Claims{Expires: exp})
	cases := []struct {
		name, host, target string
		status             int
		reason             string
	}{
		{"bucket key, its bucket", otherHost, "/o.ts?auth=" + bt, 200, ""},
		{"bucket key, a stream", edgeHost, "/live/cam1/index0.ts?auth=" + bt, 403, "unknown_key"},
		{"bucket key, the stream of its bucket's name", edgeHost, "/live/other/index0.ts?auth=" + bt, 403, "unknown_key"},
		{"stream key, its stream", edgeHost, "/live/cam1/index0.ts?auth=" + st, 200, ""},
		{"stream key, another stream", edgeHost, "/live/other/index0.ts?auth=" + st, 403, "wrong_bucket"},
		{"stream key, a bucket", otherHost, "/o.ts?auth=" + st, 403, "unknown_key"},
		{"stream key named like the bucket, the bucket", otherHost, "/o.ts?auth=" + ot, 403, "unknown_key"},
		{"stream key named like the bucket, its stream", edgeHost, "/live/other/index0.ts?auth=" + ot, 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Twice: the second answer comes from the verified-token cache.
			for range 2 {
				resp := h.get(c.host, c.target)
				if resp.StatusCode != c.status || resp.Header.Get(ReasonHeader) != c.reason {
					t.Fatalf("%d %q, want %d %q", resp.StatusCode, resp.Header.Get(ReasonHeader), c.status, c.reason)
				}
			}
		})
	}
}

// TestStreamKeyDeletion: deleting a stream key through the API refuses
// its tokens on the very next request, cached verifications included;
// the stream's other keys go on.
func TestStreamKeyDeletion(t *testing.T) {
	h := newHarness(t, withStream(t))
	bearer := h.bearer()
	created := h.createKey(bearer, `{"stream_id":"cam1"}`)
	if created["stream_id"] != streamID || created["bucket"] != nil {
		t.Fatalf("created %v", created)
	}
	priv, err := signer.ParsePrivateKey([]byte(created["private_key"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	k := &signer.SigningKey{ID: created["id"].(string), Key: priv}
	spare := h.addStreamKey("key2.pem", "spare", streamID)
	exp := h.clock.Now().Add(time.Hour)
	tok, spareTok := sign(t, k, signer.Claims{Expires: exp}), sign(t, spare, signer.Claims{Expires: exp})
	for range 2 {
		if resp := h.get(edgeHost, "/live/cam1/index.m3u8?auth="+tok); resp.StatusCode != 200 {
			t.Fatalf("before: %d", resp.StatusCode)
		}
	}
	if h.e.CacheStats().Hits == 0 {
		t.Fatal("the token was not cached")
	}
	if st, m, _ := h.call("DELETE", "/v1/signing-keys/"+k.ID, bearer, ""); st != 200 {
		t.Fatalf("delete: %d %v", st, m)
	}
	if resp := h.get(edgeHost, "/live/cam1/index.m3u8?auth="+tok); resp.StatusCode != 403 || resp.Header.Get(ReasonHeader) != "unknown_key" {
		t.Errorf("after delete: %d %s", resp.StatusCode, resp.Header.Get(ReasonHeader))
	}
	if resp := h.get(streamHost, "/index0.ts?auth="+tok); resp.StatusCode != 403 {
		t.Errorf("after delete, on the stream's host: %d", resp.StatusCode)
	}
	if resp := h.get(edgeHost, "/live/cam1/index.m3u8?auth="+spareTok); resp.StatusCode != 200 {
		t.Errorf("another key of the stream: %d", resp.StatusCode)
	}
}

// TestStreamHTTPOrigin: a stream served from an HTTP origin (a packager)
// gets the live caching rules whatever the origin says, and the origin
// never sees the token.
func TestStreamHTTPOrigin(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	asked := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RequestURI()+" "+r.Header.Get("Cookie"))
		mu.Unlock()
		w.Header().Set("Cache-Control", "public, max-age=300")
		io.WriteString(w, "from origin "+r.URL.Path)
	}))
	defer origin.Close()
	h := newHarness(t, func(c *config.Edge) {
		c.Streams = []config.Stream{{ID: streamID, Origin: origin.URL + "/packager/cam1/"}}
		c.StreamSegmentMaxAge = 5 * time.Second
	})
	k := h.addStreamKey("key1.pem", "s1", streamID)
	tok := sign(t, k, signer.Claims{Expires: h.clock.Now().Add(time.Hour)})
	pl := h.get(edgeHost, "/live/cam1/index.m3u8?x=1&auth="+tok, "Cookie", CookieName+"="+tok+"; theme=dark")
	if pl.StatusCode != 200 || pl.Header.Get("Cache-Control") != "no-store" || body(t, pl) != "from origin /packager/cam1/index.m3u8" {
		t.Errorf("playlist: %d, Cache-Control %q", pl.StatusCode, pl.Header.Get("Cache-Control"))
	}
	seg := h.get(edgeHost, "/live/cam1/index0.ts?auth="+tok)
	if seg.StatusCode != 200 || seg.Header.Get("Cache-Control") != "private, max-age=5" {
		t.Errorf("segment: %d, Cache-Control %q", seg.StatusCode, seg.Header.Get("Cache-Control"))
	}
	if seen := asked(); len(seen) != 2 || seen[0] != "/packager/cam1/index.m3u8?x=1 theme=dark" {
		t.Errorf("the origin saw %q", seen)
	}
	if resp := h.get(edgeHost, "/live/cam1/index0.ts"); resp.StatusCode != 401 || len(asked()) != 2 {
		t.Errorf("no token: %d, the origin was asked %d times", resp.StatusCode, len(asked()))
	}
}

// TestStreamPathFormInSingleBucketMode: /live/{id}/ of a configured
// stream is the stream's on every host, single-bucket mode too; any other
// path, /live/ of an unknown id included, is the bucket's.
func TestStreamPathFormInSingleBucketMode(t *testing.T) {
	h := newHarness(t, func(c *config.Edge) {
		c.Buckets = c.Buckets[:1]
		c.SingleBucket = true
		withStream(t)(c)
		writeFile(t, filepath.Join(c.Buckets[0].Origin, "live", "cam2", "b.ts"), "BUCKET")
	})
	k := h.addStreamKey("key1.pem", "s1", streamID)
	tok := sign(t, k, signer.Claims{Expires: h.clock.Now().Add(time.Hour)})
	if resp := h.get("anything.example", "/live/cam1/index0.ts?auth="+tok); resp.StatusCode != 200 || body(t, resp) != "TS-0" {
		t.Errorf("stream: %d", resp.StatusCode)
	}
	if resp := h.get("anything.example", "/live/cam2/b.ts"); resp.StatusCode != 200 || body(t, resp) != "BUCKET" {
		t.Errorf("the bucket's /live/cam2: %d", resp.StatusCode)
	}
	if resp := h.get("anything.example", "/live/cam1/index0.ts"); resp.StatusCode != 401 {
		t.Errorf("the public bucket never serves the stream's path: %d", resp.StatusCode)
	}
}

// TestStreamMetrics: a stream's requests and checks count under the
// bucket label live/{id}, which no bucket name can take.
func TestStreamMetrics(t *testing.T) {
	h := newHarness(t, withStream(t))
	k := h.addStreamKey("key1.pem", "s1", streamID)
	tok := sign(t, k, signer.Claims{Expires: h.clock.Now().Add(time.Hour)})
	h.get(edgeHost, "/live/cam1/index0.ts?auth="+tok)
	h.get(edgeHost, "/live/cam1/index0.ts")
	rec := httptest.NewRecorder()
	h.e.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`signgate_edge_requests_total{bucket="live/cam1",code="200"} 1`,
		`signgate_edge_requests_total{bucket="live/cam1",code="401"} 1`,
		`signgate_edge_token_checks_total{bucket="live/cam1",result="ok"} 1`,
		`signgate_edge_token_checks_total{bucket="live/cam1",result="token_missing"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestStreamMaxStaleness: past SIGNGATE_EDGE_MAX_STALENESS without a good
// read of the store, a live stream fails closed as an authenticated
// bucket does.
func TestStreamMaxStaleness(t *testing.T) {
	h := newHarness(t, func(c *config.Edge) {
		withStream(t)(c)
		c.MaxStaleness = 3 * c.Refresh
	})
	k := h.addStreamKey("key1.pem", "s1", streamID)
	tok := sign(t, k, signer.Claims{})
	if resp := h.get(edgeHost, "/live/cam1/index0.ts?auth="+tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh: %d", resp.StatusCode)
	}
	h.clock.Advance(4 * h.e.cfg.Refresh)
	if resp := h.get(edgeHost, "/live/cam1/index0.ts?auth="+tok); resp.StatusCode != http.StatusServiceUnavailable || errorCode(t, resp) != "store_stale" {
		t.Errorf("past the bound: %d, want 503 store_stale", resp.StatusCode)
	}
}
