package signer_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/signgate/signgate/signer"
)

func TestJWKSRoundTrip(t *testing.T) {
	f := newFixture(t)
	data, err := json.Marshal(signer.NewJWKSet(f.key.Public()))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil || len(raw.Keys) != 1 {
		t.Fatalf("JWKS %s: %v", data, err)
	}
	j := raw.Keys[0]
	if j["kty"] != "RSA" || j["kid"] != "k1" || j["alg"] != "RS256" || j["use"] != "sig" || j["e"] != "AQAB" || len(j["n"]) != 342 {
		t.Errorf("JWK = %v", j)
	}
	keys, err := signer.ParseJWKSet(data)
	if err != nil {
		t.Fatal(err)
	}
	// A token verifies against the parsed set.
	v := signer.NewVerifier(keys)
	v.Now = f.v.Now
	if _, err := v.Verify(f.sign(t, signer.Claims{}), "/x"); err != nil {
		t.Fatalf("verify with parsed JWKS: %v", err)
	}
}

func TestParseJWKSetRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":     `{`,
		"no keys":      `{"keys":[]}`,
		"only EC":      `{"keys":[{"kty":"EC","kid":"a","crv":"P-256","x":"AA","y":"AA"}]}`,
		"bad n":        `{"keys":[{"kty":"RSA","kid":"a","n":"!!","e":"AQAB"}]}`,
		"small n":      `{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}`,
		"even e":       `{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"Ag"}]}`,
		"missing kid":  `{"keys":[{"kty":"RSA","n":"` + bigN + `","e":"AQAB"}]}`,
		"encrypt only": `{"keys":[{"kty":"RSA","kid":"a","use":"enc","n":"` + bigN + `","e":"AQAB"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := signer.ParseJWKSet([]byte(in)); !errors.Is(err, signer.ErrKey) {
				t.Fatalf("ParseJWKSet = %v, want ErrKey", err)
			}
		})
	}
}

// bigN is a 2048-bit modulus (all ones), enough for the size check.
const bigN = "________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________________w"
