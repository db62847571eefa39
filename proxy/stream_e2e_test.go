package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/edge"
	"github.com/signgate/signgate/internal/testenv"
	"github.com/signgate/signgate/signer"
)

// These tests run real players (ffmpeg, ffprobe) against a real edge (an
// authenticated bucket over a temporary copy of the demo's sample media,
// its key in an SQLite store) behind a gateway on a real listener. The
// gateway's route is /media, stripped, so /media/hls/master.m3u8 is the
// bucket path /hls/master.m3u8.

// sampleMedia is the demo's media directory.
const sampleMedia = "../internal/demo/media"

// realEdge is an edge serving a copy of the sample media from one
// authenticated bucket.
type realEdge struct {
	srv  *httptest.Server
	dir  string // the bucket's directory
	logs *syncBuffer
}

func startEdge(t *testing.T, key *signer.SigningKey) *realEdge {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "media")
	if err := os.CopyFS(dir, os.DirFS(sampleMedia)); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{} // the tests read what the edge served from its access log
	srv := serveBucket(t, root, dir, "media", logs, key)
	return &realEdge{srv: srv, dir: dir, logs: logs}
}

// served returns, from the edge's access log, the statuses each path got.
func (e *realEdge) served(t *testing.T) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	sc := bufio.NewScanner(strings.NewReader(e.logs.String()))
	for sc.Scan() {
		var l struct {
			Msg, Path string
			Status    int
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "request" {
			out[l.Path] = append(out[l.Path], l.Status)
		}
	}
	return out
}

// mediaFiles lists the bucket paths of the files under dir of the bucket,
// manifests aside.
func (e *realEdge) mediaFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(e.dir, dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := filepath.Ext(p); ext != ".m3u8" && ext != ".mpd" {
			rel, _ := filepath.Rel(e.dir, p)
			out = append(out, "/"+filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkAllServed fails t unless every media file under dir got a 2xx
// from the edge, which for an authenticated bucket means a verified token.
func (e *realEdge) checkAllServed(t *testing.T, dir string) {
	t.Helper()
	served := e.served(t)
	files := e.mediaFiles(t, dir)
	if len(files) == 0 {
		t.Fatalf("no media under %s", dir)
	}
	for _, p := range files {
		ok := false
		for _, s := range served[p] {
			ok = ok || s == 200 || s == 206
		}
		if !ok {
			t.Errorf("%s: edge answered %v, want a 2xx", p, served[p])
		}
	}
	for p, ss := range served {
		for _, s := range ss {
			if s == 401 || s == 403 {
				t.Errorf("%s: the edge refused a request (%d)", p, s)
			}
		}
	}
}

// playerGateway starts an edge and a gateway over it in the given
// streaming mode.
func playerGateway(t *testing.T, mode string) (*fixture, *realEdge) {
	t.Helper()
	e := startEdge(t, testKey(t, "key1.pem"))
	f := newFixture(t, map[string]string{
		"SIGNGATE_ROUTES_0_CDN_BASE":     e.srv.URL,
		"SIGNGATE_ROUTES_0_STRIP_PREFIX": "true",
		"SIGNGATE_ROUTES_0_STREAMING":    mode,
	})
	return f, e
}

// runPlayer runs a player program, bounded in time, and returns its
// combined output and error.
func runPlayer(t *testing.T, prog string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s timed out:\n%s", filepath.Base(prog), out.String())
	}
	return out.String(), err
}

// decode has ffmpeg read every stream of url and decode every frame,
// sending the given HTTP headers with each of its requests.
func decode(t *testing.T, ffmpeg, url string, headers ...string) (string, error) {
	t.Helper()
	args := []string{"-nostdin", "-hide_banner", "-v", "error"}
	if len(headers) > 0 {
		args = append(args, "-headers", strings.Join(headers, "\r\n")+"\r\n")
	}
	args = append(args, "-i", url, "-map", "0", "-f", "null", "-")
	return runPlayer(t, ffmpeg, args...)
}

// streamCount has ffprobe count the streams of url by type.
func streamCount(t *testing.T, ffprobe, url string, headers ...string) map[string]int {
	t.Helper()
	args := []string{"-v", "error", "-show_entries", "stream=codec_type", "-of", "json"}
	if len(headers) > 0 {
		args = append(args, "-headers", strings.Join(headers, "\r\n")+"\r\n")
	}
	out, err := runPlayer(t, ffprobe, append(args, url)...)
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", url, err, out)
	}
	var probe struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
		}
	}
	if err := json.Unmarshal([]byte(out), &probe); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, out)
	}
	n := map[string]int{}
	for _, s := range probe.Streams {
		n[s.CodecType]++
	}
	return n
}

