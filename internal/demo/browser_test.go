package demo

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/signgate/signgate/internal/testenv"
)

// startDemo runs the demo on ports picked by the system until the test
// ends, and returns the gateway's and the edge's base URLs.
func startDemo(t *testing.T) (gateway, edge string) {
	t.Helper()
	return startDemoWith(t, Options{})
}

// startDemoWith is startDemo with o's TTL, MinValidity and Media.
func startDemoWith(t *testing.T, o Options) (gateway, edge string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	addrs := map[string]string{}
	up := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		o.Listen, o.EdgeListen, o.APIListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
		o.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
		o.Ready = func(name string, a net.Addr) {
			mu.Lock()
			defer mu.Unlock()
			addrs[name] = "http://" + a.String()
			if len(addrs) == 4 {
				close(up)
			}
		}
		done <- Run(ctx, o)
	}()
	select {
	case <-up:
	case err := <-done:
		cancel()
		t.Fatalf("demo exited: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("demo did not start within 30s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("demo: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("demo did not stop within 30s")
		}
	})
	mu.Lock()
	defer mu.Unlock()
	return addrs["gateway"], addrs["edge"]
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// browser starts headless Chromium with the flags this machine needs (no
// background networking: only 127.0.0.1 is reachable) and returns its
// context.
func browser(t *testing.T) context.Context {
	t.Helper()
	return testenv.Browser(t, chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
}

// navigate opens u, waits for the element with id waitFor, and returns
// where the browser ended up.
func navigate(ctx context.Context, u, waitFor string) (string, error) {
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.ID(waitFor))); err != nil {
		return "", err
	}
	return chromedp.Run(ctx, chromedp.Location())
}

// netLog records every response the page's network layer sees.
type netLog struct {
	mu   sync.Mutex
	resp []string // "STATUS URL"
}

func (l *netLog) listen(t *testing.T, ctx context.Context) {
	add := func(status int64, u string) {
		if strings.HasPrefix(u, "data:") {
			return
		}
		l.mu.Lock()
		l.resp = append(l.resp, fmt.Sprintf("%d %s", status, u))
		l.mu.Unlock()
	}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventResponseReceived:
			add(ev.Response.Status, ev.Response.URL)
		case *network.EventRequestWillBeSent:
			// A redirect shows up only as the response that caused the
			// next request.
			if ev.RedirectResponse != nil {
				add(ev.RedirectResponse.Status, ev.RedirectResponse.URL)
			}
		}
	})
	if err != nil {
		t.Fatalf("listen to the network: %v", err)
	}
}

func (l *netLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.resp...)
}

// signIn signs in through the login form and waits for the players.
func signIn(t *testing.T, ctx context.Context, gw string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(gw+"/login"),
		chromedp.WaitVisible(chromedp.ID("login-user")),
		chromedp.SendKeys(chromedp.ID("login-user"), DemoUser),
		chromedp.SendKeys(chromedp.ID("login-password"), DemoPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("video-progressive")),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
}

// videoState is what the page says of one player.
type videoState struct {
	Time   float64 `json:"t"`
	Error  *int    `json:"err"`
	Ready  int     `json:"ready"`
	Status string  `json:"status"`
	Stalls int     `json:"stalls"`
}

// videos reads the state of every player, by variant.
func videos(ctx context.Context) (map[string]videoState, error) {
	const probe = `Object.fromEntries([...document.querySelectorAll('video[data-variant]')].map(v => {
		if (v.paused && !v.ended) { v.muted = true; v.play().catch(() => {}); }
		return [v.dataset.variant, {t: v.currentTime, err: v.error && v.error.code, ready: v.readyState,
			status: document.getElementById('state-' + v.dataset.variant).textContent, stalls: Number(v.dataset.stalls || 0)}];
	}))`
	return chromedp.Run(ctx, chromedp.Evaluate[map[string]videoState](probe))
}

