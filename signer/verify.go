package signer

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// DefaultLeeway is the clock skew tolerated on exp and nbf.
	DefaultLeeway = 60 * time.Second
	// MaxTokenSize bounds the tokens Verify accepts, in bytes.
	MaxTokenSize = 8 << 10
)

// Verifier checks tokens against a key set. Build one with NewVerifier; its
// fields may be adjusted before first use. Safe for concurrent use.
//
// The zero Verifier is usable and refuses every token: with no Keys, Parse
// and Verify fail with ErrUnknownKey. A zero Leeway tolerates no clock skew
// (NewVerifier sets DefaultLeeway), a zero MaxSize means MaxTokenSize, and
// a nil Now means time.Now.
type Verifier struct {
	// Keys finds the verifying key for a token's kid.
	Keys KeySet
	// Bucket, when set, is the bucket every key must belong to.
	Bucket string
	// Leeway is the clock skew tolerated on exp and nbf.
	Leeway time.Duration
	// MaxSize bounds the token length in bytes.
	MaxSize int
	// Now is the clock.
	Now func() time.Time
}

// NewVerifier returns a Verifier over keys with the default leeway, size
// bound and the system clock.
func NewVerifier(keys KeySet) *Verifier {
	return &Verifier{Keys: keys, Leeway: DefaultLeeway, MaxSize: MaxTokenSize, Now: time.Now}
}

// Verify checks token for the canonical path p and returns its claims.
// It is Parse followed by the scope check. A p that is not canonical (see
// CanonicalPath; p is the decoded path) is refused with an error wrapping
// ErrPath.
func (v *Verifier) Verify(token, p string) (Claims, error) {
	c, err := v.Parse(token)
	if err != nil {
		return Claims{}, err
	}
	if err := checkPath(p); err != nil {
		return Claims{}, err
	}
	if !Covers(c.URI, p) {
		return Claims{}, tokenErr(ErrScope, "the token does not grant this path")
	}
	return c, nil
}

// Parse checks everything about token but its scope: size, form, key,
// algorithm, signature, bucket, exp and nbf. The form is checked strictly
// before golang-jwt sees the token: canonical unpadded base64url, JSON
// objects without repeated names, no crit header, and claims of the right
// type (see the token_malformed reason in the README). The algorithm comes from the
// key (RS256 for RSA, EdDSA for Ed25519), never from the token. Errors wrap the package's sentinels and
// never contain the token.
func (v *Verifier) Parse(token string) (Claims, error) {
	if token == "" {
		return Claims{}, ErrMissing
	}
	max := v.MaxSize
	if max <= 0 {
		max = MaxTokenSize
	}
	if len(token) > max {
		return Claims{}, tokenErr(ErrTooLarge, "%d bytes, at most %d", len(token), max)
	}
	if v.Keys == nil {
		return Claims{}, tokenErr(ErrUnknownKey, "the verifier has no keys")
	}
	if err := strictCheck(token); err != nil {
		return Claims{}, err
	}
	var key PublicKey
	var mc mintClaims
	_, err := jwt.NewParser(jwt.WithoutClaimsValidation(), jwt.WithStrictDecoding()).ParseWithClaims(token, &mc, func(t *jwt.Token) (any, error) {
		alg := t.Method.Alg()
		if alg != jwt.SigningMethodRS256.Alg() && alg != jwt.SigningMethodEdDSA.Alg() {
			return nil, tokenErr(ErrAlgorithm, "%q, keys here are RS256 or EdDSA", truncate(alg))
		}
		kid, ok := t.Header["kid"].(string)
		if !ok || kid == "" {
			return nil, tokenErr(ErrMalformed, "header has no kid")
		}
		k, ok := v.Keys.PublicKey(kid)
		if !ok || k.Alg() == "" {
			return nil, tokenErr(ErrUnknownKey, "kid %q", truncate(kid))
		}
		// The key pins the algorithm, never the token.
		if alg != k.Alg() {
			return nil, tokenErr(ErrAlgorithm, "%q, key %q is %s", truncate(alg), truncate(kid), k.Alg())
		}
		key = k
		if k.Ed25519 != nil {
			return k.Ed25519, nil
		}
		return k.Key, nil
	})
	if err != nil {
		return Claims{}, classify(err)
	}
	if v.Bucket != "" && key.Bucket != v.Bucket {
		return Claims{}, tokenErr(ErrWrongBucket, "kid %q", truncate(key.ID))
	}
	if err := v.CheckTime(mc.Claims); err != nil {
		return Claims{}, err
	}
	return mc.Claims, nil
}

// CheckTime checks exp and nbf of c against the clock, within the leeway.
// A cache of verified tokens calls it on every hit.
func (v *Verifier) CheckTime(c Claims) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	if !c.Expires.IsZero() && t.After(c.Expires.Add(v.Leeway)) {
		return tokenErr(ErrExpired, "at %s", c.Expires.UTC().Format(time.RFC3339))
	}
	if !c.NotBefore.IsZero() && t.Before(c.NotBefore.Add(-v.Leeway)) {
		return tokenErr(ErrNotYetValid, "until %s", c.NotBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// classify maps golang-jwt's errors onto this package's sentinels. Errors
// of our own, returned by the key function or the claims decoder, pass
// through without golang-jwt's wrapping text.
func classify(err error) error {
	var own *tokenError
	switch {
	case errors.As(err, &own):
		return own
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return ErrSignature
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// golang-jwt has no signing method for the alg header.
		return tokenErr(ErrAlgorithm, "unsupported alg")
	}
	return tokenErr(ErrMalformed, "not a well-formed JWT")
}

// tokenError is a verification failure: a sentinel kind and a detail that
// never holds the token.
type tokenError struct {
	kind   error
	detail string
}

func tokenErr(kind error, format string, args ...any) error {
	return &tokenError{kind: kind, detail: fmt.Sprintf(format, args...)}
}

func (e *tokenError) Error() string { return e.kind.Error() + ": " + e.detail }
func (e *tokenError) Unwrap() error { return e.kind }

// truncate bounds attacker-chosen text quoted in an error.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
