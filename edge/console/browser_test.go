package console

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/testenv"
	"github.com/signgate/signgate/signer"
)

// startBrowser starts headless Chromium with the flags this machine needs
// (as internal/demo's browser test does: no background networking, only
// 127.0.0.1 is reachable) and returns its context. Without chromium the
// test skips, naming it; under CI=true it fails instead.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	return testenv.Browser(t)
}

// responses records the status of every response the page loads.
type responses struct {
	mu  sync.Mutex
	all []string // "STATUS URL"
}

func (l *responses) listen(t *testing.T, ctx context.Context) {
	err := chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*network.EventResponseReceived); ok && !strings.HasPrefix(ev.Response.URL, "data:") {
			l.mu.Lock()
			l.all = append(l.all, fmt.Sprintf("%d %s", ev.Response.Status, ev.Response.URL))
			l.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("listen to the network: %v", err)
	}
}

func (l *responses) failed() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var bad []string
	for _, r := range l.all {
		if r >= "400" {
			bad = append(bad, r)
		}
	}
	return bad
}

// shooter saves a full-page screenshot of each page: into docs/ with
// SIGNGATE_UPDATE_SCREENSHOT set (make screenshot), otherwise into a
// temporary directory, so that a test run leaves the tree clean.
type shooter struct {
	t   *testing.T
	ctx context.Context
	dir string
}

func newShooter(t *testing.T, ctx context.Context) shooter {
	dir := t.TempDir()
	if os.Getenv(config.VarTestUpdateScreenshot) != "" {
		dir = filepath.Join("..", "..", "docs")
	}
	return shooter{t: t, ctx: ctx, dir: dir}
}

