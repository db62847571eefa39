package edge

import (
	"bufio"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/testenv"
	"github.com/signgate/signgate/signer"
)

func TestServeContentTypes(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct{ path, ctype string }{
		{"/v/abc/master.m3u8", "application/vnd.apple.mpegurl"},
		{"/v/abc/manifest.mpd", "application/dash+xml"},
		{"/v/abc/seg0.ts", "video/mp2t"},
		{"/v/abc/init.m4s", "video/iso.segment"},
		{"/v/abc/video.mp4", "video/mp4"},
		{"/v/abc/clip.webm", "video/webm"},
		{"/top.txt", "text/plain; charset=utf-8"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp := h.get(mediaHost, tc.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			want := testFiles()[tc.path[1:]]
			if got := body(t, resp); got != want {
				t.Errorf("body %q, want %q", got, want)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "" {
				t.Errorf("public file has Cache-Control %q", cc)
			}
		})
	}
}

func TestServeRangeAndConditional(t *testing.T) {
	h := newHarness(t, nil)
	const p = "/v/abc/video.mp4"
	full := h.get(mediaHost, p)
	etag, lm := full.Header.Get("Etag"), full.Header.Get("Last-Modified")
	if etag == "" || lm == "" || full.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("validators: Etag %q, Last-Modified %q, Accept-Ranges %q", etag, lm, full.Header.Get("Accept-Ranges"))
	}
	for _, tc := range []struct {
		name   string
		method string
		hdr    []string
		status int
		body   string
	}{
		{"range", "GET", []string{"Range", "bytes=2-5"}, http.StatusPartialContent, "2345"},
		{"suffix range", "GET", []string{"Range", "bytes=-3"}, http.StatusPartialContent, "hij"},
		{"unsatisfiable", "GET", []string{"Range", "bytes=100-"}, http.StatusRequestedRangeNotSatisfiable, ""},
		{"if-match other", "GET", []string{"If-Match", `"nope"`}, http.StatusPreconditionFailed, ""},
		{"if-unmodified-since old", "GET", []string{"If-Unmodified-Since", time.Unix(0, 0).UTC().Format(http.TimeFormat)}, http.StatusPreconditionFailed, ""},
		{"if-none-match", "GET", []string{"If-None-Match", etag}, http.StatusNotModified, ""},
		{"if-none-match other", "GET", []string{"If-None-Match", `"nope"`}, http.StatusOK, "0123456789abcdefghij"},
		{"if-modified-since", "GET", []string{"If-Modified-Since", lm}, http.StatusNotModified, ""},
		{"if-modified-since old", "GET", []string{"If-Modified-Since", time.Unix(0, 0).UTC().Format(http.TimeFormat)}, http.StatusOK, "0123456789abcdefghij"},
		{"if-range match", "GET", []string{"Range", "bytes=0-1", "If-Range", etag}, http.StatusPartialContent, "01"},
		{"if-range stale", "GET", []string{"Range", "bytes=0-1", "If-Range", `"old"`}, http.StatusOK, "0123456789abcdefghij"},
		{"head", "HEAD", nil, http.StatusOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.do(tc.method, mediaHost, p, tc.hdr...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status >= 400 {
				checkErrorHeaders(t, resp)
				if tc.status == http.StatusRequestedRangeNotSatisfiable && resp.Header.Get("Content-Range") != "bytes */20" {
					t.Errorf("416 Content-Range %q", resp.Header.Get("Content-Range"))
				}
				return
			}
			if got := body(t, resp); got != tc.body {
				t.Errorf("body %q, want %q", got, tc.body)
			}
			if tc.method == "HEAD" && resp.Header.Get("Content-Length") != "20" {
				t.Errorf("HEAD Content-Length %q", resp.Header.Get("Content-Length"))
			}
		})
	}
}

// checkErrorHeaders asserts what every error answer of the edge carries:
// Cache-Control: no-store, and no validator or media type of the file it
// is not.
func checkErrorHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%d: Cache-Control %q, want no-store", resp.StatusCode, cc)
	}
	for _, k := range []string{"Etag", "Last-Modified"} {
		if v := resp.Header.Get(k); v != "" {
			t.Errorf("%d: %s %q on an error", resp.StatusCode, k, v)
		}
	}
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "video/") {
		t.Errorf("%d: Content-Type %q on an error", resp.StatusCode, ct)
	}
}

