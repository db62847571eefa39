package edge

import (
	"net/http"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// TestEd25519Bucket: a bucket that holds an Ed25519 key (created through
// the API with "algorithm": "EdDSA") accepts the EdDSA tokens of the
// ed25519 scheme beside RS256 tokens of its RSA key; the algorithm is
// pinned by each key, so an RS256 header under the Ed25519 kid, or an
// EdDSA header under the RSA kid, is refused.
func TestEd25519Bucket(t *testing.T) {
	h := newHarness(t, authenticated)
	tok := h.bearer()
	const p = "/v/abc/seg0.ts"
	ed := h.createKey(tok, `{"bucket":"media","algorithm":"EdDSA"}`)
	rs := h.createKey(tok, `{"bucket":"media"}`)
	if pk, err := signer.ParseVerifyingKey("", "", []byte(ed["public_key"].(string))); err != nil || pk.Alg() != "EdDSA" {
		t.Fatalf("the EdDSA key's public half: %v %v", pk, err)
	}
	base, err := signer.ParseBase(h.media.URL)
	if err != nil {
		t.Fatal(err)
	}
	s, err := signer.Ed25519{}.New(signer.Settings{Base: base, KeyID: ed["id"].(string), Key: []byte(ed["private_key"].(string)), TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	get := func(u string) *http.Response {
		req, _ := http.NewRequest("GET", u, nil)
		req.Host = mediaHost
		resp, err := h.media.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	mint, err := s.Mint(signer.Grant{Path: "/v/abc", Prefix: true}, h.clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := s.URL(p, "", mint)
	if resp := get(u); resp.StatusCode != 200 || body(t, resp) != testFiles()["v/abc/seg0.ts"] {
		t.Fatalf("EdDSA token: %d %s", resp.StatusCode, resp.Header.Get(ReasonHeader))
	}
	rpriv, err := signer.ParsePrivateKey([]byte(rs["private_key"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string]*signer.SigningKey{
		"RS256 under the Ed25519 kid": {ID: ed["id"].(string), Key: rpriv},
		"EdDSA under the RSA kid":     {ID: rs["id"].(string), Ed25519: s.(*signer.QencodeSigner).Key.Ed25519},
	} {
		forged, _ := signer.NewQencodeSigner(k, base).Mint(signer.Grant{Path: "/v/abc", Prefix: true}, h.clock.Now().Add(time.Hour))
		u, _ := signer.NewQencodeSigner(k, base).URL(p, "", forged)
		if resp := get(u); resp.StatusCode != 403 || resp.Header.Get(ReasonHeader) != "algorithm_not_allowed" {
			t.Errorf("%s: %d %s, want 403 algorithm_not_allowed", name, resp.StatusCode, resp.Header.Get(ReasonHeader))
		}
	}
	if st, m, _ := h.call("POST", "/v1/signing-keys", tok, `{"bucket":"media","algorithm":"HS256"}`); st != 400 {
		t.Errorf("HS256 key: %d %v, want 400", st, m)
	}
}
