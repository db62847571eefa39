package proxy

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/signgate/signgate/internal/testenv"
)

// The attack, scaled for a test: slowConns connections each
// announce a 100000-byte body and trickle one byte every tick.
const (
	slowConns = 1000
	slowTick  = 50 * time.Millisecond
	slowLimit = 10 * time.Second // the clients give up here; a test fails long before
)

func slowHead(method, target string, extra ...string) string {
	return testenv.SlowHead(method, target, "gateway.example", 100000, extra...)
}

func hostOf(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func TestSlowBodiesOnMediaAreNotWaitedFor(t *testing.T) {
	f := newFixture(t, nil)
	addr := hostOf(t, f.srv.URL)
	t.Run("media route", func(t *testing.T) {
		rs := testenv.SlowBodies(t, addr, slowHead("GET", "/media/v/a.mp4"), slowConns, slowTick, slowLimit)
		testenv.WantAllClosed(t, rs, http.StatusUnauthorized, 2*time.Second)
	})
	t.Run("signgate endpoint", func(t *testing.T) {
		rs := testenv.SlowBodies(t, addr, slowHead("GET", PathAuth), slowConns, slowTick, slowLimit)
		testenv.WantAllClosed(t, rs, http.StatusUnauthorized, 2*time.Second)
	})
	t.Run("health", func(t *testing.T) {
		rs := testenv.SlowBodies(t, addr, slowHead("GET", PathHealthz), 20, slowTick, slowLimit)
		testenv.WantAllClosed(t, rs, http.StatusOK, 2*time.Second)
	})
}

// connCounter counts a server's open connections and signals each close.
type connCounter struct {
	mu     sync.Mutex
	open   int
	peak   int
	closed chan struct{}
}

func (c *connCounter) state(_ net.Conn, s http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch s {
	case http.StateNew:
		c.open++
		c.peak = max(c.peak, c.open)
	case http.StateClosed, http.StateHijacked:
		c.open--
		select {
		case c.closed <- struct{}{}:
		default:
		}
	}
}

func (c *connCounter) count() (open, peak int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open, c.peak
}

// waitClosed waits until c has no open connection, or bound passes.
func (c *connCounter) waitClosed(t *testing.T, bound time.Duration) {
	t.Helper()
	timeout := time.After(bound)
	for {
		if open, _ := c.count(); open == 0 {
			return
		}
		select {
		case <-c.closed:
		case <-timeout:
			open, _ := c.count()
			t.Fatalf("%d upstream connections still open after %s", open, bound)
		}
	}
}

// uploadApp is an upstream that reads each upload whole and answers its
// length and SHA-256, counting its connections.
func uploadApp(t *testing.T) (*httptest.Server, *connCounter) {
	cc := &connCounter{closed: make(chan struct{}, 1)}
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			return // the gateway cut the body
		}
		fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
	}))
	up.Config.ConnState = cc.state
	up.Start()
	t.Cleanup(up.Close)
	return up, cc
}

func TestPassthroughCutsSlowBodies(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		tick time.Duration
	}{
		{"min rate", map[string]string{"SIGNGATE_BODY_IDLE_TIMEOUT": "1h", "SIGNGATE_BODY_MIN_RATE": "1024", "SIGNGATE_BODY_RATE_WINDOW": "300ms"}, slowTick},
		{"idle", map[string]string{"SIGNGATE_BODY_IDLE_TIMEOUT": "300ms", "SIGNGATE_BODY_MIN_RATE": "0"}, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up, cc := uploadApp(t)
			tc.env["SIGNGATE_UPSTREAM"] = up.URL
			f := newFixture(t, tc.env)
			rs := testenv.SlowBodies(t, hostOf(t, f.srv.URL), slowHead("POST", "/upload"), slowConns, tc.tick, slowLimit)
			testenv.WantAllClosed(t, rs, http.StatusRequestTimeout, 2*time.Second)
			cc.waitClosed(t, 2*time.Second)
			_, peak := cc.count()
			t.Logf("upstream: %d connections at the peak, none left open", peak)
		})
	}
}

// steadyBody is n bytes of a counter, chunk bytes each tick.
type steadyBody struct {
	left, chunk int
	tick        <-chan time.Time
	sum         interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
	b byte
}

func (s *steadyBody) Read(p []byte) (int, error) {
	if s.left == 0 {
		return 0, io.EOF
	}
	<-s.tick
	n := min(len(p), s.chunk, s.left)
	for i := range n {
		p[i] = s.b
		s.b += 7
	}
	s.sum.Write(p[:n])
	s.left -= n
	return n, nil
}

// TestPassthroughSteadyUploadUntouched: a 50 MiB upload at a steady rate
// passes under bounds far tighter than the defaults, byte for byte.
func TestPassthroughSteadyUploadUntouched(t *testing.T) {
	up, _ := uploadApp(t)
	f := newFixture(t, map[string]string{
		"SIGNGATE_UPSTREAM":          up.URL,
		"SIGNGATE_BODY_IDLE_TIMEOUT": "500ms",
		"SIGNGATE_BODY_MIN_RATE":     "262144", // 256 KiB/s
		"SIGNGATE_BODY_RATE_WINDOW":  "500ms",
	})
	const size = 50 << 20
	tk := time.NewTicker(time.Millisecond)
	defer tk.Stop()
	body := &steadyBody{left: size, chunk: 64 << 10, tick: tk.C, sum: sha256.New()}
	req, err := http.NewRequest("POST", f.srv.URL+"/upload", body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	start := time.Now()
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got := readBody(t, resp)
	if want := fmt.Sprintf("%d %x", size, body.sum.Sum(nil)); resp.StatusCode != http.StatusOK || got != want {
		t.Fatalf("status %d, upstream saw %q, want %q", resp.StatusCode, got, want)
	}
	t.Logf("50 MiB in %s, byte-exact at the upstream", time.Since(start).Round(time.Millisecond))
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
