package signer

import (
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Sign mints a token for c: a JWT with header {alg: RS256, kid, typ: JWT},
// signed with RS256, or with EdDSA for an Ed25519 key. Both RS256
// (RSASSA-PKCS1-v1_5) and Ed25519 are deterministic, and header and
// payload keys are written sorted, so the same key and claims always give
// the same bytes.
func (k *SigningKey) Sign(c Claims) (string, error) {
	if k == nil || k.Key == nil && k.Ed25519 == nil {
		return "", errors.New("signer: sign with a nil key")
	}
	if k.ID == "" {
		return "", errors.New("signer: signing key has no id (kid)")
	}
	var m jwt.SigningMethod = jwt.SigningMethodRS256
	var key any = k.Key
	if k.Ed25519 != nil {
		m, key = jwt.SigningMethodEdDSA, k.Ed25519
	}
	t := jwt.NewWithClaims(m, mintClaims{c})
	t.Header["kid"] = k.ID
	s, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("signer: sign with key %q: %w", k.ID, err)
	}
	return s, nil
}

// mintClaims adapts Claims to jwt.Claims. Times are checked by Verifier
// itself (with its clock, leeway and the milliseconds rule), so the getters
// report nothing and golang-jwt's own validation is switched off.
type mintClaims struct{ Claims }

func (c mintClaims) MarshalJSON() ([]byte, error)               { return c.Claims.MarshalJSON() }
func (mintClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (mintClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (mintClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (mintClaims) GetIssuer() (string, error)                   { return "", nil }
func (mintClaims) GetSubject() (string, error)                  { return "", nil }
func (mintClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }
