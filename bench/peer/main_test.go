package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// start runs the peer with args on 127.0.0.1:0 and returns its base URL;
// the server stops when the test ends.
func start(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, io.Discard, func(a net.Addr) { addrc <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("peer %s: %v", args[0], err)
		}
	})
	select {
	case a := <-addrc:
		return "http://" + a.String()
	case err := <-done:
		t.Fatalf("peer %s did not start: %v", args[0], err)
	}
	return ""
}

func noFollow() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func TestRedirect(t *testing.T) {
	const loc = "https://bench.media-storage.us-west.qencode.com/v/clip.mp4?start=10&auth=x.y.z"
	base := start(t, "redirect", "-listen", "127.0.0.1:0", "-location", loc)
	resp, err := noFollow().Get(base + "/media/v/clip.mp4?start=10")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := map[string]string{
		"Location":        loc,
		"Cache-Control":   "private, no-store",
		"Referrer-Policy": "no-referrer",
		"Content-Length":  "0",
	}
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status %d, want 302", resp.StatusCode)
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(body) != 0 {
		t.Errorf("body %q, want none", body)
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), 64)
	if err := os.WriteFile(filepath.Join(dir, "1k.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	base := start(t, "files", "-dir", dir)
	resp, err := noFollow().Get(base + "/1k.bin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("status %d, %d bytes; want 200 and the file's %d bytes", resp.StatusCode, len(body), len(data))
	}
	resp, err = noFollow().Get(base + "/missing.bin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing file: status %d, want 404", resp.StatusCode)
	}
}

func TestProxy(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-Forwarded-For", r.Header.Get("X-Forwarded-For"))
		io.WriteString(w, "app:"+r.URL.Path)
	}))
	defer app.Close()
	base := start(t, "proxy", "-upstream", app.URL)
	resp, err := noFollow().Get(base + "/v/1k.ts")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "app:/v/1k.ts" {
		t.Errorf("status %d, body %q; want 200 and the app's answer", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Seen-Forwarded-For"); got != "127.0.0.1" {
		t.Errorf("the app saw X-Forwarded-For %q, want 127.0.0.1", got)
	}
}

func TestPorts(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"ports", "3"}, &out, nil); err != nil {
		t.Fatal(err)
	}
	ps := strings.Fields(out.String())
	if len(ps) != 3 || ps[0] == ps[1] || ps[1] == ps[2] || ps[0] == ps[2] {
		t.Fatalf("ports 3 printed %q, want three distinct ports", ps)
	}
	for _, p := range ps {
		l, err := net.Listen("tcp", "127.0.0.1:"+p)
		if err != nil {
			t.Errorf("port %s is not free: %v", p, err)
			continue
		}
		l.Close()
	}
}

func TestBadArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"none", nil, "usage"},
		{"unknown", []string{"nope"}, `unknown command "nope"`},
		{"redirect without location", []string{"redirect"}, "-location is required"},
		{"files without dir", []string{"files", "-dir", "/nonexistent/dir"}, "is not a directory"},
		{"proxy without upstream", []string{"proxy"}, "is not an http(s) URL"},
		{"ports not a number", []string{"ports", "x"}, "is not a number"},
		{"ports too many", []string{"ports", "65"}, "is not a number from 1 to 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, io.Discard, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
