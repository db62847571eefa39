package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"
)

// JWT accepts a session JWT from Authorization: Bearer or a named
// cookie. The algorithms are pinned by the options and the key, never by
// the token: "none" and HS/RS confusion are refused. exp is required; iss
// and aud are checked when set.
//
// Verified tokens are remembered (bounded LRU, keyed by the token) until
// the earliest of their exp and one minute after the check, so a session
// costs one signature check per minute, not one per request; the minute
// bounds how long a key removed from a JWKS stays honoured.
type JWT struct {
	cookie       string
	subjectClaim string
	parser       *jwt.Parser
	keyfunc      func(ctx context.Context) jwt.Keyfunc
	now          func() time.Time
	verified     *lru.Cache[string, verifiedSession]
	jwks         *JWKS // nil without a JWKS
}

// JWTOptions configure NewJWT. The zero value checks exp, iat and nbf
// without leeway, takes the subject from "sub" and reads Authorization:
// Bearer only.
type JWTOptions struct {
	// Algorithms pins the accepted algorithms; each must fit the key.
	// Default: HS256 for a secret, the key's own (RS256, ES256/384/512 by
	// curve, EdDSA) for a public key, RS256 for a JWKS.
	Algorithms []string
	// Issuer and Audience are checked when set.
	Issuer, Audience string
	// SubjectClaim names the claim holding the subject. Default: "sub".
	SubjectClaim string
	// Leeway is the clock skew tolerated on exp, nbf and iat.
	Leeway time.Duration
	// Cookie names the cookie holding the token, looked at after
	// Authorization: Bearer; empty reads no cookie.
	Cookie string
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// minSecretBytes is the shortest HMAC secret NewJWT takes.
const minSecretBytes = 32

// verifiedSession is a remembered verification.
type verifiedSession struct {
	p     Principal
	until int64 // Unix seconds
}

// Bounds of the verified-session memory.
const (
	sessionMemory     = time.Minute
	sessionMemorySize = 10_000
)

var _ Authenticator = (*JWT)(nil)

// NewJWT returns a JWT authenticator that checks tokens with key: an
// HMAC secret ([]byte, at least 32 bytes), a public key (*rsa.PublicKey
// of 2048 bits or more, *ecdsa.PublicKey on P-256, P-384 or P-521,
// ed25519.PublicKey; ParsePublicKey reads one from PEM), or a *JWKS
// (NewJWKS), which stays its caller's to close. It starts nothing.
func NewJWT(key any, o JWTOptions) (*JWT, error) {
	verified, err := lru.New[string, verifiedSession](sessionMemorySize)
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SubjectClaim == "" {
		o.SubjectClaim = "sub"
	}
	a := &JWT{cookie: o.Cookie, subjectClaim: o.SubjectClaim, now: o.Now, verified: verified}
	algs := o.Algorithms
	switch k := key.(type) {
	case []byte:
		if len(k) < minSecretBytes {
			return nil, fmt.Errorf("an HMAC secret of %d bytes, at least %d required", len(k), minSecretBytes)
		}
		secret := append([]byte(nil), k...)
		kf := func(*jwt.Token) (any, error) { return secret, nil }
		a.keyfunc = func(context.Context) jwt.Keyfunc { return kf }
		if len(algs) == 0 {
			algs = []string{"HS256"}
		}
		for _, alg := range algs {
			if !strings.HasPrefix(alg, "HS") {
				return nil, fmt.Errorf("algorithm %s does not fit an HMAC secret", alg)
			}
		}
	case *JWKS:
		if k == nil {
			return nil, errors.New("the jwt authenticator has no key")
		}
		a.jwks = k
		a.keyfunc = k.keyfunc.KeyfuncCtx
		if len(algs) == 0 {
			algs = []string{"RS256"}
		}
	case nil:
		return nil, errors.New("the jwt authenticator has no key")
	default:
		defAlg, err := keyAlg(key)
		if err != nil {
			return nil, err
		}
		if len(algs) == 0 {
			algs = []string{defAlg}
		}
		for _, alg := range algs {
			if !algFits(alg, key) {
				return nil, fmt.Errorf("algorithm %s does not fit the key", alg)
			}
		}
		kf := func(*jwt.Token) (any, error) { return key, nil }
		a.keyfunc = func(context.Context) jwt.Keyfunc { return kf }
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(algs),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(o.Leeway),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(o.Now),
	}
	if o.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(o.Issuer))
	}
	if o.Audience != "" {
		opts = append(opts, jwt.WithAudience(o.Audience))
	}
	a.parser = jwt.NewParser(opts...)
	return a, nil
}

// Close forgets the verified sessions. A JWKS the authenticator was given
// stays open: it is its owner's. Authenticate still works after Close.
func (a *JWT) Close() error {
	a.verified.Purge()
	return nil
}

