package demo

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/internal/testenv"
)

// login signs in to the demo and returns a client that keeps cookies, as
// a browser does, and the session cookie.
func login(t *testing.T, gw string) (*http.Client, *http.Cookie) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.PostForm(gw+"/login", url.Values{"user": {DemoUser}, "password": {DemoPassword}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(gw)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == SessionCookie {
			return c, ck
		}
	}
	t.Fatalf("no session cookie after signing in (status %d)", resp.StatusCode)
	return nil, nil
}

// TestPlayersThroughDemo plays the demo's HLS and DASH, manifests
// rewritten, with ffmpeg decoding every stream; reads the cookie-mode HLS
// as a cookie-keeping client does; and decodes the cookie-mode DASH with
// ffmpeg holding the signed cookie.
func TestPlayersThroughDemo(t *testing.T) {
	ffmpeg := testenv.Program(t, "ffmpeg")
	gw, edge := startDemo(t)
	client, session := login(t, gw)

	for _, link := range []string{Links().HLS, Links().DASH} {
		t.Run(link, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "error",
				"-headers", "Cookie: "+session.Name+"="+session.Value+"\r\n",
				"-i", gw+link, "-map", "0", "-f", "null", "-")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("ffmpeg: %v\n%s", err, out)
			}
			// Without the session, the gateway refuses.
			cmd = exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "error", "-i", gw+link, "-f", "null", "-")
			if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "401") {
				t.Fatalf("ffmpeg without a session: %v\n%s", err, out)
			}
		})
	}

	t.Run("cookie mode", func(t *testing.T) {
		get := func(c *http.Client, u string) (int, string) {
			resp, err := c.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		// The redirect sets Qencode-Auth-Token for the directory, so the
		// relative variant playlists and segments load from the edge.
		st, master := get(client, gw+Links().HLSCookie)
		if st != 200 || !strings.Contains(master, "360p/index.m3u8") {
			t.Fatalf("master: %d %q", st, master)
		}
		base := strings.TrimSuffix(edge+Links().HLSCookie, "master.m3u8")
		if st, _ := get(client, base+"360p/index.m3u8"); st != 200 {
			t.Fatalf("variant playlist with the cookie: %d", st)
		}
		if st, seg := get(client, base+"360p/seg-000.m4s"); st != 200 || len(seg) < 1000 {
			t.Fatalf("segment with the cookie: %d, %d bytes", st, len(seg))
		}
		if st, _ := get(http.DefaultClient, base+"360p/seg-000.m4s"); st != 401 {
			t.Fatalf("segment without the cookie: %d, want 401", st)
		}
	})

	t.Run("cookie mode, DASH with ffmpeg", func(t *testing.T) {
		// The redirect of the MPD sets Qencode-Auth-Token for its
		// directory on the edge.
		resp, err := client.Get(gw + Links().DASHCookie)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		mpd := edge + Links().DASHCookie
		var signed *http.Cookie
		u, _ := url.Parse(mpd)
		for _, ck := range client.Jar.Cookies(u) {
			if ck.Name == "Qencode-Auth-Token" {
				signed = ck
			}
		}
		if resp.StatusCode != 200 || signed == nil {
			t.Fatalf("MPD through the redirect: %d, signed cookie for the edge: %v", resp.StatusCode, signed)
		}
		// ffmpeg resolves segment URLs against the URL it was given, not
		// the one it was redirected to: through the gateway each segment
		// would be redirected and signed on its own. So it reads the MPD
		// from the edge, as a player that follows the redirect does, with
		// the cookie and nothing else: the MPD and every segment, whose
		// URLs are relative and carry no token, pass on the cookie alone.
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "error",
			"-headers", "Cookie: "+signed.Name+"="+signed.Value+"\r\n",
			"-i", mpd, "-map", "0", "-f", "null", "-")
		if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Fatalf("ffmpeg with the signed cookie: %v\n%s", err, out)
		}
		cmd = exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "error", "-i", mpd, "-map", "0", "-f", "null", "-")
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "401") {
			t.Fatalf("ffmpeg without the signed cookie: %v\n%s", err, out)
		}
	})

	t.Run("range through the redirect", func(t *testing.T) {
		want, err := sampleMedia.ReadFile("media/progressive.webm")
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", gw+Links().Progressive, nil)
		req.Header.Set("Range", "bytes=1000-1999")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, want[1000:2000]) ||
			resp.Header.Get("Content-Range") != "bytes 1000-1999/"+strconv.Itoa(len(want)) {
			t.Fatalf("%d %q, %d bytes (equal: %v)", resp.StatusCode, resp.Header.Get("Content-Range"), len(got), bytes.Equal(got, want[1000:2000]))
		}
		if !strings.HasPrefix(resp.Request.URL.String(), edge) {
			t.Errorf("served from %s, want the edge", resp.Request.URL)
		}
	})
}
