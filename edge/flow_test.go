package edge

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// TestSeedFlowEdgeHalf is the edge's half of the seed flow, through the
// API and the media listener: authenticated policy, a key created through
// the API, a URL signed with the private key it returned, the bytes; the
// key deleted, 403 on the very next request; the policy back to public,
// 200 without a token.
func TestSeedFlowEdgeHalf(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.bearer()
	const p = "/v/abc/seg0.ts"

	if resp := h.get(mediaHost, p); resp.StatusCode != 200 {
		t.Fatalf("public at first: %d", resp.StatusCode)
	}
	if st, m, _ := h.call("PUT", "/v1/buckets/media/policy/authenticated", tok, ""); st != 200 {
		t.Fatalf("policy: %d %v", st, m)
	}
	if resp := h.get(mediaHost, p); resp.StatusCode != 401 {
		t.Fatalf("authenticated without a token: %d", resp.StatusCode)
	}
	created := h.createKey(tok, `{"bucket":"media"}`)
	priv, err := signer.ParsePrivateKey([]byte(created["private_key"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	key := &signer.SigningKey{ID: created["id"].(string), Bucket: "media", Key: priv}
	signed := sign(t, key, signer.Claims{URI: signer.ScopeDir.URI(p), Expires: h.clock.Now().Add(time.Hour)})
	base, err := signer.ParseBase(h.media.URL)
	if err != nil {
		t.Fatal(err)
	}
	u, err := base.URL(p, "", signed)
	if err != nil {
		t.Fatal(err)
	}
	get := func() *http.Response {
		req, _ := http.NewRequest("GET", u, nil)
		req.Host = mediaHost
		resp, err := h.media.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	if resp := get(); resp.StatusCode != 200 || body(t, resp) != testFiles()["v/abc/seg0.ts"] {
		t.Fatalf("signed URL: %d", resp.StatusCode)
	}
	if resp := get(); resp.StatusCode != 200 || h.e.CacheStats().Hits != 1 {
		t.Fatalf("second request: %d, cache %+v", resp.StatusCode, h.e.CacheStats())
	}
	if st, m, _ := h.call("DELETE", "/v1/signing-keys/"+key.ID, tok, ""); st != 200 {
		t.Fatalf("delete: %d %v", st, m)
	}
	if resp := get(); resp.StatusCode != 403 || resp.Header.Get(ReasonHeader) != "unknown_key" {
		t.Fatalf("after delete: %d %s", resp.StatusCode, resp.Header.Get(ReasonHeader))
	}
	if st, m, _ := h.call("PUT", "/v1/buckets/media/policy/public", tok, ""); st != 200 {
		t.Fatalf("policy: %d %v", st, m)
	}
	if resp := h.get(mediaHost, p); resp.StatusCode != 200 || body(t, resp) != testFiles()["v/abc/seg0.ts"] {
		t.Fatalf("public again, no token: %d", resp.StatusCode)
	}
}

// TestRevocationRace deletes a key whose token sits in the cache, with
// the store and the snapshot out of step: the cache never outlives the key.
func TestRevocationRace(t *testing.T) {
	h := newHarness(t, authenticated)
	k := h.addKey("key1.pem", "k1", "media")
	tok := sign(t, k, signer.Claims{})
	if resp := h.get(mediaHost, "/top.txt?auth="+tok); resp.StatusCode != 200 {
		t.Fatalf("%d", resp.StatusCode)
	}
	// A cache entry made from a snapshot that is no longer in force (as
	// when a verification races a deletion) must not be honoured.
	s := h.e.snap.Load()
	if err := h.e.store.DeleteKey(context.Background(), "k1"); err != nil {
		t.Fatal(err)
	}
	if err := h.e.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := h.e.check(s, h.e.byName["media"], tok, "/top.txt"); err != nil {
		t.Fatalf("check against the old snapshot: %v", err)
	}
	if h.e.CacheStats().Entries != 1 {
		t.Fatalf("the stale entry is not in the cache: %+v", h.e.CacheStats())
	}
	resp := h.get(mediaHost, "/top.txt?auth="+tok)
	if resp.StatusCode != 403 || resp.Header.Get(ReasonHeader) != "unknown_key" {
		t.Errorf("stale cache entry honoured: %d %s", resp.StatusCode, resp.Header.Get(ReasonHeader))
	}
}

// TestRevocationAcrossEdges runs two edges on one database: a key deleted
// through one is refused by the other at its next refresh.
func TestRevocationAcrossEdges(t *testing.T) {
	root := t.TempDir()
	cfg := baseConfig(t, root)
	cfg.Buckets[0].Policy = "authenticated"
	a := startHarness(t, cfg, newClock())
	b := startHarness(t, cfg, a.clock)
	tok := a.bearer()
	created := a.createKey(tok, `{"bucket":"media"}`)
	priv, err := signer.ParsePrivateKey([]byte(created["private_key"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	signed := sign(t, &signer.SigningKey{ID: created["id"].(string), Key: priv}, signer.Claims{})
	target := "/top.txt?auth=" + url.QueryEscape(signed)
	if err := b.e.Refresh(context.Background()); err != nil { // b's periodic refresh
		t.Fatal(err)
	}
	for _, h := range []*harness{a, b, b} {
		if resp := h.get(mediaHost, target); resp.StatusCode != 200 {
			t.Fatalf("before delete: %d", resp.StatusCode)
		}
	}
	if st, _, _ := a.call("DELETE", "/v1/signing-keys/"+created["id"].(string), tok, ""); st != 200 {
		t.Fatal("delete failed")
	}
	if resp := a.get(mediaHost, target); resp.StatusCode != 403 {
		t.Errorf("edge a after delete: %d", resp.StatusCode)
	}
	if err := b.e.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if resp := b.get(mediaHost, target); resp.StatusCode != 403 || b.e.CacheStats().Entries != 0 {
		t.Errorf("edge b after its refresh: %d, cache %+v", resp.StatusCode, b.e.CacheStats())
	}
	// The bearer token of one edge works on the other: they share it.
	if st, _, _ := b.call("GET", "/v1/signing-keys", tok, ""); st != 200 {
		t.Errorf("bearer token on the other edge: %d", st)
	}
}

// TestRestartKeepsPolicyAndKeys restarts an edge on its database.
func TestRestartKeepsPolicyAndKeys(t *testing.T) {
	root := t.TempDir()
	cfg := baseConfig(t, root)
	h := startHarness(t, cfg, newClock())
	tok := h.bearer()
	h.call("PUT", "/v1/buckets/media/policy/authenticated", tok, "")
	h.call("PUT", "/v1/buckets/other/policy/public", tok, "")
	created := h.createKey(tok, `{"bucket":"media","name":"kept"}`)
	h.media.Close()
	h.api.Close()
	if err := h.e.Close(); err != nil {
		t.Fatal(err)
	}

	h2 := startHarness(t, cfg, h.clock) // the configuration still says public / authenticated
	if resp := h2.get(mediaHost, "/top.txt"); resp.StatusCode != 401 {
		t.Errorf("media after restart: %d, want 401 (stored policy wins)", resp.StatusCode)
	}
	if resp := h2.get(otherHost, "/o.ts"); resp.StatusCode != 200 {
		t.Errorf("other after restart: %d, want 200", resp.StatusCode)
	}
	priv, _ := signer.ParsePrivateKey([]byte(created["private_key"].(string)))
	signed := sign(t, &signer.SigningKey{ID: created["id"].(string), Key: priv}, signer.Claims{})
	if resp := h2.get(mediaHost, "/top.txt?auth="+signed); resp.StatusCode != 200 {
		t.Errorf("key after restart: %d", resp.StatusCode)
	}
	if st, m, _ := h2.call("GET", "/v1/signing-keys/"+created["id"].(string), tok, ""); st != 200 || m["signing_key"].(map[string]any)["name"] != "kept" {
		t.Errorf("bearer and key after restart: %d %v", st, m)
	}
}

// TestPolicyChangePurgesCache: the cache empties when a policy changes.
func TestPolicyChangePurgesCache(t *testing.T) {
	h := newHarness(t, authenticated)
	k := h.addKey("key1.pem", "k1", "media")
	tok := h.bearer()
	if resp := h.get(mediaHost, "/top.txt?auth="+sign(t, k, signer.Claims{})); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	if h.e.CacheStats().Entries != 1 {
		t.Fatal("not cached")
	}
	h.call("PUT", "/v1/buckets/other/policy/public", tok, "")
	if n := h.e.CacheStats().Entries; n != 0 {
		t.Errorf("%d entries after a policy change", n)
	}
}
