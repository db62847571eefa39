package proxy

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
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
