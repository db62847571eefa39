package demo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signgate/signgate/internal/testenv"
)

// A short token life for the playback tests: three TTLs of playback take
// 36 s, and the samples last longer than that.
const (
	shortTTL    = 12 * time.Second
	shortMinVal = 6 * time.Second
	longSamples = 40 // seconds
)

// longMedia generates samples of longSamples seconds with
// media/generate.sh (HLS and DASH; the progressive file is the embedded
// one) into a temporary directory.
func longMedia(t *testing.T) string {
	t.Helper()
	testenv.Program(t, "ffmpeg")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join("media", "generate.sh"), dir, strconv.Itoa(longSamples), "hls dash")
	cmd.Env = append(cmd.Environ(), "X264_PRESET=ultrafast")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generate.sh: %v\n%s", err, out)
	}
	webm, err := sampleMedia.ReadFile("media/progressive.webm")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "progressive.webm"), webm, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("generated %d s of HLS and DASH in %s", longSamples, time.Since(start).Round(100*time.Millisecond))
	return dir
}

// tokenExp returns the exp claim of JWT tok.
func tokenExp(t *testing.T, tok string) time.Time {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.Exp == 0 {
		t.Fatalf("no exp in the token: %v", err)
	}
	return time.Unix(c.Exp, 0)
}

var authParam = regexp.MustCompile(`auth=([A-Za-z0-9_.-]+)`)

// TestManifestResignsEachFetch: a rewritten playlist fetched again after
// a time step carries new tokens that expire later, each with at least the
// minimum validity left: a player that reloads its playlist never holds
// an expired URL.
func TestManifestResignsEachFetch(t *testing.T) {
	testenv.Program(t, "ffmpeg") // startDemo's tests run end to end
	gw, _ := startDemoWith(t, Options{TTL: shortTTL, MinValidity: shortMinVal})
	client, _ := login(t, gw)
	fetch := func() (string, time.Time) {
		resp, err := client.Get(gw + "/media/hls/360p/index.m3u8")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := authParam.FindStringSubmatch(string(b))
		if resp.StatusCode != http.StatusOK || m == nil {
			t.Fatalf("variant playlist: %d\n%s", resp.StatusCode, b)
		}
		return m[1], tokenExp(t, m[1])
	}
	tok0, exp0 := fetch()
	if left := time.Until(exp0); left < shortMinVal-time.Second || left > shortTTL+time.Second {
		t.Fatalf("a fresh playlist's token has %s left, want between %s and %s", left, shortMinVal, shortTTL)
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(2 * (shortTTL - shortMinVal))
	for {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("the playlist still carries its first token after two time steps")
		}
		tok, exp := fetch()
		if left := time.Until(exp); left < shortMinVal-time.Second {
			t.Fatalf("a playlist fetched now carries a token with %s left, want at least %s", left, shortMinVal)
		}
		if tok != tok0 {
			if !exp.After(exp0) {
				t.Fatalf("the new token expires at %s, not after the old one's %s", exp, exp0)
			}
			return
		}
	}
}

