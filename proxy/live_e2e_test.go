package proxy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/edge"
	"github.com/signgate/signgate/internal/testenv"
)

// A live stream end to end, in real time: ffmpeg publishes HLS from a
// generated source into the directory of the edge's stream cam1; its key
// is made through the edge's control API, and a gateway's stream route
// (STREAM_ID, manifest mode, 6 s tokens) serves it at /tv/. ffmpeg plays
// it through the gateway for longer than a token lives; then the key is
// deleted through the API, and the next request the player makes is
// refused.

// Lifetime of the gateway's tokens: playback must outlive one.
const (
	liveTTL      = 6 * time.Second
	liveMinValid = 3 * time.Second
	liveAPIKey   = "live-test-api-key-0123456789"
)

// liveEdge is an edge serving the stream cam1, with its control API, and
// a record of every media request it answered.
type liveEdge struct {
	media, api *httptest.Server
	mu         sync.Mutex
	served     []liveRequest
}

// liveRequest is one media request: when it arrived, its path, the exp
// of its token, and the answer's status.
type liveRequest struct {
	at     time.Time
	path   string
	exp    time.Time
	status int
	cc     string // the answer's Cache-Control
}

func startLiveEdge(t *testing.T, dir string) *liveEdge {
	t.Helper()
	root := t.TempDir()
	e, err := edge.New(config.Edge{
		Listen: "127.0.0.1:0", APIListen: "127.0.0.1:0", DB: config.Database(filepath.Join(root, "edge.db")),
		Streams:             []config.Stream{{ID: "cam1", Origin: dir}},
		StreamSegmentMaxAge: time.Minute,
		APIKeys:             []config.Secret{liveAPIKey},
		Leeway:              0, // a token is refused the second it expires
		CacheSize:           1000, Refresh: time.Hour,
		MaxStaleness: 0,
	}, edge.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	le := &liveEdge{}
	media := e.Handler()
	le.media = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := liveRequest{at: time.Now(), path: r.URL.Path, exp: tokenExp(r.URL.Query().Get("auth"))}
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		media.ServeHTTP(rec, r)
		req.status, req.cc = rec.status, w.Header().Get("Cache-Control")
		le.mu.Lock()
		le.served = append(le.served, req)
		le.mu.Unlock()
	}))
	le.api = httptest.NewServer(e.APIHandler())
	t.Cleanup(func() {
		le.media.Close()
		le.api.Close()
		e.Close()
	})
	return le
}

// ok reports whether the edge served the request: 200, or 206 for the
// Range (bytes=0-) ffmpeg asks segments with.
func (r liveRequest) ok() bool {
	return r.status == http.StatusOK || r.status == http.StatusPartialContent
}

// requests returns the media requests answered so far.
func (le *liveEdge) requests() []liveRequest {
	le.mu.Lock()
	defer le.mu.Unlock()
	return append([]liveRequest(nil), le.served...)
}

// statusWriter notes the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// tokenExp reads the exp of a token, unverified (the edge verifies it).
func tokenExp(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}
	}
	var c struct{ Exp int64 }
	if json.Unmarshal(b, &c) != nil {
		return time.Time{}
	}
	return time.Unix(c.Exp, 0)
}

// liveGateway is a gateway with one stream route: /tv/, stripped, on the
// edge's /live/cam1, in manifest mode.
func liveGateway(t *testing.T, edgeURL, keyFile, kid string) *httptest.Server {
	t.Helper()
	cfg, err := config.LoadGateway(map[string]string{
		"SIGNGATE_AUTH":                      "jwt",
		"SIGNGATE_JWT_SECRET":                hmacSecret,
		"SIGNGATE_WATCH_KEYS":                "false",
		"SIGNGATE_ROUTES_0_PREFIX":           "/tv",
		"SIGNGATE_ROUTES_0_STRIP_PREFIX":     "true",
		"SIGNGATE_ROUTES_0_STREAM_ID":        "cam1",
		"SIGNGATE_ROUTES_0_CDN_BASE":         edgeURL + config.LivePrefix + "cam1",
		"SIGNGATE_ROUTES_0_KEY_FILE":         keyFile,
		"SIGNGATE_ROUTES_0_KEY_ID":           kid,
		"SIGNGATE_ROUTES_0_TTL":              liveTTL.String(),
		"SIGNGATE_ROUTES_0_MIN_VALIDITY":     liveMinValid.String(),
		"SIGNGATE_ROUTES_0_STREAMING":        config.StreamingManifest,
		"SIGNGATE_ROUTES_0_SCOPE":            "dir",
		"SIGNGATE_ROUTES_0_MANIFEST_TIMEOUT": "5s",
	})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := newFromEnv(cfg, Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(func() {
		srv.Close()
		gw.Close()
	})
	return srv
}

// publish starts ffmpeg writing a live HLS stream (1 s segments, a window
// of 5, older ones deleted) of a test picture and tone into dir, in real
// time, until the test ends; it returns once 3 segments are listed.
func publish(t *testing.T, ffmpeg, dir string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-re",
		"-f", "lavfi", "-i", "testsrc=size=160x90:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
		"-t", "120", // a bound, should the test not stop it
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-sc_threshold", "0",
		"-c:a", "aac", "-b:a", "64k",
		"-f", "hls", "-hls_time", "1", "-hls_list_size", "5", "-hls_flags", "delete_segments",
		filepath.Join(dir, "index.m3u8"))
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			t.Fatalf("the publisher stopped: %v\n%s", err, out.String())
		case <-deadline.C:
			t.Fatalf("no 3 segments listed in 20 s")
		case <-tick.C:
			if b, err := os.ReadFile(filepath.Join(dir, "index.m3u8")); err == nil && bytes.Count(b, []byte("#EXTINF")) >= 3 {
				return
			}
		}
	}
}