// playUntil polls the players until each has played past secs, and
// fails on a MediaError, a player's error or the deadline.
func playUntil(t *testing.T, ctx context.Context, log *netLog, variants []string, secs float64, within time.Duration) map[string]videoState {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, err := videos(ctx)
		if err != nil {
			t.Fatalf("read the players' state: %v", err)
		}
		done := 0
		for _, v := range variants {
			s, ok := st[v]
			switch {
			case !ok:
				t.Fatalf("no player %q on the page: %+v", v, st)
			case s.Error != nil:
				t.Fatalf("player %s failed with MediaError %d (%s)\nnetwork:\n%s", v, *s.Error, s.Status, strings.Join(log.all(), "\n"))
			case strings.Contains(s.Status, ".js:"):
				t.Fatalf("player %s: %s\nnetwork:\n%s", v, s.Status, strings.Join(log.all(), "\n"))
			case s.Time > secs:
				done++
			}
		}
		if done == len(variants) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("within %s, not every player passed %.0f s: %+v\nnetwork:\n%s", within, secs, st, strings.Join(log.all(), "\n"))
		}
		if err := chromedp.Do(ctx, chromedp.Sleep(250*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
}

// variants are the page's players, by element id suffix.
var allVariants = []string{"progressive", "hls", "hls-cookie", "dash", "dash-cookie"}

// TestBrowserPlaysVideo opens the demo in headless Chromium: logged out,
// the page and the media lead to the login form; after signing in, each
// of the five players (progressive, HLS and DASH in manifest and in
// cookie mode) plays past 4 s through gateway and edge, every segment
// request reaches the edge and succeeds, and no request fails.
func TestBrowserPlaysVideo(t *testing.T) {
	ctx := browser(t)
	gw, edge := startDemo(t)
	var log netLog
	log.listen(t, ctx)

	loc, err := navigate(ctx, gw+"/", "login-user")
	if err != nil {
		t.Fatalf("open the demo logged out: %v", err)
	}
	if !strings.HasPrefix(loc, gw+"/login") {
		t.Fatalf("logged out, the page is %s, want the login form", loc)
	}
	// A logged-out browser asking for media is sent to the login form too,
	// with a return path back to the media.
	if loc, err = navigate(ctx, gw+Links().Progressive, "login-user"); err != nil {
		t.Fatalf("open media logged out: %v", err)
	}
	if !strings.HasPrefix(loc, gw+"/login?return_to=%2Fmedia%2Fprogressive.webm") {
		t.Fatalf("logged-out media request ended at %s", loc)
	}

	signIn(t, ctx, gw)
	user, err := testenv.TextOf(ctx, "user")
	if err != nil {
		t.Fatalf("read the user: %v", err)
	}
	if user != DemoUser {
		t.Fatalf("signed in as %q", user)
	}
	start := time.Now()
	playUntil(t, ctx, &log, allVariants, 4, 60*time.Second)
	t.Logf("all five players past 4 s after %s", time.Since(start).Round(100*time.Millisecond))

	// Every request succeeded, and each variant's segments came from the
	// edge, signed: in the query (manifest mode, progressive) or by the
	// cookie (cookie mode).
	segments := map[string]int{}
	sawRedirect := false
	for _, r := range log.all() {
		status, u, _ := strings.Cut(r, " ")
		if status >= "400" {
			t.Errorf("failed request in the network log: %s", r)
		}
		if status == "302" && u == gw+Links().Progressive {
			sawRedirect = true
		}
		if status != "200" && status != "206" || !strings.HasPrefix(u, edge+"/") {
			continue
		}
		p, q, _ := strings.Cut(strings.TrimPrefix(u, edge), "?")
		for _, dir := range []string{"/media/progressive.webm", "/media/hls/", "/media/dash/", "/cookie/hls/", "/cookie/dash/"} {
			signed := strings.HasPrefix(q, "auth=") || strings.HasPrefix(dir, "/cookie/")
			if strings.HasPrefix(p, dir) && (strings.HasSuffix(p, ".m4s") || strings.HasSuffix(p, ".webm")) && signed {
				segments[dir]++
			}
		}
	}
	for _, dir := range []string{"/media/progressive.webm", "/media/hls/", "/media/dash/", "/cookie/hls/", "/cookie/dash/"} {
		if segments[dir] == 0 {
			t.Errorf("no media of %s served by the edge in the network log:\n%s", dir, strings.Join(log.all(), "\n"))
		}
	}
	if !sawRedirect {
		t.Errorf("want the gateway's 302 for the progressive file in the network log:\n%s", strings.Join(log.all(), "\n"))
	}
	t.Logf("media requests served by the edge, by directory: %v", segments)

	checkCopiedCommands(t, ctx, gw)

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 gives PNG, less JPEG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if len(png) < 1000 {
		t.Fatalf("screenshot of %d bytes", len(png))
	}
	// make screenshot refreshes the README's picture; otherwise the shot
	// goes to a temporary directory so a test run leaves the tree clean.
	out := filepath.Join(t.TempDir(), "demo.png")
	if os.Getenv("SIGNGATE_UPDATE_SCREENSHOT") != "" {
		out = filepath.Join("..", "..", "docs", "demo.png")
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(png))
}
