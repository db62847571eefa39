package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// checkApp is a forward-auth check endpoint whose verdict follows the
// session cookie: ok-<name>, deny, forbid, boom, slow.
type checkApp struct {
	*httptest.Server
	calls atomic.Int32
	mu    sync.Mutex
	seen  http.Header
}

func newCheckApp(t *testing.T) *checkApp {
	c := &checkApp{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.calls.Add(1)
		c.mu.Lock()
		c.seen = r.Header.Clone()
		c.mu.Unlock()
		ck, _ := r.Cookie("session")
		v := ""
		if ck != nil {
			v = ck.Value
		}
		switch {
		case strings.HasPrefix(v, "ok-"):
			w.Header().Set("X-Auth-User", strings.TrimPrefix(v, "ok-"))
		case v == "forbid":
			w.WriteHeader(http.StatusForbidden)
		case v == "boom":
			w.WriteHeader(http.StatusInternalServerError)
		case v == "login":
			http.Redirect(w, r, "/login", http.StatusFound)
		case v == "slow":
			<-r.Context().Done()
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *checkApp) header(k string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen.Get(k)
}

func TestForwardAuth(t *testing.T) {
	check := newCheckApp(t)
	f := newFixture(t, map[string]string{
		"SIGNGATE_AUTH":            "forward",
		"SIGNGATE_FORWARD_URL":     check.URL + "/check",
		"SIGNGATE_FORWARD_TTL":     "30s",
		"SIGNGATE_FORWARD_TIMEOUT": "300ms",
	})
	for _, tc := range []struct {
		cookie string
		want   int
	}{
		{"ok-bob", 302},
		{"deny", 401},
		{"login", 401},
		{"forbid", 403},
		{"boom", 503},
		{"slow", 503},
		{"", 401},
	} {
		t.Run(tc.cookie, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.cookie != "" {
				hdr["Cookie"] = "session=" + tc.cookie
			}
			if resp := f.do("GET", "/media/x.mp4", hdr); resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}

	t.Run("sends credentials and the original request", func(t *testing.T) {
		f.do("GET", "/media/sent.mp4?q=1", map[string]string{"Cookie": "session=ok-carol", "Authorization": "Bearer abc"})
		for k, want := range map[string]string{
			"Cookie":            "session=ok-carol",
			"Authorization":     "Bearer abc",
			"X-Original-URI":    "/media/sent.mp4",
			"X-Original-Method": "GET",
		} {
			if got := check.header(k); got != want {
				t.Errorf("check request %s = %q, want %q", k, got, want)
			}
		}
	})

	t.Run("verdict cache", func(t *testing.T) {
		get := func(path, cookie string) int {
			return f.do("GET", path, map[string]string{"Cookie": "session=" + cookie}).StatusCode
		}
		get("/media/c.mp4", "ok-dave")
		n := check.calls.Load()
		if get("/media/c.mp4", "ok-dave") != 302 || check.calls.Load() != n {
			t.Errorf("same inputs within the TTL asked the app again")
		}
		if get("/media/c.mp4", "ok-erin"); check.calls.Load() != n+1 {
			t.Errorf("other credentials used a cached verdict")
		}
		if get("/media/d.mp4", "ok-dave"); check.calls.Load() != n+2 {
			t.Errorf("another file of a file-scoped route used a cached verdict")
		}
		if get("/media/c.mp4", "deny"); get("/media/c.mp4", "deny") != 401 || check.calls.Load() != n+3 {
			t.Errorf("a denial is cached too: want exactly one more call")
		}
		if get("/media/c.mp4", "boom"); get("/media/c.mp4", "boom") != 503 || check.calls.Load() != n+5 {
			t.Errorf("errors must never be cached")
		}
		f.clock.Advance(31 * time.Second)
		if get("/media/c.mp4", "ok-dave"); check.calls.Load() != n+6 {
			t.Errorf("a verdict outlived its TTL")
		}
	})
}

// TestForwardAuthScope: on a directory-scoped route, one verdict serves
// every segment one token covers, so an HLS player costs the app one
// check per directory, not one per segment; the app sees the real path.
func TestForwardAuthScope(t *testing.T) {
	check := newCheckApp(t)
	f := newFixture(t, map[string]string{
		"SIGNGATE_AUTH":           "forward",
		"SIGNGATE_FORWARD_URL":    check.URL + "/check",
		"SIGNGATE_ROUTES_0_SCOPE": "dir",
	})
	get := func(path string) {
		t.Helper()
		if resp := f.do("GET", path, map[string]string{"Cookie": "session=ok-dave"}); resp.StatusCode != 302 {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
	}
	get("/media/v/a/seg1.ts")
	if got := check.header("X-Original-URI"); got != "/media/v/a/seg1.ts" {
		t.Errorf("X-Original-URI %q, want the real path", got)
	}
	get("/media/v/a/seg2.ts")
	if n := check.calls.Load(); n != 1 {
		t.Errorf("two segments of one directory: %d calls to the app, want 1", n)
	}
	get("/media/v/b/seg1.ts")
	if n := check.calls.Load(); n != 2 {
		t.Errorf("segments of two directories: %d calls to the app, want 2", n)
	}
	if got := check.header("X-Original-URI"); got != "/media/v/b/seg1.ts" {
		t.Errorf("X-Original-URI %q, want the real path", got)
	}
	// The sign endpoint asks about paths of the same scope.
	for _, p := range []string{"/.signgate/sign?path=/media/v/a/seg3.ts", "/.signgate/sign?path=/media/v/a/seg4.ts"} {
		if resp := f.do("GET", p, map[string]string{"Cookie": "session=ok-dave"}); resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", p, resp.StatusCode)
		}
	}
	if n := check.calls.Load(); n != 2 {
		t.Errorf("the sign endpoint for the same directory: %d calls, want still 2", n)
	}
}
