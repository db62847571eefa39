package proxy

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPassthroughStripsIdentityHeaders(t *testing.T) {
	f := newFixture(t, map[string]string{"SIGNGATE_AUTH": "jwt,header", "SIGNGATE_TRUSTED_PROXIES": "10.0.0.0/8"})
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	spoofs := []string{
		"X-Signgate-Subject: mallory",
		"x-signgate-subject: mallory",
		"X_Signgate_Subject: mallory",
		"x.signgate.subject: mallory",
		"X-SIGNGATE-SUBJECT: mallory",
		"X-Signgate_Subject: mallory",
		"X-Forwarded-User: mallory",
		"x_forwarded_user: mallory",
		"X.Forwarded.User: mallory",
	}
	check := func(t *testing.T, wantSubject string) {
		t.Helper()
		got := f.app.lastRequest()
		for name, vs := range got.Header {
			if n := normHeader(name); n == "x-signgate-subject" || n == "x-forwarded-user" {
				if n == "x-signgate-subject" && len(vs) == 1 && vs[0] == wantSubject && wantSubject != "" {
					continue
				}
				t.Errorf("upstream got %s: %q", name, vs)
			}
		}
		if s := got.Header.Get("X-Signgate-Subject"); s != wantSubject {
			t.Errorf("upstream subject %q, want %q", s, wantSubject)
		}
	}
	t.Run("anonymous", func(t *testing.T) {
		resp := rawRequest(t, addr, "/app/page", spoofs...)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		check(t, "")
	})
	t.Run("authenticated", func(t *testing.T) {
		resp := rawRequest(t, addr, "/app/page", append(spoofs, "Authorization: Bearer "+f.session("alice", nil))...)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		check(t, "alice")
	})
	t.Run("Connection names the subject header", func(t *testing.T) {
		// A client naming the identity header as hop-by-hop must not make
		// the proxy drop the subject it sets.
		resp := rawRequest(t, addr, "/app/page", append(spoofs,
			"Authorization: Bearer "+f.session("alice", nil),
			"Connection: X-Signgate-Subject, X-Forwarded-User, x_signgate_subject")...)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		check(t, "alice")
	})
	t.Run("Connection names X-Forwarded-For", func(t *testing.T) {
		resp := rawRequest(t, addr, "/app/page", append(spoofs, "Connection: close, X-Forwarded-For")...)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		check(t, "")
		if xff := f.app.lastRequest().Header.Get("X-Forwarded-For"); xff != "127.0.0.1" {
			t.Errorf("X-Forwarded-For %q, want the peer", xff)
		}
	})
}

func TestPassthroughForwardedHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, trusted     string
		wantXFF, wantHost string
	}{
		{"untrusted peer: replaced", "10.0.0.0/8", "127.0.0.1", "gateway.example"},
		{"trusted peer: extended", "127.0.0.1/32", "203.0.113.9, 127.0.0.1", "shop.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, map[string]string{"SIGNGATE_TRUSTED_PROXIES": tc.trusted})
			addr := strings.TrimPrefix(f.srv.URL, "http://")
			rawRequest(t, addr, "/app", "X-Forwarded-For: 203.0.113.9", "X-Forwarded-Host: shop.example")
			h := f.app.lastRequest().Header
			if got := h.Get("X-Forwarded-For"); got != tc.wantXFF {
				t.Errorf("X-Forwarded-For %q, want %q", got, tc.wantXFF)
			}
			if got := h.Get("X-Forwarded-Host"); got != tc.wantHost {
				t.Errorf("X-Forwarded-Host %q, want %q", got, tc.wantHost)
			}
			if got := h.Get("X-Forwarded-Proto"); got != "http" {
				t.Errorf("X-Forwarded-Proto %q", got)
			}
		})
	}
}