func TestPlayerManifestModeHLS(t *testing.T) {
	ffmpeg := testenv.Program(t, "ffmpeg")
	ffprobe := testenv.Program(t, "ffprobe")
	f, e := playerGateway(t, config.StreamingManifest)
	auth := "Authorization: Bearer " + f.session("alice", nil)
	master := f.srv.URL + "/media/hls/master.m3u8"

	if n := streamCount(t, ffprobe, master, auth); n["video"] != 2 || n["audio"] != 2 {
		t.Errorf("ffprobe found %v, want both variants: 2 video and 2 audio streams", n)
	}
	if out, err := decode(t, ffmpeg, master, auth); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	e.checkAllServed(t, "hls")
	// The variant playlists came through the gateway, rewritten.
	logs := f.logs.String()
	for _, p := range []string{"/media/hls/360p/index.m3u8", "/media/hls/180p/index.m3u8"} {
		if !strings.Contains(logs, `"path":"`+p+`","status":200`) {
			t.Errorf("the gateway did not serve %s", p)
		}
	}
	if strings.Contains(logs, "auth=") || strings.Contains(e.logs.String(), "auth=") {
		t.Error("a signed URL reached a log")
	}
}

func TestPlayerManifestModeDASH(t *testing.T) {
	ffmpeg := testenv.Program(t, "ffmpeg")
	ffprobe := testenv.Program(t, "ffprobe")
	f, e := playerGateway(t, config.StreamingManifest)
	auth := "Authorization: Bearer " + f.session("alice", nil)
	mpd := f.srv.URL + "/media/dash/manifest.mpd"

	if n := streamCount(t, ffprobe, mpd, auth); n["video"] != 2 || n["audio"] != 1 {
		t.Errorf("ffprobe found %v, want 2 video and 1 audio representations", n)
	}
	if out, err := decode(t, ffmpeg, mpd, auth); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	e.checkAllServed(t, "dash")
}

func TestPlayerCookieModeHLS(t *testing.T) {
	ffmpeg := testenv.Program(t, "ffmpeg")
	f, e := playerGateway(t, config.StreamingCookie)
	resp := f.get("/media/hls/master.m3u8", nil)
	if resp.StatusCode != 302 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	c := authCookie(resp)
	if c == nil || c.Path != "/hls" {
		t.Fatalf("cookie %v, want one for /hls", c)
	}
	if CookieName != edge.CookieName {
		t.Fatalf("the gateway sets %s, the edge reads %s", CookieName, edge.CookieName)
	}
	loc := resp.Header.Get("Location")

	t.Run("only the redirect", func(t *testing.T) {
		out, err := decode(t, ffmpeg, loc)
		if err == nil {
			t.Fatalf("ffmpeg decoded without the cookie:\n%s", out)
		}
		// The master came with the query token; its relative variant
		// playlists lost it.
		served := e.served(t)
		if s := served["/hls/master.m3u8"]; len(s) == 0 || s[0] != 200 && s[0] != 206 {
			t.Errorf("master: %v, want a 2xx", s)
		}
		for _, p := range []string{"/hls/360p/index.m3u8", "/hls/180p/index.m3u8"} {
			if s := served[p]; len(s) > 0 && s[0] != 401 {
				t.Errorf("%s: %v, want 401 from the edge", p, s)
			}
		}
		if len(served["/hls/360p/index.m3u8"])+len(served["/hls/180p/index.m3u8"]) == 0 {
			t.Error("ffmpeg asked for no variant playlist")
		}
		// ffmpeg never got as far as a segment; a segment fetched as the
		// player would, without the cookie, gets 401 too, and 200 with it.
		for _, cookie := range []string{"", c.Name + "=" + c.Value} {
			req, _ := http.NewRequest("GET", e.srv.URL+"/hls/360p/seg-000.m4s", nil)
			want := http.StatusOK
			if cookie == "" {
				want = http.StatusUnauthorized
			} else {
				req.Header.Set("Cookie", cookie)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("segment with cookie %v: %d, want %d (%s)", cookie != "", resp.StatusCode, want, resp.Header.Get(edge.ReasonHeader))
			}
		}
	})
	t.Run("through the gateway", func(t *testing.T) {
		// ffmpeg keeps the Set-Cookie of the redirect, as a browser does.
		e.logs.Reset()
		// The cookie is host-only on 127.0.0.1, and cookies ignore ports,
		// so it reaches the edge.
		if out, err := decode(t, ffmpeg, f.srv.URL+"/media/hls/master.m3u8", "Authorization: Bearer "+f.session("alice", nil)); err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, out)
		}
		e.checkAllServed(t, "hls")
	})
	t.Run("with the cookie", func(t *testing.T) {
		e.logs.Reset()
		if out, err := decode(t, ffmpeg, loc, "Cookie: "+c.Name+"="+c.Value); err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, out)
		}
		e.checkAllServed(t, "hls")
	})
}