// TestPlaybackOutlivesToken plays, in Chromium, HLS and DASH in manifest
// and in cookie mode for three token lifetimes (12 s TTL, 6 s minimum
// validity) without a stall or a failed request: the page renews what
// each player holds (page.js). Beside it, ffmpeg reads the cookie-mode
// DASH through the gateway in real time (-re) for as long: each of its
// segment requests goes back to the gateway, whose redirect signs anew;
// and the manifest-mode HLS, which it cannot renew: its segments get 403
// once their token expired.
func TestPlaybackOutlivesToken(t *testing.T) {
	media := longMedia(t)
	gw, edge := startDemoWith(t, Options{TTL: shortTTL, MinValidity: shortMinVal, Media: os.DirFS(media)})
	want := 3 * shortTTL.Seconds()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		out, took, err := ffmpegRealTime(t, gw, Links().DASHCookie, "error")
		if err != nil || len(strings.TrimSpace(out)) > 0 || took < time.Duration(want)*time.Second {
			t.Errorf("ffmpeg -re %s: %v after %s, want at least %.0f s without an error\n%s", Links().DASHCookie, err, took.Round(time.Second), want, out)
		}
		t.Logf("ffmpeg -re played %s through the gateway for %s", Links().DASHCookie, took.Round(100*time.Millisecond))
	}()
	go func() {
		defer wg.Done()
		// ffmpeg fetches a VOD playlist once and never comes back to the
		// gateway: its segment URLs die with their token (docs/gateway.md).
		out, took, _ := ffmpegRealTime(t, gw, Links().HLS, "warning")
		if !strings.Contains(out, "403 Forbidden") {
			t.Errorf("ffmpeg -re %s for %s, past the token's life: want 403 on a segment, got\n%s", Links().HLS, took.Round(time.Second), out)
		}
		t.Logf("ffmpeg -re read %s for %s, then got 403 on a segment, as a player that cannot renew does", Links().HLS, took.Round(100*time.Millisecond))
	}()
	defer wg.Wait()

	ctx := browser(t)
	var log netLog
	log.listen(t, ctx)
	signIn(t, ctx, gw)
	start := time.Now()
	adaptive := []string{"hls", "hls-cookie", "dash", "dash-cookie"}
	st := playUntil(t, ctx, &log, adaptive, want+0.5, time.Duration(want+30)*time.Second)
	t.Logf("HLS and DASH, both modes, past %.0f s after %s: %+v", want, time.Since(start).Round(100*time.Millisecond), st)

	tokens := map[string]map[string]bool{} // route -> auth tokens seen on the edge
	var signs, renewals int
	cookieSegments := map[string]int{} // route -> segments the edge served on the cookie alone
	for _, r := range log.all() {
		status, u, _ := strings.Cut(r, " ")
		if status >= "400" {
			t.Errorf("failed request in the network log: %s", r)
		}
		switch {
		case strings.HasPrefix(u, gw+"/.signgate/sign?"):
			signs++
		case strings.HasPrefix(u, gw+"/cookie/") && status == "302":
			renewals++
		case strings.HasPrefix(u, edge+"/cookie/") && strings.HasSuffix(u, ".m4s") && status == "200":
			cookieSegments[strings.Join(strings.SplitN(u[len(edge):], "/", 4)[:3], "/")]++
		case strings.HasPrefix(u, edge+"/media/"):
			if m := authParam.FindStringSubmatch(u); m != nil {
				route := strings.Join(strings.SplitN(u[len(edge):], "/", 4)[:3], "/") // /media/hls
				if tokens[route] == nil {
					tokens[route] = map[string]bool{}
				}
				tokens[route][m[1]] = true
			}
		}
	}
	for v, s := range st {
		if s.Stalls > 0 && v != "progressive" {
			t.Errorf("player %s stalled %d times", v, s.Stalls)
		}
	}
	// Three lifetimes need at least two renewals in each mode.
	if signs < 2 || renewals < 2 {
		t.Errorf("%d tokens renewed through /.signgate/sign (manifest mode), %d cookie renewals (cookie mode): want at least 2 of each", signs, renewals)
	}
	// Manifest mode: segments signed with three tokens at least, one per
	// lifetime (two HLS variants may hold more).
	for _, route := range []string{"/media/hls", "/media/dash"} {
		if len(tokens[route]) < 3 {
			t.Errorf("%d tokens for %s on the edge over %.0f s, want at least 3", len(tokens[route]), route, want)
		}
	}
	// Cookie mode: the segments of the whole sample came from the edge on
	// the cookie, renewed as they went (the first one expired after 12 s).
	for _, route := range []string{"/cookie/hls", "/cookie/dash"} {
		if n := cookieSegments[route]; n < longSamples/2-2 {
			t.Errorf("the edge served %d segments of %s on the cookie, want about %d", n, route, longSamples/2)
		}
	}
	t.Logf("%d sign requests, %d cookie renewals, tokens on the edge: %d (HLS), %d (DASH); segments on the cookie: %v",
		signs, renewals, len(tokens["/media/hls"]), len(tokens["/media/dash"]), cookieSegments)
}

// ffmpegRealTime has ffmpeg read link through the gateway at its own pace
// (-re), with the session cookie, and returns what it said at loglevel,
// how long it took and how it ended.
func ffmpegRealTime(t *testing.T, gw, link, loglevel string) (string, time.Duration, error) {
	ffmpeg := testenv.Program(t, "ffmpeg")
	_, session := login(t, gw)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", loglevel, "-re",
		"-cookies", session.Name+"="+session.Value+"; path=/",
		"-i", gw+link, "-map", "0", "-f", "null", "-")
	out, err := cmd.CombinedOutput()
	return string(out), time.Since(start), err
}
