package signer_test

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// TestEd25519MatchesNode: tokens of the ed25519 scheme verify with
// node's own Ed25519 (crypto.verify, OpenSSL's), over generated grants
// and expiries, with header {alg: EdDSA, kid, typ: JWT}; and with the
// Verifier, which pins EdDSA to the key; a flipped byte fails both.
func TestEd25519MatchesNode(t *testing.T) {
	o := newOracle(t, "minio") // any package: the fixture is installed
	priv := signer.GenerateEd25519Key()
	pemBytes := signer.EncodeEd25519PrivateKey(priv)
	base, _ := signer.ParseBase("https://cdn.example.com")
	s, err := signer.Ed25519{}.New(signer.Settings{Base: base, KeyID: "ed1", Key: pemBytes, Scope: signer.ScopeDir, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	pub := s.(*signer.QencodeSigner).Key.Public()
	pubPEM := string(signer.EncodeVerifyingKey(pub))
	ck, err := signer.Ed25519{}.NewChecker(signer.Settings{KeyID: "ed1", Key: []byte(pubPEM)})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(14, 5))
	for i := range 40 {
		p := randPath(r)
		exp := time.Unix(1_800_000_000+r.Int64N(1e8), 0)
		tok, err := s.Mint(signer.Grant{Path: p, Prefix: true}, exp)
		if err != nil {
			t.Fatal(err)
		}
		jwt := tok.Get("auth")
		var a struct {
			OK      bool
			Header  map[string]string
			Payload map[string]any
		}
		o.ask(map[string]any{"kind": "ed25519-verify", "token": jwt, "publicKey": pubPEM}, &a)
		if !a.OK || a.Header["alg"] != "EdDSA" || a.Header["kid"] != "ed1" || a.Payload["uri"] != p || a.Payload["exp"] != float64(exp.Unix()) {
			t.Fatalf("case %d: node says %+v", i, a)
		}
		v, err := ck.Check(signer.Request{Path: p + "/x", RawQuery: "auth=" + jwt, Now: exp.Add(-time.Minute)})
		if err != nil || v.Grant.Path != p {
			t.Fatalf("case %d: Check %+v %v", i, v, err)
		}
		flip := []byte(jwt)
		j := len(flip) - 1 - r.IntN(20)
		flip[j] ^= 1
		o.ask(map[string]any{"kind": "ed25519-verify", "token": string(flip), "publicKey": pubPEM}, &a)
		_, verr := ck.Check(signer.Request{Path: p, RawQuery: "auth=" + string(flip), Now: exp.Add(-time.Minute)})
		if a.OK || verr == nil {
			t.Fatalf("case %d: a flipped byte verified (node %v, ours %v)", i, a.OK, verr)
		}
	}
}

// TestAlgorithmPinnedByKey: a Verifier holding an RSA and an Ed25519 key
// takes each key's algorithm only.
func TestAlgorithmPinnedByKey(t *testing.T) {
	rsaKey := &signer.SigningKey{ID: "rsa", Key: testKey(t, "rsa2048.pem")}
	edKey := &signer.SigningKey{ID: "ed", Ed25519: signer.GenerateEd25519Key()}
	v := signer.NewVerifier(signer.NewKeys(rsaKey.Public(), edKey.Public()))
	c := signer.Claims{URI: "/v", Expires: time.Now().Add(time.Hour)}
	for _, tc := range []struct {
		name string
		key  *signer.SigningKey
		want error
	}{
		{"RS256 with the RSA key", rsaKey, nil},
		{"EdDSA with the Ed25519 key", edKey, nil},
		{"EdDSA under the RSA kid", &signer.SigningKey{ID: "rsa", Ed25519: edKey.Ed25519}, signer.ErrAlgorithm},
		{"RS256 under the Ed25519 kid", &signer.SigningKey{ID: "ed", Key: rsaKey.Key}, signer.ErrAlgorithm},
	} {
		tok, err := tc.key.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(tok, "/v/x"); !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if j := edKey.Public().JWK(); j.KeyType != "OKP" || j.Curve != "Ed25519" || j.Algorithm != "EdDSA" || j.X == "" {
		t.Errorf("Ed25519 JWK: %+v", j)
	}
}
