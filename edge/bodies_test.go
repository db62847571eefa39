package edge

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/testenv"
)

// The attack, scaled for a test: slowConns connections each
// announce a 100000-byte body and trickle one byte every tick.
const (
	slowConns = 1000
	slowTick  = 50 * time.Millisecond
	slowLimit = 10 * time.Second // the clients give up here; a test fails long before
)

func addrOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

func TestSlowBodiesOnMediaAreNotWaitedFor(t *testing.T) {
	h := newHarness(t, nil)
	addr := addrOf(t, h.media.URL)
	for _, tc := range []struct {
		name, host, target string
		status             int
	}{
		{"authenticated bucket", "other.media-storage.us-west.example.test", "/o.ts", http.StatusUnauthorized},
		{"public bucket", "cdn.example.test", "/v/abc/seg0.ts", http.StatusOK},
		{"unknown bucket", "nobody.example.test", "/v/a.ts", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := testenv.SlowHead("GET", tc.target, tc.host, 100000)
			rs := testenv.SlowBodies(t, addr, head, slowConns, slowTick, slowLimit)
			testenv.WantAllClosed(t, rs, tc.status, 2*time.Second)
		})
	}
}

func TestSlowAPIBodiesEndAtTheDeadline(t *testing.T) {
	const timeout = 300 * time.Millisecond
	h := newHarness(t, func(c *config.Edge) { c.APIBodyTimeout = timeout })
	addr := addrOf(t, h.api.URL)
	bearer := h.bearer()
	t.Run("read", func(t *testing.T) {
		head := testenv.SlowHead("POST", "/v1/signing-keys", "api.example.test", 100000,
			"Authorization: Bearer "+bearer, "Content-Type: application/json")
		rs := testenv.SlowBodies(t, addr, head, slowConns, slowTick, slowLimit)
		testenv.WantAllClosed(t, rs, http.StatusRequestTimeout, timeout+1500*time.Millisecond)
	})
	t.Run("unread", func(t *testing.T) {
		// No bearer: the answer comes before the body is read, and the
		// rest is not waited for.
		head := testenv.SlowHead("POST", "/v1/signing-keys", "api.example.test", 100000)
		rs := testenv.SlowBodies(t, addr, head, slowConns, slowTick, slowLimit)
		testenv.WantAllClosed(t, rs, http.StatusUnauthorized, 2*time.Second)
	})
}