func TestPlayerWithoutSession(t *testing.T) {
	ffmpeg := testenv.Program(t, "ffmpeg")
	for _, mode := range []string{config.StreamingManifest, config.StreamingCookie} {
		t.Run(mode, func(t *testing.T) {
			f, e := playerGateway(t, mode)
			out, err := decode(t, ffmpeg, f.srv.URL+"/media/hls/master.m3u8")
			if err == nil || !strings.Contains(out, "401") {
				t.Fatalf("ffmpeg without a session: %v\n%s", err, out)
			}
			if resp := f.do("GET", "/media/hls/master.m3u8", nil); resp.StatusCode != 401 {
				t.Errorf("status %d, want 401", resp.StatusCode)
			}
			if n := len(e.served(t)); n != 0 {
				t.Errorf("the edge was asked %d times", n)
			}
		})
	}
}

func TestRangeThroughTheRedirect(t *testing.T) {
	for _, mode := range []string{config.StreamingOff, config.StreamingManifest, config.StreamingCookie} {
		t.Run(mode, func(t *testing.T) {
			f, e := playerGateway(t, mode)
			want, err := os.ReadFile(filepath.Join(e.dir, "progressive.webm"))
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("GET", f.srv.URL+"/media/progressive.webm", nil)
			req.Header.Set("Authorization", "Bearer "+f.session("alice", nil))
			req.Header.Set("Range", "bytes=1000-4999")
			client := &http.Client{Timeout: 10 * time.Second} // follows the redirect
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusPartialContent {
				t.Fatalf("status %d, want 206: %s", resp.StatusCode, got)
			}
			if !bytes.Equal(got, want[1000:5000]) {
				t.Errorf("got %d bytes, not bytes 1000-4999 of the file", len(got))
			}
			if cr := resp.Header.Get("Content-Range"); cr != "bytes 1000-4999/"+strconv.Itoa(len(want)) {
				t.Errorf("Content-Range %q", cr)
			}
			if resp.Request.URL.Host == req.URL.Host {
				t.Error("the redirect was not followed to the edge")
			}
		})
	}
}

// TestNestedStreamCookies: a browser holding cookies for nested
// directories sends both, the most specific first, and the edge accepts
// the request when one of them grants the path.
func TestNestedStreamCookies(t *testing.T) {
	f, e := playerGateway(t, config.StreamingCookie)
	outer := authCookie(f.get("/media/hls/master.m3u8", nil))
	inner := authCookie(f.get("/media/hls/360p/index.m3u8", nil))
	if outer == nil || inner == nil || outer.Path != "/hls" || inner.Path != "/hls/360p" {
		t.Fatalf("cookies %v and %v", outer, inner)
	}
	for _, tc := range []struct {
		cookies    string
		wantStatus int
	}{
		{outer.Name + "=" + outer.Value, 200},
		{inner.Name + "=" + inner.Value + "; " + outer.Name + "=" + outer.Value, 200}, // as a browser orders them
		{outer.Name + "=" + outer.Value + "; " + inner.Name + "=" + inner.Value, 200},
	} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/hls/360p/seg-000.m4s", nil)
		req.Header.Set("Cookie", tc.cookies)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.wantStatus {
			t.Errorf("%d, want %d (%s)", resp.StatusCode, tc.wantStatus, resp.Header.Get(edge.ReasonHeader))
		}
	}
}