// liveSession is a session JWT for the gateway.
func liveSession(t *testing.T) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "viewer", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(hmacSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLiveStreamOutlivesTokenUntilKeyDeleted(t *testing.T) {
	ffmpeg := testenv.Program(t, "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "cam1")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	le := startLiveEdge(t, dir)

	// The stream's key, made through the control API as Qencode's are.
	api := &edge.Client{BaseURL: le.api.URL}
	bearer, _, err := api.AccessToken(ctx, liveAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	api.Token = bearer
	key, err := api.CreateKey(ctx, edge.CreateKeyRequest{StreamID: "cam1", Name: "gateway"})
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), key.ID+".pem")
	if err := os.WriteFile(keyFile, []byte(key.PrivateKey.Reveal()), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := liveGateway(t, le.media.URL, keyFile, key.ID)
	publish(t, ffmpeg, dir)
	headers := "Authorization: Bearer " + liveSession(t) + "\r\n"
	playlist := gw.URL + "/tv/index.m3u8"

	// Play 12 s of the stream through the gateway: about 9 s of wall
	// time past the 3 segments buffered at the start.
	start := time.Now()
	out, err := runPlayer(t, ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-headers", headers,
		"-i", playlist, "-map", "0", "-t", "12", "-f", "null", "-")
	took := time.Since(start)
	if err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	played := le.requests()
	var firstExp time.Time
	exps := map[time.Time]bool{}
	segments, playlists, afterFirstExp := 0, 0, 0
	for _, r := range played {
		if !r.ok() {
			t.Errorf("the edge answered %s with %d", r.path, r.status)
		}
		exps[r.exp] = true
		if firstExp.IsZero() || r.exp.Before(firstExp) {
			firstExp = r.exp
		}
	}
	for _, r := range played {
		want := "private, max-age=60"
		switch path.Ext(r.path) {
		case ".ts":
			segments++
		case ".m3u8":
			playlists++
			want = "no-store" // a live playlist is never kept
		}
		if r.ok() && r.cc != want {
			t.Errorf("%s: Cache-Control %q, want %q", r.path, r.cc, want)
		}
		if r.at.After(firstExp) {
			afterFirstExp++
		}
	}
	t.Logf("played %s in %s: %d playlist and %d segment requests at the edge, %d token expiries, %d requests after the first token expired",
		"12s", took.Round(100*time.Millisecond), playlists, segments, len(exps), afterFirstExp)
	switch {
	case took <= liveTTL:
		t.Errorf("playback took %s, not longer than a token's %s", took, liveTTL)
	case segments < 10 || playlists < 5:
		t.Errorf("%d segments and %d playlists fetched, want at least 10 and 5", segments, playlists)
	case len(exps) < 2 || afterFirstExp == 0:
		t.Errorf("playback did not outlive its first token: %d expiries, %d requests after the first", len(exps), afterFirstExp)
	}

	// Play again; once it runs, delete the key through the API.
	mark := len(le.requests())
	player, stopped := startPlayer(t, ctx, ffmpeg, headers, playlist)
	waitFor(t, 20*time.Second, func() bool {
		n := 0
		for _, r := range le.requests()[mark:] {
			if r.ok() && path.Ext(r.path) == ".ts" {
				n++
			}
		}
		return n >= 2
	}, "the second player to fetch 2 segments")
	if err := api.DeleteKey(ctx, key.ID); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	select {
	case <-stopped:
		t.Logf("the player stopped %s after the deletion", time.Since(deleted).Round(100*time.Millisecond))
	case <-time.After(20 * time.Second):
		t.Fatalf("the player kept on 20 s after the key was deleted:\n%s", player.String())
	}
	var after []liveRequest
	for _, r := range le.requests() {
		if r.at.After(deleted) {
			after = append(after, r)
		}
	}
	if len(after) == 0 {
		t.Fatal("no request reached the edge after the key was deleted")
	}
	for _, r := range after {
		if r.status != http.StatusForbidden {
			t.Errorf("after the deletion, %s got %d, want 403", r.path, r.status)
		}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, playlist, nil)
	req.Header.Set("Authorization", strings.TrimSpace(strings.TrimPrefix(headers, "Authorization:")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("the gateway's playlist after the deletion: %d, want 502 (the edge refuses its token)", resp.StatusCode)
	}
	t.Logf("after the deletion: %d requests, all refused; the player stopped", len(after))
}

// startPlayer starts ffmpeg playing url for up to 40 s; stopped closes
// when it exits. The test's end stops it.
func startPlayer(t *testing.T, ctx context.Context, ffmpeg, headers, url string) (*syncBuffer, <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	out := &syncBuffer{}
	cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-headers", headers,
		"-i", url, "-map", "0", "-t", "40", "-f", "null", "-")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() {
		cmd.Wait()
		close(stopped)
	}()
	t.Cleanup(func() {
		cancel()
		<-stopped
	})
	return out, stopped
}

// waitFor polls cond until it holds, failing t past limit.
func waitFor(t *testing.T, limit time.Duration, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		<-tick.C
	}
}
