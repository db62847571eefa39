package edge

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestHealthEndpoints(t *testing.T) {
	h := newHarness(t, nil)
	probe := func(method, path string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, h.api.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := h.api.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s %s: Cache-Control %q", method, path, cc)
		}
		return resp.StatusCode, string(b)
	}
	code := func(body string) string {
		var v struct {
			Error int
			Code  string
		}
		json.Unmarshal([]byte(body), &v)
		if v.Error == 0 {
			return ""
		}
		return v.Code
	}

	for _, p := range []string{"/healthz", "/readyz"} {
		if st, body := probe("GET", p); st != http.StatusOK || !strings.Contains(body, `"ok"`) {
			t.Errorf("GET %s = %d %s", p, st, body)
		}
		if st, body := probe("POST", p); st != http.StatusMethodNotAllowed || code(body) != "method_not_allowed" {
			t.Errorf("POST %s = %d %s", p, st, body)
		}
	}
	if err := h.e.Ready(); err != nil {
		t.Fatalf("Ready = %v", err)
	}
	t.Run("draining", func(t *testing.T) {
		d := newHarness(t, nil)
		d.e.Drain()
		req, _ := http.NewRequest("GET", d.api.URL+"/readyz", nil)
		resp, err := d.api.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !errors.Is(d.e.Ready(), ErrNotReady) {
			t.Errorf("readyz while draining: %d, Ready %v; want 503", resp.StatusCode, d.e.Ready())
		}
		if resp, err := d.api.Client().Get(d.api.URL + "/healthz"); err != nil || resp.StatusCode != 200 {
			t.Errorf("healthz while draining: %v %v, want 200", resp, err)
		} else {
			resp.Body.Close()
		}
	})

	// The media directory goes away: not ready, while still alive; the
	// client sees a code, the log the cause.
	media := h.dir
	moved := media + ".moved"
	if err := os.Rename(media, moved); err != nil {
		t.Fatal(err)
	}
	st, body := probe("GET", "/readyz")
	if st != http.StatusServiceUnavailable || code(body) != "not_ready" || strings.Contains(body, media) {
		t.Errorf("readyz without the directory = %d %s", st, body)
	}
	if err := h.e.Ready(); !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "bucket media") {
		t.Errorf("Ready = %v, want ErrNotReady naming the bucket", err)
	}
	if !strings.Contains(h.logs.String(), "not_ready") {
		t.Error("the failing probe was not logged")
	}
	if st, _ := probe("GET", "/healthz"); st != http.StatusOK {
		t.Errorf("healthz = %d while not ready; liveness must not restart a pod for its volume", st)
	}

	// A new directory under the old name is not the one being served.
	if err := os.Mkdir(media, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := h.e.Ready(); !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "no longer") {
		t.Errorf("Ready with a replaced directory = %v", err)
	}

	// The same directory back: ready again.
	if err := os.Remove(media); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(moved, media); err != nil {
		t.Fatal(err)
	}
	if st, body := probe("GET", "/readyz"); st != http.StatusOK {
		t.Errorf("readyz after the directory came back = %d %s", st, body)
	}
}
