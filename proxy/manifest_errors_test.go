package proxy

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestManifestErrors(t *testing.T) {
	f, c := streamFixture(t, "manifest", map[string]string{"SIGNGATE_ROUTES_0_MANIFEST_MAX_BYTES": "1024"})
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the gateway followed a redirect off the CDN: %s", r.URL.Path)
	}))
	defer other.Close()
	big := "#EXTM3U\n" + strings.Repeat("#EXTINF:1,\nseg.ts\n", 100)
	c.hook("/media/refused.m3u8", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Signgate-Reason", "unknown_key")
		http.Error(w, "no", http.StatusForbidden)
	})
	c.hook("/media/broken.m3u8", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	c.hook("/media/chunked.m3u8", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("#EXTM3U\n"))
		for i := 0; i < 100; i++ {
			w.Write([]byte("#EXTINF:1,\nseg.ts\n"))
			w.(http.Flusher).Flush()
		}
	})
	c.hook("/media/away.m3u8", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/media/away.m3u8?"+r.URL.RawQuery, http.StatusFound)
	})
	c.hook("/media/moved.m3u8", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/media/x/ok.m3u8?"+r.URL.RawQuery, http.StatusFound)
	})
	c.hook("/media/gzip.m3u8", func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			t.Error("the gateway does not ask for gzip")
		}
		var b bytes.Buffer
		z := gzip.NewWriter(&b)
		z.Write([]byte("#EXTM3U\n#EXTINF:1,\nseg.ts\n"))
		z.Close()
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(b.Bytes())
	})
	c.put("/media/x/ok.m3u8", "#EXTM3U\n#EXTINF:1,\nseg.ts\n")
	c.put("/media/html.m3u8", "<html>login</html>")
	c.put("/media/html.mpd", "<html>login</html>")
	c.put("/media/big.m3u8", big)
	c.put("/media/inherited.mpd", `<MPD><Period><AdaptationSet><SegmentTemplate media="s-$Number$.m4s"/>`+
		`<Representation id="a"><BaseURL>a/</BaseURL></Representation></AdaptationSet></Period></MPD>`)
	for _, tc := range []struct {
		path       string
		wantStatus int
		wantCode   string // or, for a 200, what the body holds
	}{
		{"/media/missing.m3u8", 404, "not_found"},
		{"/media/refused.m3u8", 502, "cdn_refused"},
		{"/media/broken.m3u8", 502, "cdn_unavailable"},
		{"/media/html.m3u8", 502, "manifest_malformed"},
		{"/media/html.mpd", 502, "manifest_malformed"},
		{"/media/big.m3u8", 502, "manifest_too_large"},
		{"/media/inherited.mpd", 502, "manifest_unsupported"},
		{"/media/chunked.m3u8", 502, "manifest_too_large"}, // no Content-Length: counted while read
		{"/media/away.m3u8", 502, "cdn_unavailable"},
		{"/media/moved.m3u8", 200, c.URL + "/media/x/seg.ts?auth="}, // relative to where it was found
		{"/media/gzip.m3u8", 200, c.URL + "/media/seg.ts?auth="},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp := f.get(tc.path, nil)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body(t, resp))
			}
			if tc.wantStatus == 200 {
				if got := body(t, resp); !strings.Contains(got, tc.wantCode) {
					t.Errorf("body lacks %q:\n%s", tc.wantCode, got)
				}
				return
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			if code := errorCode(t, resp); code != tc.wantCode {
				t.Errorf("code %q, want %q", code, tc.wantCode)
			}
		})
	}
	logs := f.logs.String()
	if !strings.Contains(logs, `unknown_key`) {
		t.Errorf("the edge's reason is not in the log:\n%s", logs)
	}
	if strings.Contains(logs, "auth=") || strings.Contains(logs, "eyJ") {
		t.Errorf("a token reached the log:\n%s", logs)
	}
}

func TestManifestTimeout(t *testing.T) {
	f, c := streamFixture(t, "manifest", map[string]string{"SIGNGATE_ROUTES_0_MANIFEST_TIMEOUT": "100ms"})
	c.hook("/media/slow.m3u8", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // until the gateway gives up
	})
	c.hook("/media/stalled.m3u8", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("#EXTM3U\n#EXTINF:1,\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the body never ends
	})
	for _, p := range []string{"/media/slow.m3u8", "/media/stalled.m3u8"} {
		start := time.Now()
		resp := f.get(p, nil)
		if resp.StatusCode != 504 || errorCode(t, resp) != "cdn_timeout" {
			t.Errorf("%s: status %d, want 504 cdn_timeout", p, resp.StatusCode)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %s", p, d)
		}
	}
}

