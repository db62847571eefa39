package httpx

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/internal/testenv"
)

// serve runs h on 127.0.0.1:0 with signgate's server limits (NewServer)
// and returns its address.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h, slog.New(slog.DiscardHandler))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

const slowConns = 200

// slowHead announces a 100000-byte body, as the attacker did.
var slowHead = testenv.SlowHead("POST", "/media/x.mp4", "example.com", 100000)

func unauthorized(w http.ResponseWriter, r *http.Request) {
	WriteError(w, r, nil, Errorf(http.StatusUnauthorized, "unauthorized", "log in", nil))
}

// TestUnreadBodyHoldsConnection records net/http's own behaviour, which
// RefuseBody exists for: after a handler that ignores an announced body
// of less than 256 KiB, the server reads (discards) it before it writes
// the answer, with no deadline. A client trickling the body gets no answer
// and keeps the connection.
func TestUnreadBodyHoldsConnection(t *testing.T) {
	addr := serve(t, http.HandlerFunc(unauthorized))
	const hold = 500 * time.Millisecond
	rs := testenv.SlowBodies(t, addr, slowHead, 20, 50*time.Millisecond, hold)
	longest, answered := testenv.MaxClosed(rs)
	if answered != 0 || longest < hold {
		t.Fatalf("net/http answered %d of 20 slow bodies, longest open %s; RefuseBody may be unneeded now", answered, longest)
	}
	t.Logf("without a bound: 0 of 20 answered, all open at %s (the test's limit)", hold)
}

func TestRefuseBody(t *testing.T) {
	addr := serve(t, RefuseBodies(http.HandlerFunc(unauthorized)))
	const bound = 2 * time.Second
	rs := testenv.SlowBodies(t, addr, slowHead, slowConns, 50*time.Millisecond, 10*time.Second)
	for i, r := range rs {
		if r.Status != http.StatusUnauthorized || r.Closed > bound {
			t.Fatalf("connection %d: status %d, answered after %s, closed after %s; want 401 and closed within %s", i, r.Status, r.Answer, r.Closed, bound)
		}
	}
	longest, _ := testenv.MaxClosed(rs)
	t.Logf("RefuseBody: %d of %d slow bodies answered 401 and closed, the longest after %s", slowConns, slowConns, longest)
}

// TestRefuseBodyKeepsAlive: without a body, nothing changes; the
// connection serves the next request.
func TestRefuseBodyKeepsAlive(t *testing.T) {
	addr := serve(t, RefuseBodies(http.HandlerFunc(unauthorized)))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := range 3 {
		io.WriteString(c, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d on one connection: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Close {
			t.Fatalf("request %d: status %d, close %v", i, resp.StatusCode, resp.Close)
		}
	}
}

// TestRefuseBodyAnswers: a client that sends its whole body at once still
// reads the answer, though the server closes with the body unread.
func TestRefuseBodyAnswers(t *testing.T) {
	addr := serve(t, RefuseBodies(http.HandlerFunc(unauthorized)))
	for _, size := range []int{1000, 1 << 20} {
		resp, err := http.Post("http://"+addr+"/x", "text/plain", strings.NewReader(strings.Repeat("x", size)))
		if err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
			t.Fatalf("%d bytes: status %d, close %v; want 401 and Connection: close", size, resp.StatusCode, resp.Close)
		}
	}
}

// readAll answers 200 with the body's length, or the error reading it.
func readAll(w http.ResponseWriter, r *http.Request) {
	n, err := io.Copy(io.Discard, r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			err = Errorf(http.StatusRequestEntityTooLarge, "too_large", "too large", err)
		}
		WriteError(w, r, nil, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]int64{"read": n})
}

