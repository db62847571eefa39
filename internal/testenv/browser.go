package testenv

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Browser starts Debian's headless Chromium with the flags this machine
// needs (no background networking, QUIC, sync or component updates: only
// 127.0.0.1 is reachable) in a window of 1000×800, with extra options
// after those, and returns its context, ended with the test and after 90
// s at most. Without chromium the test skips, naming it; under CI=true it
// fails instead.
func Browser(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	bin := Program(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1000, 800),
	)
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// TextOf returns the text of the element with the given id on the page
// as it is now. It reads through the page's JavaScript rather than
// through a DOM node id: a node id that chromedp resolved goes stale when
// the page re-renders or settles after a navigation, and reading through
// it then fails with "No node with given id found" (seen once in CI).
// It retries for up to 10 s while the element is missing or the page is
// between documents.
func TextOf(ctx context.Context, id string) (string, error) {
	expr := `(() => { const e = document.getElementById(` + strconv.Quote(id) + `); return e ? e.textContent : null; })()`
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[*string](expr))
		if err == nil && s != nil {
			return *s, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("no element with id %q on the page", id)
			}
			return "", err
		}
		if err := chromedp.Do(ctx, chromedp.Sleep(100*time.Millisecond)); err != nil {
			return "", err
		}
	}
}