func (s shooter) shoot(name string) {
	s.t.Helper()
	png, err := chromedp.Run(s.ctx, chromedp.FullScreenshot(100)) // quality 100 gives PNG
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	if len(png) < 1000 {
		s.t.Fatalf("screenshot %s of %d bytes", name, len(png))
	}
	out := filepath.Join(s.dir, name)
	if err := os.WriteFile(out, png, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("screenshot: %s (%d bytes)", out, len(png))
}

// tabTo presses Tab until the element with id has the focus, and fails
// the test when ten presses do not get there.
func tabTo(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	var seen []string
	for range 10 {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id || document.activeElement.textContent.trim()`))
		if err != nil {
			t.Fatal(err)
		}
		if focused == id {
			return
		}
		seen = append(seen, focused)
	}
	t.Fatalf("Tab never reached #%s; it went through %q", id, seen)
}

// fetch GETs u outside the browser and returns the status.
func fetch(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestBrowserSeedFlow clicks through the seed's flow in headless Chromium:
// sign in (by keyboard), enable authenticated access, create a key and
// download its .pem, sign a URL with the downloaded key (200 from the
// edge), delete the key in the portal (the same URL gets 403), sign out.
func TestBrowserSeedFlow(t *testing.T) {
	ctx := startBrowser(t)
	p := startPortal(t, false)
	var net responses
	net.listen(t, ctx)
	shots := newShooter(t, ctx)
	const clip = "/v/clip.txt"

	if err := chromedp.Do(ctx, chromedp.Navigate(p.api+"/console/"), chromedp.WaitVisible(chromedp.ID("api-key"))); err != nil {
		t.Fatalf("open the portal: %v", err)
	}
	shots.shoot("console-signin.png")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("api-key"), testAPIKey+kb.Enter), // the field has the focus
		chromedp.WaitVisible(chromedp.ID("toggle-media")),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if got := fetch(t, p.media+clip); got != http.StatusOK {
		t.Fatalf("public bucket: %d, want 200", got)
	}

	// By keyboard: Tab through the page (skip link, sections, sign-out)
	// to the bucket's button, and press Enter.
	tabTo(t, ctx, "toggle-media")
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("notice"))); err != nil {
		t.Fatalf("enable authenticated access: %v", err)
	}
	if pol, err := testenv.TextOf(ctx, "policy-media"); err != nil || pol != "authenticated" {
		t.Fatalf("the page shows policy %q, %v", pol, err)
	}
	if got := fetch(t, p.media+clip); got != http.StatusUnauthorized {
		t.Fatalf("authenticated bucket without a token: %d, want 401", got)
	}
	shots.shoot("console-buckets.png")

	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads,
	}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(p.api+"/console/keys"),
		chromedp.WaitVisible(chromedp.ID("create")),
		chromedp.SendKeys(chromedp.ID("name"), "browser test"),
		chromedp.Click(chromedp.ID("create")),
		chromedp.WaitVisible(chromedp.ID("private-key")),
		chromedp.WaitVisible(chromedp.ID("copy")), // the script un-hides it
		chromedp.Click(chromedp.ID("copy")),
	); err != nil {
		t.Fatalf("create a key: %v", err)
	}
	kid, err := testenv.TextOf(ctx, "kid")
	if err != nil || kid == "" {
		t.Fatalf("read the key id: %q, %v", kid, err)
	}
	shots.shoot("console-newkey.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("download"))); err != nil {
		t.Fatalf("download: %v", err)
	}
	pemFile := filepath.Join(downloads, kid+".pem")
	var pem []byte
	for deadline := time.Now().Add(15 * time.Second); ; {
		if pem, err = os.ReadFile(pemFile); err == nil && len(pem) > 0 {
			break
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(downloads)
			t.Fatalf("no %s after 15s (the download directory holds %v)", pemFile, entries)
		}
		if err := chromedp.Do(ctx, chromedp.Sleep(100*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	copied, err := testenv.TextOf(ctx, "copy-status")
	if err != nil || copied == "" {
		t.Errorf("the copy button said %q, %v", copied, err)
	}

	// Sign with the downloaded key, as signgate sign does.
	priv, err := signer.ParsePrivateKey(pem)
	if err != nil {
		t.Fatalf("the downloaded .pem: %v", err)
	}
	key := &signer.SigningKey{ID: kid, Key: priv}
	tok, err := key.Sign(signer.Claims{URI: clip, Expires: time.Now().Add(10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	signed := p.media + clip + "?auth=" + tok
	if got := fetch(t, signed); got != http.StatusOK {
		t.Fatalf("the signed URL: %d, want 200", got)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(p.api+"/console/keys"), chromedp.WaitVisible(chromedp.ID("key-"+kid))); err != nil {
		t.Fatalf("the keys page: %v", err)
	}
	shots.shoot("console-keys.png")
	// The same page fits a phone.
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Navigate(p.api+"/console/keys"), chromedp.WaitVisible(chromedp.ID("key-"+kid)),
	); err != nil {
		t.Fatalf("phone viewport: %v", err)
	}
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || wide {
		t.Errorf("the keys page is wider than a phone's screen (%v)", err)
	}
	shots.shoot("console-phone.png")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1000, 800)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("key-"+kid)), chromedp.WaitVisible(chromedp.ID("rename"))); err != nil {
		t.Fatalf("the key's page: %v", err)
	}
	shots.shoot("console-key.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("delete")), chromedp.WaitVisible(chromedp.ID("confirm-delete"))); err != nil {
		t.Fatalf("the delete confirmation: %v", err)
	}
	shots.shoot("console-delete.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("confirm-delete")), chromedp.WaitVisible(chromedp.ID("notice"))); err != nil {
		t.Fatalf("delete the key: %v", err)
	}
	if got := fetch(t, signed); got != http.StatusForbidden {
		t.Fatalf("the signed URL after the delete: %d, want 403", got)
	}

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("sign-out")), chromedp.WaitVisible(chromedp.ID("api-key"))); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if bad := net.failed(); len(bad) > 0 {
		t.Errorf("failed requests in the browser:\n%s", strings.Join(bad, "\n"))
	}
	for _, secret := range []string{testAPIKey, "PRIVATE KEY", tok} {
		if strings.Contains(p.logs.String(), secret) {
			t.Errorf("the log holds a secret (%.12s...)", secret)
		}
	}
}
