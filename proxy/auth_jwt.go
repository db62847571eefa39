package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"

	"github.com/signgate/signgate/config"
)

// JWTAuth accepts a session JWT from Authorization: Bearer or a named
// cookie. The algorithms are pinned by configuration and the key, never by
// the token: "none" and HS/RS confusion are refused. exp is required; iss
// and aud are checked when configured.
//
// Verified tokens are remembered (bounded LRU, keyed by the token) until
// the earliest of their exp and one minute after the check, so a session
// costs one signature check per minute, not one per request; the minute
// bounds how long a key removed from a JWKS stays honoured.
type JWTAuth struct {
	cookie       string
	subjectClaim string
	parser       *jwt.Parser
	keyfunc      func(ctx context.Context) jwt.Keyfunc
	now          func() time.Time
	verified     *lru.Cache[string, verifiedSession]
	jwks         *jwksHealth // nil without a JWKS URL
}

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

// jwksWaitMax bounds what a request spends on a token with an unknown
// kid: waiting for the refresh rate limit and fetching the JWKS.
const jwksWaitMax = time.Second

var _ Authenticator = (*JWTAuth)(nil)

// newJWTAuth builds the JWT authenticator from cfg. A JWKS URL is fetched
// once now (an unreachable JWKS fails start-up), then refreshed every
// cfg.JWKSRefresh and, at most once per cfg.JWKSUnknownKIDRate, when a
// token names an unknown kid. ctx ends the refresh goroutine.
func newJWTAuth(ctx context.Context, cfg config.Gateway, log *slog.Logger, now func() time.Time) (*JWTAuth, error) {
	verified, err := lru.New[string, verifiedSession](sessionMemorySize)
	if err != nil {
		return nil, err
	}
	a := &JWTAuth{cookie: cfg.JWTCookie, subjectClaim: cfg.JWTSubjectClaim, now: now, verified: verified}
	algs := cfg.JWTAlgorithms
	switch {
	case cfg.JWTSecret.Reveal() != "":
		key := []byte(cfg.JWTSecret.Reveal())
		kf := func(*jwt.Token) (any, error) { return key, nil }
		a.keyfunc = func(context.Context) jwt.Keyfunc { return kf }
		if len(algs) == 0 {
			algs = []string{"HS256"}
		}
	case cfg.JWTPublicKeyFile != "":
		pemBytes, err := os.ReadFile(cfg.JWTPublicKeyFile)
		if err != nil {
			return nil, fmt.Errorf("%sJWT_PUBLIC_KEY_FILE: %w", config.Prefix, err)
		}
		key, defAlg, err := parseVerifyKey(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("%sJWT_PUBLIC_KEY_FILE %s: %w", config.Prefix, cfg.JWTPublicKeyFile, err)
		}
		if len(algs) == 0 {
			algs = []string{defAlg}
		}
		for _, alg := range algs {
			if !algFits(alg, key) {
				return nil, fmt.Errorf("%sJWT_ALGORITHMS: %s does not fit the key in %sJWT_PUBLIC_KEY_FILE", config.Prefix, alg, config.Prefix)
			}
		}
		kf := func(*jwt.Token) (any, error) { return key, nil }
		a.keyfunc = func(context.Context) jwt.Keyfunc { return kf }
	case cfg.JWTJWKSURL != "":
		noErrorFirst := false
		a.jwks = &jwksHealth{next: http.DefaultTransport}
		k, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWTJWKSURL}, keyfunc.Override{
			Client:                    &http.Client{Timeout: 10 * time.Second, Transport: a.jwks},
			HTTPTimeout:               10 * time.Second,
			NoErrorReturnFirstHTTPReq: &noErrorFirst,
			RefreshInterval:           cfg.JWKSRefresh,
			RefreshUnknownKID:         rate.NewLimiter(rate.Every(cfg.JWKSUnknownKIDRate), 1),
			// On an unknown kid, jwkset waits for the rate limiter and then
			// fetches, both under one deadline of RateLimitWaitMax (0 would
			// mean its default, a minute). The limiter refuses at once when
			// the next refresh is allowed later than the deadline, so a
			// request waits at most jwksWaitMax in all; past it, the kid is
			// unknown.
			RateLimitWaitMax: jwksWaitMax,
			RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
				return func(ctx context.Context, err error) {
					log.WarnContext(ctx, "JWKS refresh failed; keeping the keys already fetched", "url", u, "err", err.Error())
				}
			},
		})
		if err != nil {
			return nil, fmt.Errorf("%sJWT_JWKS_URL: %w", config.Prefix, err)
		}
		a.keyfunc = k.KeyfuncCtx
		if len(algs) == 0 {
			algs = []string{"RS256"}
		}
	default:
		return nil, fmt.Errorf("%sJWT_SECRET: the jwt authenticator has no key", config.Prefix)
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(algs),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.JWTLeeway),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(now),
	}
	if cfg.JWTIssuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.JWTIssuer))
	}
	if cfg.JWTAudience != "" {
		opts = append(opts, jwt.WithAudience(cfg.JWTAudience))
	}
	a.parser = jwt.NewParser(opts...)
	return a, nil
}

// Authenticate implements Authenticator.
func (a *JWTAuth) Authenticate(r *http.Request) (Principal, error) {
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
		if errors.Is(err, jwt.ErrTokenUnverifiable) && a.jwks != nil && a.jwks.down.Load() {
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

// jwksHealth watches the JWKS fetches, periodic and on an unknown kid:
// down from a fetch that fails until one succeeds.
type jwksHealth struct {
	next http.RoundTripper
	down atomic.Bool
}

func (h *jwksHealth) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.next.RoundTrip(r)
	h.down.Store(err != nil || resp.StatusCode != http.StatusOK)
	return resp, err
}

// token finds the session token: Authorization: Bearer first, then the
// cookie. It is never logged or put in an error.
func (a *JWTAuth) token(r *http.Request) (string, error) {
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

// parseVerifyKey reads a PEM public key (PKIX, PKCS#1 RSA or a
// certificate) and returns it with its default algorithm.
func parseVerifyKey(pemBytes []byte) (any, string, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, "", errors.New("no PEM block found")
	}
	var key any
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, "", fmt.Errorf("PKIX public key: %w", err)
		}
		key = k
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, "", fmt.Errorf("PKCS#1 public key: %w", err)
		}
		key = k
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, "", fmt.Errorf("certificate: %w", err)
		}
		key = c.PublicKey
	default:
		return nil, "", fmt.Errorf("PEM block %q: want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE", block.Type)
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, "", fmt.Errorf("RSA key of %d bits, at least 2048 required", k.N.BitLen())
		}
		return k, "RS256", nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return k, "ES256", nil
		case elliptic.P384():
			return k, "ES384", nil
		case elliptic.P521():
			return k, "ES512", nil
		}
		return nil, "", errors.New("unsupported ECDSA curve")
	case ed25519.PublicKey:
		return k, "EdDSA", nil
	}
	return nil, "", fmt.Errorf("unsupported public key type %T", key)
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
