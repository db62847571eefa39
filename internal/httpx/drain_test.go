package httpx

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signgate/signgate/internal/testenv"
)

// TestServeDrain: on stop, Start runs at once (readiness fails), the
// server keeps serving new requests for the delay, lets a quick request in
// flight finish, cuts one that outlives the timeout, logs how many it
// cut, and returns nil: a requested stop is no failure.
func TestServeDrain(t *testing.T) {
	var draining atomic.Bool
	drainStarted := make(chan struct{})
	releaseQuick := make(chan struct{})
	started := make(chan struct{}, 4)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			if draining.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		case "/stuck": // never ends by itself
			started <- struct{}{}
			<-r.Context().Done()
			return
		case "/quick": // in flight when the stop comes, ends during the drain
			started <- struct{}{}
			<-releaseQuick
		}
		io.WriteString(w, "ok")
	})
	logs := &testenv.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- ServeDrain(ctx, slog.New(slog.NewJSONHandler(logs, nil)),
			func(_ string, a net.Addr) { addrc <- a.String() },
			Drain{Start: func() { draining.Store(true); close(drainStarted) }, Delay: 300 * time.Millisecond, Timeout: 400 * time.Millisecond},
			Listener{Name: "test", Addr: "127.0.0.1:0", Handler: h})
	}()
	base := "http://" + <-addrc
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (int, error) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	stuck := make(chan error, 1)
	go func() { _, err := get("/stuck"); stuck <- err }()
	<-started
	quick := make(chan int, 1)
	go func() { c, _ := get("/quick"); quick <- c }()
	<-started

	stop := time.Now()
	cancel()
	<-drainStarted
	if code, err := get("/readyz"); err != nil || code != http.StatusServiceUnavailable {
		t.Errorf("readyz during the delay: %d %v, want 503", code, err)
	}
	if code, err := get("/new"); err != nil || code != 200 {
		t.Errorf("a new request during the delay: %d %v, want 200", code, err)
	}
	close(releaseQuick)
	if err := <-done; err != nil {
		t.Errorf("ServeDrain after a requested stop: %v, want nil", err)
	}
	took := time.Since(stop)
	if took < 300*time.Millisecond || took > 3*time.Second {
		t.Errorf("stopped after %s, want the delay (300ms) plus at most the timeout (400ms)", took)
	}
	if c := <-quick; c != 200 {
		t.Errorf("a request in flight during the drain: %d, want 200", c)
	}
	if err := <-stuck; err == nil {
		t.Error("a request past the drain timeout was not cut")
	}
	if !strings.Contains(logs.String(), `"msg":"drain timeout: cutting connections still open","connections":1`) {
		t.Errorf("the cut connection is not counted in the log:\n%s", logs)
	}
}
