package proxy

import (
	"fmt"
	"github.com/signgate/signgate/signer"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/signgate/signgate/internal/manifest"
)

// vodPlaylist is an HLS media playlist of n two-second segments, as an
// hour of VOD (n = 1800) looks.
func vodPlaylist(n int) string {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-MAP:URI=\"init.mp4\"\n")
	for i := range n {
		fmt.Fprintf(&b, "#EXTINF:2.000000,\nseg-%05d.m4s\n", i)
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	return b.String()
}

// BenchmarkManifestRewrite is the rewrite alone (parse, sign from a warm
// token cache, re-serialise), in process: the sample master, the sample
// MPD, and an hour of VOD segments.
func BenchmarkManifestRewrite(b *testing.B) {
	master, err := os.ReadFile("../internal/demo/media/hls/master.m3u8")
	if err != nil {
		b.Fatal(err)
	}
	mpd, err := os.ReadFile("../internal/demo/media/dash/manifest.mpd")
	if err != nil {
		b.Fatal(err)
	}
	f, c := streamFixture(b, "manifest", map[string]string{"SIGNGATE_ROUTES_0_PUBLIC": "true"})
	rt := f.gw.routes.match("/media/v")
	for _, tc := range []struct {
		name, path, body string
		f                manifestFormat
		uris             int
	}{
		{"hls-master", "/media/v/master.m3u8", string(master), formatHLS, 2},
		{"dash-sample", "/media/v/manifest.mpd", string(mpd), formatDASH, 6},
		{"hls-vod-1800", "/media/v/index.m3u8", vodPlaylist(1800), formatHLS, 1801},
	} {
		b.Run(tc.name, func(b *testing.B) {
			base, _ := url.Parse(c.URL + tc.path)
			parse := manifest.HLS
			if tc.f == formatDASH {
				parse = manifest.DASH
			}
			m := &rewriter{g: f.gw, rt: rt, signer: rt.currentSigner(), scope: signer.Grant{Path: "/media/v", Prefix: true}, tokens: map[signer.Grant]signer.Token{}, budget: 8 << 20}
			out, err := parse(strings.NewReader(tc.body), base, 1<<20, m.rewrite)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.body)))
			defer cpuPerOp(b)()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					m := &rewriter{g: f.gw, rt: rt, signer: rt.currentSigner(), scope: signer.Grant{Path: "/media/v", Prefix: true}, tokens: map[signer.Grant]signer.Token{}, budget: 8 << 20}
					if _, err := parse(strings.NewReader(tc.body), base, 1<<20, m.rewrite); err != nil {
						b.Fatal(err)
					}
					if n := m.counts[uriMedia] + m.counts[uriTemplate] + m.counts[uriPlaylist]; n != tc.uris {
						b.Fatalf("%d URIs rewritten, want %d", n, tc.uris)
					}
				}
			})
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(tc.uris), "ns/uri")
			b.ReportMetric(float64(len(out)), "out-bytes")
		})
	}
}

// BenchmarkManifestRequest is a whole manifest request through the
// gateway handler (in process), the CDN fetch over loopback included: what
// manifest mode costs per playlist, against a redirect.
func BenchmarkManifestRequest(b *testing.B) {
	master, err := os.ReadFile("../internal/demo/media/hls/master.m3u8")
	if err != nil {
		b.Fatal(err)
	}
	f, c := streamFixture(b, "manifest", map[string]string{"SIGNGATE_ROUTES_0_PUBLIC": "true"})
	c.put("/media/v/master.m3u8", string(master))
	c.put("/media/v/index.m3u8", vodPlaylist(1800))
	for _, p := range []string{"/media/v/master.m3u8", "/media/v/index.m3u8"} {
		b.Run(strings.TrimPrefix(p, "/media/v/"), func(b *testing.B) {
			h := f.gw.Handler()
			b.ReportAllocs()
			defer cpuPerOp(b)()
			b.RunParallel(func(pb *testing.PB) {
				r, _ := http.NewRequest("GET", p, nil)
				r.RemoteAddr = "192.0.2.1:1234"
				w := &bodyCounter{h: http.Header{}}
				for pb.Next() {
					w.reset()
					h.ServeHTTP(w, r)
					if w.code != http.StatusOK || w.n == 0 {
						b.Fatalf("status %d", w.code)
					}
				}
			})
		})
	}
}

// bodyCounter is a ResponseWriter that counts the body and keeps nothing.
type bodyCounter struct {
	h    http.Header
	code int
	n    int
}

func (w *bodyCounter) Header() http.Header         { return w.h }
func (w *bodyCounter) WriteHeader(code int)        { w.code = code }
func (w *bodyCounter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }
func (w *bodyCounter) reset()                      { clear(w.h); w.code, w.n = 0, 0 }