// Authenticate implements Authenticator.
func (a *JWT) Authenticate(r *http.Request) (Principal, error) {
	tok, err := a.token(r)
	if err != nil {
		return Principal{}, err
	}
	now := a.now()
	if v, ok := a.verified.Get(tok); ok && now.Unix() < v.until {
		return v.p, nil
	}
	claims := jwt.MapClaims{}
	if _, err := a.parser.ParseWithClaims(tok, claims, a.keyfunc(r.Context())); err != nil {
		// No key for the token while the JWKS cannot be fetched: the
		// session may be good, so fail closed with 503 rather than send
		// a browser to log in again, which would give it another token
		// that cannot be checked either.
		if errors.Is(err, jwt.ErrTokenUnverifiable) && a.jwks != nil && a.jwks.health.down.Load() {
			return Principal{}, fmt.Errorf("%w: the JWKS cannot be fetched and holds no key for the session token", ErrAuthBackend)
		}
		return Principal{}, fmt.Errorf("%w: session token: %w", ErrUnauthenticated, jwtReason(err))
	}
	sub, _ := claims[a.subjectClaim].(string)
	if sub == "" {
		return Principal{}, fmt.Errorf("%w: session token has no %q claim", ErrUnauthenticated, a.subjectClaim)
	}
	p := Principal{Subject: sub, Claims: claims}
	until := now.Add(sessionMemory).Unix()
	if exp, err := claims.GetExpirationTime(); err == nil && exp != nil && exp.Unix() < until {
		until = exp.Unix() // exp is required, so this always bounds it
	}
	a.verified.Add(tok, verifiedSession{p: p, until: until})
	return p, nil
}

// token finds the session token: Authorization: Bearer first, then the
// cookie. It is never logged or put in an error.
func (a *JWT) token(r *http.Request) (string, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			tok = strings.TrimSpace(tok)
			if len(tok) > maxCredentialBytes {
				return "", fmt.Errorf("%w: bearer token of %d bytes is too large", ErrUnauthenticated, len(tok))
			}
			if tok == "" {
				return "", fmt.Errorf("%w: empty bearer token", ErrUnauthenticated)
			}
			return tok, nil
		}
	}
	if a.cookie != "" {
		if c, err := r.Cookie(a.cookie); err == nil && c.Value != "" {
			if len(c.Value) > maxCredentialBytes {
				return "", fmt.Errorf("%w: session cookie of %d bytes is too large", ErrUnauthenticated, len(c.Value))
			}
			return c.Value, nil
		}
	}
	return "", fmt.Errorf("%w: no bearer token or session cookie", ErrNoCredentials)
}

// jwtReason keeps golang-jwt's classification and drops anything that
// could quote the token.
func jwtReason(err error) error {
	for _, e := range []error{
		jwt.ErrTokenExpired, jwt.ErrTokenNotValidYet, jwt.ErrTokenUsedBeforeIssued,
		jwt.ErrTokenInvalidIssuer, jwt.ErrTokenInvalidAudience, jwt.ErrTokenRequiredClaimMissing,
		jwt.ErrTokenSignatureInvalid, jwt.ErrTokenUnverifiable, jwt.ErrTokenMalformed,
	} {
		if errors.Is(err, e) {
			if e == jwt.ErrTokenUnverifiable || e == jwt.ErrTokenSignatureInvalid {
				return fmt.Errorf("%w (%s)", e, strings.TrimPrefix(err.Error(), e.Error()+": "))
			}
			return e
		}
	}
	return jwt.ErrTokenInvalidClaims
}

// ParsePublicKey reads a PEM public key (PKIX, PKCS#1 RSA or a
// certificate's) of a kind NewJWT takes.
func ParsePublicKey(pemBytes []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var key any
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PKIX public key: %w", err)
		}
		key = k
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PKCS#1 public key: %w", err)
		}
		key = k
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
		key = c.PublicKey
	default:
		return nil, fmt.Errorf("PEM block %q: want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", block.Type)
	}
	if _, err := keyAlg(key); err != nil {
		return nil, err
	}
	return key, nil
}

// keyAlg checks that NewJWT takes public key key, and returns its
// default algorithm.
func keyAlg(key any) (string, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "", fmt.Errorf("RSA key of %d bits, at least 2048 required", k.N.BitLen())
		}
		return "RS256", nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "ES256", nil
		case elliptic.P384():
			return "ES384", nil
		case elliptic.P521():
			return "ES512", nil
		}
		return "", errors.New("unsupported ECDSA curve")
	case ed25519.PublicKey:
		return "EdDSA", nil
	}
	return "", fmt.Errorf("unsupported public key type %T", key)
}

// algFits reports whether alg can be checked with key.
func algFits(alg string, key any) bool {
	switch key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		return strings.HasPrefix(alg, "ES")
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}