func TestPassthroughBodiesRangeStreaming(t *testing.T) {
	big := make([]byte, 8<<20)
	rand.Read(big)
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/upload":
			h := sha256.New()
			n, _ := io.Copy(h, r.Body)
			fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
		case "/file":
			http.ServeContent(w, r, "file.bin", time.Unix(0, 0), bytes.NewReader(big))
		case "/stream":
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, "data: one\n\n")
			w.(http.Flusher).Flush()
			<-release
			io.WriteString(w, "data: two\n\n")
		}
	}))
	t.Cleanup(up.Close)
	f := newFixture(t, map[string]string{"SIGNGATE_UPSTREAM": up.URL})

	t.Run("large upload", func(t *testing.T) {
		resp, err := http.Post(f.srv.URL+"/upload", "application/octet-stream", bytes.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%d %x", len(big), sha256.Sum256(big))
		if got := body(t, resp); got != want {
			t.Errorf("upstream saw %q, want %q", got, want)
		}
	})
	t.Run("large download", func(t *testing.T) {
		resp := f.do("GET", "/file", nil)
		if b := body(t, resp); b != string(big) {
			t.Errorf("download of %d bytes differs", len(b))
		}
	})
	t.Run("range", func(t *testing.T) {
		resp := f.do("GET", "/file", map[string]string{"Range": "bytes=100-199"})
		b := body(t, resp)
		if resp.StatusCode != http.StatusPartialContent || b != string(big[100:200]) ||
			resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(big)) {
			t.Errorf("range: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Range"), len(b))
		}
	})
	t.Run("streaming", func(t *testing.T) {
		resp := f.do("GET", "/stream", nil)
		br := bufio.NewReader(resp.Body)
		line, err := br.ReadString('\n')
		if err != nil || line != "data: one\n" {
			t.Fatalf("first event %q, %v: not flushed before the stream ended", line, err)
		}
		close(release)
		rest, _ := io.ReadAll(br)
		if string(rest) != "\ndata: two\n\n" {
			t.Errorf("rest %q", rest)
		}
	})
}

// TestPassthroughWebSocketUpgrade: an upgraded connection passes both
// ways and outlives SIGNGATE_UPSTREAM_TIMEOUT, which bounds the wait for
// the response headers only: the upstream's answer to "slow" comes after
// twice that bound.
func TestPassthroughWebSocketUpgrade(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "want upgrade", 400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		// Echo lines, upper-cased; "slow" only after twice the
		// gateway's header bound, as a quiet socket would.
		for {
			line, err := brw.ReadString('\n')
			if err != nil {
				return
			}
			if line == "slow\n" {
				<-time.After(400 * time.Millisecond)
			}
			io.WriteString(conn, strings.ToUpper(line))
		}
	}))
	t.Cleanup(up.Close)
	f := newFixture(t, map[string]string{"SIGNGATE_UPSTREAM": up.URL, "SIGNGATE_UPSTREAM_TIMEOUT": "200ms"})
	c, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, msg := range []string{"hello", "slow", "again"} {
		io.WriteString(c, msg+"\n")
		line, err := br.ReadString('\n')
		if want := strings.ToUpper(msg) + "\n"; err != nil || line != want {
			t.Fatalf("echo of %q: %q, %v; want %q (SIGNGATE_UPSTREAM_TIMEOUT is for the headers, not an upgraded connection)", msg, line, err, want)
		}
	}
}

func TestPassthroughWithoutOrWithDeadUpstream(t *testing.T) {
	t.Run("no upstream", func(t *testing.T) {
		f := newFixture(t, map[string]string{"SIGNGATE_UPSTREAM": ""})
		if resp := f.do("GET", "/app", nil); resp.StatusCode != 404 {
			t.Errorf("status %d, want 404", resp.StatusCode)
		}
	})
	t.Run("dead upstream", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		f := newFixture(t, map[string]string{"SIGNGATE_UPSTREAM": dead.URL})
		resp := f.do("GET", "/app", nil)
		if b := body(t, resp); resp.StatusCode != 502 || !strings.Contains(b, "bad_gateway") {
			t.Errorf("status %d %s, want 502", resp.StatusCode, b)
		}
	})
}

// TestPassthroughUpstreamTimeout: an app that takes the request and never
// answers gets the client a 504 at SIGNGATE_UPSTREAM_TIMEOUT, not a wait
// for ever; one that answers its headers in time keeps streaming past it.
func TestPassthroughUpstreamTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	up := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hang":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/stream":
			w.WriteHeader(http.StatusOK)
			for i := range 4 {
				fmt.Fprintf(w, "chunk %d\n", i)
				w.(http.Flusher).Flush()
				select {
				case <-time.After(150 * time.Millisecond): // longer than the timeout, in all
				case <-r.Context().Done():
					return
				}
			}
		}
	})
	f := newFixture(t, map[string]string{"SIGNGATE_UPSTREAM": up.URL, "SIGNGATE_UPSTREAM_TIMEOUT": "300ms"})
	start := time.Now()
	resp := f.do("GET", "/hang", nil)
	if took := time.Since(start); resp.StatusCode != http.StatusGatewayTimeout || took > 5*time.Second {
		t.Fatalf("a hung upstream: %d after %s, want 504 at the timeout", resp.StatusCode, took)
	}
	if b := body(t, resp); !strings.Contains(b, "gateway_timeout") {
		t.Errorf("body %s, want the code gateway_timeout", b)
	}
	resp = f.do("GET", "/stream", nil)
	if b := body(t, resp); resp.StatusCode != 200 || strings.Count(b, "chunk") != 4 {
		t.Errorf("a stream that outlives the timeout: %d %q, want all 4 chunks", resp.StatusCode, b)
	}
}