func TestManifestLimits(t *testing.T) {
	f, c := streamFixture(t, "manifest", map[string]string{"SIGNGATE_ROUTES_0_MANIFEST_MAX_BYTES": "4096"})
	// 2 KiB of one-letter URIs would swell to ~600 KiB of signed URLs.
	c.put("/media/tiny.m3u8", "#EXTM3U\n"+strings.Repeat("a\n", 1000))
	var dirs strings.Builder
	dirs.WriteString("#EXTM3U\n")
	for i := range maxManifestScopes + 1 {
		dirs.WriteString("#EXTINF:1,\n../d" + string(rune('a'+i)) + "/x.ts\n")
	}
	c.put("/media/v/dirs.m3u8", dirs.String())
	for _, p := range []string{"/media/tiny.m3u8", "/media/v/dirs.m3u8"} {
		resp := f.get(p, nil)
		if resp.StatusCode != 502 || errorCode(t, resp) != "manifest_too_large" {
			t.Errorf("%s: status %d, want 502 manifest_too_large", p, resp.StatusCode)
		}
	}
}

// TestManifestConcurrency: with SIGNGATE_MANIFEST_CONCURRENCY=1, a manifest
// held up by a slow CDN takes the only turn. A request on a route with a
// short manifest timeout waits that long, then gets 503 manifest_busy with
// Retry-After; one with time to wait is served once the turn is free.
func TestManifestConcurrency(t *testing.T) {
	f, c := streamFixture(t, "manifest", map[string]string{
		"SIGNGATE_MANIFEST_CONCURRENCY":      "1",
		"SIGNGATE_ROUTES_0_MANIFEST_TIMEOUT": "1m",
		"SIGNGATE_ROUTES_1_PREFIX":           "/quick",
		"SIGNGATE_ROUTES_1_CDN_BASE":         "$CDN",
		"SIGNGATE_ROUTES_1_KEY_FILE":         filepath.Join("testdata", "key1.pem"),
		"SIGNGATE_ROUTES_1_KEY_ID":           "key1",
		"SIGNGATE_ROUTES_1_STREAMING":        "manifest",
		"SIGNGATE_ROUTES_1_MANIFEST_TIMEOUT": "200ms",
	})
	const playlist = "#EXTM3U\n#EXTINF:1,\na.ts\n"
	c.put("/quick/q.m3u8", playlist)
	c.put("/media/v/next.m3u8", playlist)
	arrived, release := make(chan struct{}), make(chan struct{})
	c.hook("/media/v/slow.m3u8", func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		io.WriteString(w, playlist)
	})
	get := func(p string) <-chan int {
		ch := make(chan int, 1)
		req, _ := http.NewRequest("GET", f.srv.URL+p, nil)
		req.Header.Set("Authorization", "Bearer "+f.session("alice", nil))
		go func() {
			resp, err := noRedirect().Do(req)
			if err != nil {
				t.Error(err)
				ch <- 0
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ch <- resp.StatusCode
		}()
		return ch
	}
	slow := get("/media/v/slow.m3u8")
	<-arrived

	start := time.Now()
	resp := f.get("/quick/q.m3u8", nil)
	waited := time.Since(start)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || errorCode(t, resp) != "manifest_busy" {
		t.Errorf("while the only turn is taken: status %d, Retry-After %q, want 503 manifest_busy with Retry-After 1",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if waited < 200*time.Millisecond {
		t.Errorf("answered after %s, before the route's manifest timeout", waited)
	}

	next := get("/media/v/next.m3u8")
	close(release)
	if code := <-slow; code != 200 {
		t.Errorf("the slow manifest: status %d, want 200", code)
	}
	if code := <-next; code != 200 {
		t.Errorf("the manifest that waited its turn: status %d, want 200", code)
	}
	if resp := f.get("/quick/q.m3u8", nil); resp.StatusCode != 200 {
		t.Errorf("with the turn free: status %d, want 200", resp.StatusCode)
	}
	rec := httptest.NewRecorder()
	f.gw.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if want := `signgate_manifest_rewrites_total{format="hls",outcome="manifest_busy",route="1"} 1`; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("metrics lack %s", want)
	}
}
