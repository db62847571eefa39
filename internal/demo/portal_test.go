package demo

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/internal/testenv"
)

// TestBannerShowsPortal: the demo prints the portal's address and its API
// key, and that key signs in to the portal, which shows the demo bucket,
// authenticated, and the gateway's key.
func TestBannerShowsPortal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &testenv.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			Listen: "127.0.0.1:0", EdgeListen: "127.0.0.1:0", APIListen: "127.0.0.1:0",
			Log: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
			Out: out,
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "Press Ctrl-C"); {
		select {
		case err := <-done:
			t.Fatalf("demo exited: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner within 30s:\n%s", out)
		}
	}
	banner := out.String()
	m := regexp.MustCompile(`portal +(http://\S+/console/) .*\n +sign in with the API key (\S+)\n`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("the banner names no portal and API key:\n%s", banner)
	}
	portal, apiKey := m[1], m[2]

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	page := func(resp *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d\n%s", resp.Request.URL, resp.StatusCode, b)
		}
		return string(b)
	}
	signIn := page(c.Get(portal))
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(signIn)
	if csrf == nil {
		t.Fatalf("no sign-in form at %s:\n%s", portal, signIn)
	}
	buckets := page(c.PostForm(portal+"sign-in", url.Values{"csrf": {csrf[1]}, "api_key": {apiKey}}))
	if !strings.Contains(buckets, `id="policy-demo">authenticated<`) {
		t.Errorf("after sign-in with the printed key, the page does not show bucket demo authenticated:\n%s", buckets)
	}
	if keys := page(c.Get(portal + "keys")); !strings.Contains(keys, "demo gateway") {
		t.Errorf("the keys page does not list the gateway's key:\n%s", keys)
	}
}