func TestLimitBody(t *testing.T) {
	const timeout = 300 * time.Millisecond
	addr := serve(t, LimitBodies(APIBodyBytes, timeout)(http.HandlerFunc(readAll)))
	t.Run("slow", func(t *testing.T) {
		rs := testenv.SlowBodies(t, addr, slowHead, slowConns, 50*time.Millisecond, 10*time.Second)
		bound := timeout + 1500*time.Millisecond
		for i, r := range rs {
			if r.Status != http.StatusRequestTimeout || r.Closed > bound {
				t.Fatalf("connection %d: status %d, closed after %s; want 408 within %s", i, r.Status, r.Closed, bound)
			}
		}
		longest, _ := testenv.MaxClosed(rs)
		t.Logf("LimitBody(%s): %d slow bodies answered 408, the longest open %s", timeout, slowConns, longest)
	})
	t.Run("unread", func(t *testing.T) {
		addr := serve(t, LimitBodies(APIBodyBytes, time.Hour)(http.HandlerFunc(unauthorized)))
		rs := testenv.SlowBodies(t, addr, slowHead, 20, 50*time.Millisecond, 10*time.Second)
		if longest, answered := testenv.MaxClosed(rs); answered != 20 || longest > 2*time.Second {
			t.Fatalf("%d of 20 answered, longest open %s: an unread body was waited for", answered, longest)
		}
	})
	t.Run("too large", func(t *testing.T) {
		resp, err := http.Post("http://"+addr+"/", "application/json", strings.NewReader(strings.Repeat("x", APIBodyBytes+1)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
	})
	t.Run("keep-alive", func(t *testing.T) {
		c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
		for i := range 3 {
			resp, err := c.Post("http://"+addr+"/", "application/json", strings.NewReader(`{"a":1}`))
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Close {
				t.Fatalf("request %d: status %d close %v", i, resp.StatusCode, resp.Close)
			}
		}
	})
}

// paced serves h with p's guard, as pass-through does.
func paced(p BodyPace, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, done := p.Guard(w, r)
		defer done()
		h(w, r)
	})
}

func TestBodyPaceCutsTrickle(t *testing.T) {
	cases := []struct {
		name string
		pace BodyPace
		tick time.Duration
	}{
		{"idle", BodyPace{Idle: 200 * time.Millisecond}, time.Hour},
		{"min rate", BodyPace{Idle: time.Hour, MinRate: 1024, Window: 300 * time.Millisecond}, 20 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := serve(t, paced(tc.pace, readAll))
			rs := testenv.SlowBodies(t, addr, slowHead, slowConns, tc.tick, 10*time.Second)
			for i, r := range rs {
				if r.Status != http.StatusRequestTimeout || r.Closed > 2*time.Second {
					t.Fatalf("connection %d: status %d, closed after %s; want 408 within 2s", i, r.Status, r.Closed)
				}
			}
			longest, _ := testenv.MaxClosed(rs)
			t.Logf("%+v: %d trickled bodies cut with 408, the longest open %s", tc.pace, slowConns, longest)
		})
	}
}

// steady is a body of n bytes from a counter, sent in chunks of size
// chunk, one chunk each tick.
type steady struct {
	left, chunk int
	tick        <-chan time.Time
	h           interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
	i byte
}

func (s *steady) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	<-s.tick
	n := min(len(p), s.chunk, s.left)
	for k := range n {
		p[k] = s.i
		s.i++
	}
	s.h.Write(p[:n])
	s.left -= n
	return n, nil
}

func TestBodyPacePassesSteadyUpload(t *testing.T) {
	p := BodyPace{Idle: 200 * time.Millisecond, MinRate: 1 << 20, Window: 300 * time.Millisecond}
	got := make(chan [32]byte, 1)
	addr := serve(t, paced(p, func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		if _, err := io.Copy(h, r.Body); err != nil {
			WriteError(w, r, nil, err)
			return
		}
		got <- [32]byte(h.Sum(nil))
		w.WriteHeader(http.StatusNoContent)
	}))
	tk := time.NewTicker(time.Millisecond)
	defer tk.Stop()
	body := &steady{left: 8 << 20, chunk: 16 << 10, tick: tk.C, h: sha256.New()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "PUT", "http://"+addr+"/", body)
	req.ContentLength = 8 << 20
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if want := [32]byte(body.h.Sum(nil)); <-got != want {
		t.Fatal("the body arrived changed")
	}
}
