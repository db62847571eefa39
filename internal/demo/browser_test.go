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
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	addrs := map[string]string{}
	up := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", APIListen: "127.0.0.1:0",
			Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
			Ready: func(name string, a net.Addr) {
				mu.Lock()
				defer mu.Unlock()
				addrs[name] = "http://" + a.String()
				if len(addrs) == 4 {
					close(up)
				}
			},
		})
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

// TestBrowserPlaysVideo opens the demo in headless Chromium: logged out,
// the page and the media lead to the login form; after signing in, the
// <video> plays the progressive file through gateway and edge, and no
// request fails.
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

	if err := chromedp.Do(ctx,
		chromedp.Navigate(gw+"/login"),
		chromedp.WaitVisible(chromedp.ID("login-user")),
		chromedp.SendKeys(chromedp.ID("login-user"), DemoUser),
		chromedp.SendKeys(chromedp.ID("login-password"), DemoPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("video")),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	user, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("user")))
	if err != nil {
		t.Fatalf("read the user: %v", err)
	}
	if user != DemoUser {
		t.Fatalf("signed in as %q", user)
	}

	// The video must actually play: currentTime advances.
	type videoState struct {
		Time    float64 `json:"t"`
		Src     string  `json:"src"`
		Error   *int    `json:"err"`
		Ready   int     `json:"ready"`
		Playing bool    `json:"playing"`
	}
	var state videoState
	const probe = `(() => { const v = document.getElementById('video'); v.muted = true; v.play().catch(() => {});
		return {t: v.currentTime, src: v.currentSrc, err: v.error && v.error.code, ready: v.readyState, playing: !v.paused}; })()`
	deadline := time.Now().Add(30 * time.Second)
	for {
		if state, err = chromedp.Run(ctx, chromedp.Evaluate[videoState](probe)); err != nil {
			t.Fatalf("read the video's state: %v", err)
		}
		if state.Error != nil {
			t.Fatalf("the video failed with MediaError %d (src %s)\nnetwork:\n%s", *state.Error, state.Src, strings.Join(log.all(), "\n"))
		}
		if state.Time > 1.5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the video did not play: %+v\nnetwork:\n%s", state, strings.Join(log.all(), "\n"))
		}
		if err := chromedp.Do(ctx, chromedp.Sleep(200*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if state.Src != gw+Links().Progressive {
		t.Errorf("the video's source is %s, want the gateway's media path", state.Src)
	}

	var sawRedirect, sawEdge bool
	for _, r := range log.all() {
		status, u, _ := strings.Cut(r, " ")
		switch {
		case status >= "400":
			t.Errorf("failed request in the network log: %s", r)
		case status == "302" && u == gw+Links().Progressive:
			sawRedirect = true
		case (status == "200" || status == "206") && strings.HasPrefix(u, edge+Links().Progressive+"?auth="):
			sawEdge = true
		}
	}
	if !sawRedirect || !sawEdge {
		t.Errorf("want the gateway's 302 and the edge's answer in the network log:\n%s", strings.Join(log.all(), "\n"))
	}

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
