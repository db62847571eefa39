package signer

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
)

// JWK is the public half of a signing key as an RFC 7517 JSON Web Key.
type JWK struct {
	KeyType   string `json:"kty"`
	KeyID     string `json:"kid"`
	Use       string `json:"use"`
	Algorithm string `json:"alg"`
	N         string `json:"n,omitempty"`
	E         string `json:"e,omitempty"`
	// Curve and X are an Ed25519 key's (kty OKP, crv Ed25519).
	Curve string `json:"crv,omitempty"`
	X     string `json:"x,omitempty"`
}

// JWKSet is an RFC 7517 JWK Set.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// JWK returns k as a JSON Web Key: kty RSA, use sig, alg RS256; or, for
// an Ed25519 key, kty OKP, crv Ed25519, alg EdDSA.
func (k PublicKey) JWK() JWK {
	if k.Ed25519 != nil {
		return JWK{KeyType: "OKP", KeyID: k.ID, Use: "sig", Algorithm: "EdDSA", Curve: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.Ed25519)}
	}
	return JWK{
		KeyType:   "RSA",
		KeyID:     k.ID,
		Use:       "sig",
		Algorithm: "RS256",
		N:         base64.RawURLEncoding.EncodeToString(k.Key.N.Bytes()),
		E:         base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.Key.E)).Bytes()),
	}
}

// NewJWKSet returns the JWK Set of keys, in the order given.
func NewJWKSet(keys ...PublicKey) JWKSet {
	set := JWKSet{Keys: make([]JWK, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.JWK())
	}
	return set
}

// ParseJWKSet reads a JWK Set and returns its RSA signature keys, indexed
// by kid. Keys of other types, or for encryption, are skipped; a set with
// no usable key, or an RSA key that is malformed or too small, is an error
// wrapping ErrKey.
func ParseJWKSet(data []byte) (Keys, error) {
	var set JWKSet
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("%w: JWKS is not valid JSON: %w", ErrKey, err)
	}
	keys := make(Keys, len(set.Keys))
	for i, j := range set.Keys {
		if j.KeyType != "RSA" || (j.Use != "" && j.Use != "sig") || (j.Algorithm != "" && j.Algorithm != "RS256") {
			continue
		}
		pub, err := j.publicKey()
		if err != nil {
			return nil, fmt.Errorf("%w: JWKS key %d (kid %q): %w", ErrKey, i, truncate(j.KeyID), err)
		}
		if j.KeyID == "" {
			return nil, fmt.Errorf("%w: JWKS key %d has no kid", ErrKey, i)
		}
		keys[j.KeyID] = PublicKey{ID: j.KeyID, Key: pub}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: JWKS holds no RSA signing key", ErrKey)
	}
	return keys, nil
}

func (j JWK) publicKey() (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(j.N)
	if err != nil || len(n) == 0 {
		return nil, fmt.Errorf("bad modulus n")
	}
	e, err := base64.RawURLEncoding.DecodeString(j.E)
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, fmt.Errorf("bad exponent e")
	}
	exp := new(big.Int).SetBytes(e).Int64()
	if exp < 3 || exp%2 == 0 {
		return nil, fmt.Errorf("bad exponent e")
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp)}
	if err := checkSize(pub); err != nil {
		return nil, err
	}
	return pub, nil
}