// An authenticated bucket's failed precondition is an error too: no-store
// wins over the private answer's Cache-Control.
func TestServePreconditionPrivate(t *testing.T) {
	h := newHarness(t, func(c *config.Edge) { c.Buckets[0].Policy = config.PolicyAuthenticated })
	k := h.addKey("key1.pem", "k1", "media")
	tok := sign(t, k, signer.Claims{})
	for _, hdr := range [][]string{
		{"If-Match", `"nope"`},
		{"Range", "bytes=100-"},
	} {
		resp := h.get(mediaHost, "/v/abc/video.mp4?auth="+tok, hdr...)
		if resp.StatusCode < 400 {
			t.Fatalf("%s: status %d", hdr[0], resp.StatusCode)
		}
		checkErrorHeaders(t, resp)
	}
}

func TestServeHosts(t *testing.T) {
	h := newHarness(t, nil)
	for _, tc := range []struct {
		host   string
		status int
	}{
		{mediaHost, 200},
		{"MEDIA.media-storage.US-WEST.example.test", 200},
		{mediaHost + ":8443", 200},
		{mediaHost + ".", 200},
		{"cdn.example.test", 200},
		{"unknown.example.test", 404},
		{"media.media-storage.eu-central.example.test", 404},
		// The name is read once (hostName): these reached the bucket when
		// it was read a second time, which took off a second port or dot.
		{"[" + mediaHost + ":1]:2", 404},
		{mediaHost + "..", 404},
	} {
		t.Run(tc.host, func(t *testing.T) {
			resp := h.get(tc.host, "/top.txt")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == 404 {
				if code := errorCode(t, resp); code != "bucket_not_found" {
					t.Errorf("code %q", code)
				}
			}
		})
	}
}

func TestServeSingleBucket(t *testing.T) {
	h := newHarness(t, func(c *config.Edge) {
		c.Buckets = c.Buckets[:1]
		c.Domain, c.Buckets[0].Hosts = "", nil
		c.SingleBucket = true
	})
	if resp := h.get("anything.example", "/top.txt"); resp.StatusCode != 200 || body(t, resp) != "top" {
		t.Errorf("single-bucket mode: %d", resp.StatusCode)
	}
}

func TestServeMethodNotAllowed(t *testing.T) {
	h := newHarness(t, nil)
	for _, m := range []string{"POST", "PUT", "DELETE", "OPTIONS"} {
		resp := h.do(m, mediaHost, "/top.txt")
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d, Allow %q", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

// rawGet sends a request line byte for byte, as no client library would,
// and returns the status.
func rawGet(t *testing.T, addr, host, target string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, host)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := make([]byte, 4096)
	n, _ := resp.Body.Read(b)
	return resp.StatusCode, string(b[:n])
}

func TestServePathTraversal(t *testing.T) {
	root := t.TempDir()
	cfg := baseConfig(t, root)
	// A secret next to the bucket, and links from the bucket to it.
	writeFile(t, filepath.Join(root, "secret.txt"), "SECRET")
	if err := os.Symlink(filepath.Join(root, "secret.txt"), filepath.Join(cfg.Buckets[0].Origin, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../secret.txt", filepath.Join(cfg.Buckets[0].Origin, "rel.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, filepath.Join(cfg.Buckets[0].Origin, "up")); err != nil {
		t.Fatal(err)
	}
	h := startHarness(t, cfg, newClock())
	addr := strings.TrimPrefix(h.media.URL, "http://")
	for _, tc := range []struct {
		target string
		status int
	}{
		{"/../secret.txt", 400},
		{"/v/../../secret.txt", 400},
		{"/%2e%2e/secret.txt", 400},
		{"/%2E%2E/secret.txt", 400},
		{"/v/%2e%2e/%2e%2e/secret.txt", 400},
		{"/..%2fsecret.txt", 400},
		{"/..%5csecret.txt", 400},
		{"/v/abc/%00seg0.ts", 400},
		{"/v//abc/seg0.ts", 400},
		{"/./top.txt", 400},
		{"/v/abc/.", 400},
		{"/..\\secret.txt", 400},
		{"/%zz", 400}, // refused by net/http itself
		{"/link.txt", 404},
		{"/rel.txt", 404},
		{"/up/secret.txt", 404},
		{"/v", 404},
		{"/", 404},
		{"/nope.ts", 404},
		{"/v/abc/seg0.ts", 200},
		{"/v/abc/seg%30.ts", 200},
	} {
		t.Run(tc.target, func(t *testing.T) {
			status, body := rawGet(t, addr, mediaHost, tc.target)
			if status != tc.status {
				t.Errorf("status %d, want %d: %s", status, tc.status, body)
			}
			if strings.Contains(body, "SECRET") {
				t.Errorf("the secret leaked: %s", body)
			}
			if status == 400 && tc.target != "/%zz" && !strings.Contains(body, `"path_not_canonical"`) {
				t.Errorf("400 without path_not_canonical: %s", body)
			}
		})
	}
}

// TestAccessLogSetting: SIGNGATE_EDGE_ACCESS_LOG=false silences the media
// requests' lines, and the control API's requests are logged either way.
func TestAccessLogSetting(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprint(on), func(t *testing.T) {
			h := newHarness(t, func(c *config.Edge) { c.AccessLog = on })
			resp := h.get(mediaHost, "/v/abc/seg0.ts")
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("media: status %d", resp.StatusCode)
			}
			if code, _, _ := h.call(http.MethodGet, "/v1/buckets/media/policy", h.bearer(), ""); code != http.StatusOK {
				t.Fatalf("API: status %d", code)
			}
			logs := h.logs.String()
			if got := strings.Contains(logs, `"path":"/v/abc/seg0.ts"`); got != on {
				t.Errorf("media request logged: %v, want %v\n%s", got, on, logs)
			}
			if !strings.Contains(logs, `"path":"/v1/buckets/media/policy"`) {
				t.Errorf("the API request was not logged:\n%s", logs)
			}
		})
	}
}

// TestHostNameMatchesSplitHostPort holds hostName, which asks
// net.SplitHostPort only where a port may follow, to the name that
// asking it always gives, over generated Host headers: names, IPv4 and
// IPv6 literals, with and without brackets, ports, empty ports, colons
// and dots where they do not belong, in either case.
func TestHostNameMatchesSplitHostPort(t *testing.T) {
	always := func(host string) string {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return strings.TrimSuffix(strings.ToLower(host), ".")
	}
	pieces := []string{"media", ".", "Example", "test", ":", "8443", "[", "]", "::1", "127.0.0.1", "fe80::1%eth0", "", ":80", "]:", "[::"}
	r := rand.New(rand.NewPCG(5, 6))
	for range 200000 {
		host := testenv.Pieces(r, pieces, 6)
		if got, want := hostName(host), always(host); got != want {
			t.Fatalf("hostName(%q) = %q, want %q", host, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { hostName(mediaHost) }); n != 0 {
		t.Errorf("hostName(%q) allocates %v times", mediaHost, n)
	}
}

// TestEtagMatchesConcatenation holds etag to the validator it always
// was, over generated times and sizes, the extremes included.
func TestEtagMatchesConcatenation(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 100000 {
		ns, size := r.Int64()-r.Int64(), r.Int64N(1<<40)
		if i < 4 {
			ns, size = []int64{math.MinInt64, math.MaxInt64, 0, -1}[i], []int64{math.MaxInt64, 0, 1, 36}[i]
		}
		fi := fileInfo{mod: time.Unix(0, ns), size: size}
		want := `"` + strconv.FormatInt(fi.mod.UnixNano(), 36) + "-" + strconv.FormatInt(size, 36) + `"`
		if got := etag(fi); got != want {
			t.Fatalf("etag(%d, %d) = %s, want %s", ns, size, got, want)
		}
	}
}

// fileInfo is an fs.FileInfo of a modification time and a size.
type fileInfo struct {
	fs.FileInfo
	mod  time.Time
	size int64
}

func (f fileInfo) ModTime() time.Time { return f.mod }
func (f fileInfo) Size() int64        { return f.size }
