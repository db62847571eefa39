package edge

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/signgate/signgate/signer"
)

// CookieName is the cookie a token may ride in, as Qencode's signed
// cookies do.
const CookieName = "Qencode-Auth-Token"

// tokenCache remembers verified tokens, keyed by the SHA-256 of the token
// (32 bytes, whatever the token's size), so that a hot token costs a hash
// and a map lookup rather than an RSA verification. Failures are never
// cached. Bounded by entries; safe for concurrent use.
type tokenCache struct {
	lru          *lru.Cache[[32]byte, verified]
	hits, misses atomic.Uint64
}

// verified is what a cache hit still needs to check: that the key is the
// one in force for the bucket or stream, the times, and the scope.
type verified struct {
	key   signer.PublicKey // the key that verified the token
	kid   string
	space *bucket // the bucket or stream it was verified for
	uri   string
	exp   time.Time
	nbf   time.Time
}

func newTokenCache(size int) (*tokenCache, error) {
	l, err := lru.New[[32]byte, verified](size)
	if err != nil {
		return nil, fmt.Errorf("verified-token cache: %w", err)
	}
	return &tokenCache{lru: l}, nil
}

func (c *tokenCache) purge() { c.lru.Purge() }

func (c *tokenCache) stats() CacheStats {
	return CacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Entries: c.lru.Len()}
}

// check verifies token for bucket or stream b and canonical path p
// against snapshot s: from the cache when the token was verified before
// for b with a key still in force for b, else with a full verification
// whose success is cached. Errors wrap signer's sentinels.
func (e *Edge) check(s *snapshot, b *bucket, token, p string) error {
	if len(token) > signer.MaxTokenSize {
		return fmt.Errorf("%w: %d bytes", signer.ErrTooLarge, len(token))
	}
	h := tokenHash(token)
	c := e.tokens
	keys := b.keysOf(s)
	if v, ok := c.lru.Get(h); ok && v.space == b && v.key.Alg() != "" && keys[v.kid].Same(v.key) {
		c.hits.Add(1)
		if err := b.verifier.CheckTime(signer.Claims{Expires: v.exp, NotBefore: v.nbf}); err != nil {
			return err
		}
		return scope(v.uri, p)
	}
	c.misses.Add(1)
	rec := keyRecorder{keys: keys}
	vf := b.verifier
	vf.Keys = &rec
	claims, err := vf.Parse(token)
	if err != nil {
		return err
	}
	c.lru.Add(h, verified{
		key: rec.used, kid: rec.used.ID, space: b,
		uri: claims.URI, exp: claims.Expires, nbf: claims.NotBefore,
	})
	return scope(claims.URI, p)
}

// tokenHash is the SHA-256 of token, the cache's key. A token of the
// usual size (an RS256 JWT is about 600 bytes) is hashed from a copy on
// the stack: []byte(token) would put one on the heap for every request.
func tokenHash(token string) [32]byte {
	var buf [1 << 10]byte
	if len(token) <= len(buf) {
		return sha256.Sum256(buf[:copy(buf[:], token)])
	}
	return sha256.Sum256([]byte(token))
}

func scope(uri, p string) error {
	if !signer.Covers(uri, p) {
		return fmt.Errorf("%w: the token does not grant this path", signer.ErrScope)
	}
	return nil
}

// maxCookieTokens bounds the distinct Qencode-Auth-Token cookies a request
// may carry: each costs a verification.
const maxCookieTokens = 4

// tokensFrom returns the request's candidate tokens: the auth query
// parameter or, without one, the distinct Qencode-Auth-Token cookies, in
// the order the client sent them. A browser holding cookies for nested
// directories (/show and /show/ep1) sends both, the longest path first;
// each is a candidate. The auth parameter is read by
// signer.TokenFromQuery, as signgate verify reads it. It appends them to
// toks (empty), so that a caller's array holds the one token of the
// common case without an allocation.
func tokensFrom(r *http.Request, toks []string) ([]string, error) {
	tok, err := signer.TokenFromQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	if tok != "" {
		return append(toks, tok), nil
	}
	for _, c := range r.CookiesNamed(CookieName) {
		if c.Value == "" || slices.Contains(toks, c.Value) {
			continue
		}
		if len(toks) == maxCookieTokens {
			return nil, fmt.Errorf("%w: more than %d %s cookies", signer.ErrMalformed, maxCookieTokens, CookieName)
		}
		toks = append(toks, c.Value)
	}
	if len(toks) == 0 {
		return nil, signer.ErrMissing
	}
	return toks, nil
}

// checkAny accepts the request when any candidate token verifies for p;
// otherwise it reports the first candidate's failure, the most specific
// cookie's.
func (e *Edge) checkAny(s *snapshot, b *bucket, toks []string, p string) error {
	var first error
	for _, tok := range toks {
		err := e.check(s, b, tok, p)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}
