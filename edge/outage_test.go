package edge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// TestStoreOutage: with the store gone (the real SQLite database closed
// under the edge), every API call that needs it answers 503
// store_unavailable with Retry-After, never 500; media is served on from
// the last snapshot.
func TestStoreOutage(t *testing.T) {
	h := newHarness(t, func(c *config.Edge) { c.Buckets[0].Policy = config.PolicyAuthenticated })
	k := h.addKey("key1.pem", "k1", "media")
	if err := h.e.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	tok := h.bearer()
	signed := sign(t, k, signer.Claims{})
	if err := h.e.store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/signing-keys", ""},
		{"GET", "/v1/signing-keys/k1", ""},
		{"POST", "/v1/signing-keys", `{"bucket":"media"}`},
		{"PUT", "/v1/signing-keys/k1", `{"name":"x"}`},
		{"DELETE", "/v1/signing-keys/k1", ""},
		{"PUT", "/v1/buckets/media/policy/public", ""},
		{"POST", "/v1/access_token/" + testAPIKey, ""},
	} {
		st, m, hdr := h.call(c.method, c.path, tok, c.body)
		if st != http.StatusServiceUnavailable || m["code"] != "store_unavailable" || hdr.Get("Retry-After") == "" {
			t.Errorf("%s %s with the store down: %d %v Retry-After %q, want 503 store_unavailable with Retry-After",
				c.method, c.path, st, m, hdr.Get("Retry-After"))
		}
	}
	if resp := h.get(mediaHost, "/top.txt?auth="+signed); resp.StatusCode != http.StatusOK {
		t.Errorf("media with the store down: %d, want 200 from the last snapshot", resp.StatusCode)
	}
}

// TestMaxStaleness: while the store cannot be read, an authenticated
// bucket serves from the last snapshot up to SIGNGATE_EDGE_MAX_STALENESS,
// then fails closed (503 store_stale), as a revocation made elsewhere
// could be missing; a good refresh opens it again.
func TestMaxStaleness(t *testing.T) {
	h := newHarness(t, func(c *config.Edge) {
		c.Buckets[0].Policy = config.PolicyAuthenticated
		c.MaxStaleness = 3 * c.Refresh
	})
	k := h.addKey("key1.pem", "k1", "media")
	if err := h.e.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	signed := sign(t, k, signer.Claims{})
	get := func() *http.Response { return h.get(mediaHost, "/top.txt?auth="+signed) }
	if resp := get(); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh: %d", resp.StatusCode)
	}
	h.clock.Advance(2 * h.e.cfg.Refresh)
	if resp := get(); resp.StatusCode != http.StatusOK {
		t.Errorf("within the bound: %d, want 200", resp.StatusCode)
	}
	h.clock.Advance(2 * h.e.cfg.Refresh) // 4 refresh periods: past the bound
	resp := get()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body(t, resp), "store_stale") {
		t.Errorf("past the bound: %d, want 503 store_stale with Retry-After", resp.StatusCode)
	}
	if err := h.e.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if resp := get(); resp.StatusCode != http.StatusOK {
		t.Errorf("after a good refresh: %d, want 200", resp.StatusCode)
	}
}
