package signer

import (
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// DefaultCacheSize is the default number of tokens a Cache holds.
const DefaultCacheSize = 100_000

// Lifetime says how long minted tokens live and how long a URL handed out
// must stay valid at least.
type Lifetime struct {
	// TTL is a token's lifetime, from the start of its time step.
	TTL time.Duration
	// MinValidity is the least validity left on any token handed out.
	// Zero means TTL/2, rounded down to whole seconds.
	MinValidity time.Duration
}

// Validate checks that both durations are whole seconds, and that
// 0 < MinValidity < TTL once the default is applied; so the TTL is at
// least 2s (a TTL of 1s leaves no whole second of validity to promise).
func (l Lifetime) Validate() error {
	minv := l.minValidity()
	switch {
	case l.TTL < 2*time.Second || l.TTL%time.Second != 0:
		return fmt.Errorf("token TTL %s: must be a whole number of seconds, at least 2s (a URL handed out keeps at least 1s of validity)", l.TTL)
	case minv < 0 || minv%time.Second != 0:
		return fmt.Errorf("minimum validity %s: must be a whole number of seconds", minv)
	case minv == 0:
		return fmt.Errorf("minimum validity %s: must be at least 1s", minv)
	case minv >= l.TTL:
		return fmt.Errorf("minimum validity %s: must be less than the TTL %s", minv, l.TTL)
	}
	return nil
}

func (l Lifetime) minValidity() time.Duration {
	if l.MinValidity == 0 {
		return (l.TTL / 2).Truncate(time.Second)
	}
	return l.MinValidity
}

// Step is the time step exp is aligned to: TTL - MinValidity. Every token
// minted within one step, by any process, carries the same exp, so the same
// scope gives byte-identical tokens; and a token minted at the start of a
// step keeps at least MinValidity until the step ends.
func (l Lifetime) Step() time.Duration { return l.TTL - l.minValidity() }

// Expiry returns the exp of a token minted at now, and the instant from
// which it no longer has MinValidity left and must be replaced. l should
// be valid (Validate); an invalid one gives a step of 1s, not a panic.
func (l Lifetime) Expiry(now time.Time) (exp, refresh time.Time) {
	step := max(int64(l.Step()/time.Second), 1)
	start := now.Unix() / step * step
	return time.Unix(start+int64(l.TTL/time.Second), 0), time.Unix(start+step, 0)
}

// Cache holds minted tokens per (namespace, key, scope), so that a hot scope
// costs a map lookup rather than an RSA signature. Entries are replaced once
// less than their Lifetime's MinValidity is left; concurrent misses on one
// scope sign once; the cache is bounded by entries. Safe for concurrent use.
//
// Refresh ahead: a scope asked for within the last stretch of its entry's
// step (Lifetime.ahead) has the next step's token minted in the
// background, once per entry (singleflight), while the entry in force is
// still handed out; from the step's end the next token is handed out
// without a signature. So no request of a hot scope waits for one. The
// next token is the one any process minting in the next step makes (exp
// aligned), so URLs stay byte-identical across replicas, and it is handed
// out only from the start of its own step, so the minimum validity holds.
//
// A miss shares k's flight with refresh ahead, so that the first requests
// of a step wait for the signature minted ahead rather than make another;
// but a miss hands out a refresh ahead's token only when the token is of
// the miss's own step, and never its failure (no request asked for that
// signature): otherwise the miss signs for its own step. What any call
// hands out, hit or miss, is valid for at least MinValidity past the
// call's clock reading, and of a step that reading, or that of the call
// which put the token in the cache, has reached.
type Cache struct {
	entries *index
	group   singleflight.Group
	now     func() time.Time

	hits, misses, signatures, ahead atomic.Uint64
}

// ahead is the last stretch of a step in which a hit mints the next
// step's token in the background: an eighth of the step, at least 1s and
// at most 5 minutes.
func (l Lifetime) ahead() int64 {
	return min(max(int64(l.Step()/time.Second)/8, 1), 300)
}

// aheadFrom is the instant from which a hit on k, whose entry is to be
// replaced at refresh (Unix seconds), mints the next token ahead: a point
// in the first half of the ahead stretch, spread over it by k's hash.
// Every scope's step ends at the same instant (exp is aligned), so
// without the spread every hot scope would sign in the stretch's first
// instant, a burst of signatures that the requests sharing the cores
// wait behind (bench/run's ahead case: the p99 of the refreshing second
// doubled with 8 hot scopes on one core). The second half is left for
// the signature to finish before refresh.
func (c *Cache) aheadFrom(k cacheKey, refresh int64, l Lifetime) time.Time {
	a := time.Duration(l.ahead()) * time.Second
	return time.Unix(refresh, 0).Add(-a + time.Duration(c.entries.hash(k)%uint64(a/2)))
}

// cacheKey identifies a scope. The signer pointer (a *SigningKey or a
// Signer) changes when a key file is reloaded, so tokens of a replaced
// key are never handed out again.
type cacheKey struct {
	ns     string
	signer any
	uri    string
	prefix bool
}

// cacheEntry is an entry as the cache's logic sees it: the token, two
// integers, and the next step's entry once refresh ahead has minted it.
// The index stores it flat (see index) and makes it anew on each read.
type cacheEntry struct {
	token   Token
	exp     int64 // Unix seconds
	refresh int64 // Unix seconds: hand it out only before this
	next    *cacheEntry
}

// NewCache returns a cache of at most size tokens (DefaultCacheSize when
// size is 0) reading the time from now (time.Now when nil).
func NewCache(size int, now func() time.Time) (*Cache, error) {
	if size == 0 {
		size = DefaultCacheSize
	}
	if size < 0 {
		return nil, fmt.Errorf("token cache size %d: must be positive", size)
	}
	if now == nil {
		now = time.Now
	}
	return &Cache{entries: newIndex(size), now: now}, nil
}

// Token returns a Qencode token granting uri, signed by key, with
// lifetime l: from the cache when one there has at least l.MinValidity
// left, else freshly minted. ns separates callers that share a cache
// (routes of a gateway). A Lifetime that Validate refuses is an error.
// It is Mint for the Qencode scheme, keyed on key.
func (c *Cache) Token(ns string, key *SigningKey, uri string, l Lifetime) (string, time.Time, error) {
	if key == nil {
		return "", time.Time{}, fmt.Errorf("signer: sign with a nil key")
	}
	tok, exp, err := c.get(ns, key, Grant{Path: uri, Prefix: true}, l, func(g Grant, exp time.Time, _ bool) (Token, error) {
		t, err := key.Sign(Claims{URI: g.Path, Expires: exp})
		return Token{Params: []Param{{Name: "auth", Value: t}}}, err
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return tok.Get("auth"), exp, nil
}

// Mint returns s's token for grant g with lifetime l: from the cache when
// one there has at least l.MinValidity left, else minted by s.Mint with
// the aligned exp (Lifetime.Expiry). Concurrent misses on one (ns, s, g)
// mint once. s must be a pointer type (see Signer).
func (c *Cache) Mint(ns string, s Signer, g Grant, l Lifetime) (Token, time.Time, error) {
	return c.MintWatched(ns, s, g, l, nil)
}

func (c *Cache) get(ns string, id any, g Grant, l Lifetime, mint mintFunc) (Token, time.Time, error) {
	if err := l.Validate(); err != nil {
		return Token{}, time.Time{}, err
	}
	k := cacheKey{ns: ns, signer: id, uri: g.Path, prefix: g.Prefix}
	t := c.now()
	now := t.Unix()
	e, ok := c.entries.Get(k)
	if ok && now >= e.refresh && e.next != nil && now < e.next.refresh {
		// The next step's token, minted ahead: in force from now on.
		e = *e.next
		c.entries.Add(k, e)
	}
	if ok && now < e.refresh {
		c.hits.Add(1)
		// The whole-second test first: aheadFrom hashes k, which only a
		// hit within the ahead stretch needs.
		if e.next == nil && now >= e.refresh-l.ahead() && !t.Before(c.aheadFrom(k, e.refresh, l)) {
			c.mintAhead(k, e, g, l, mint)
		}
		return e.token, time.Unix(e.exp, 0), nil
	}
	c.misses.Add(1)
	e, err := c.miss(k, g, l, mint, now)
	if err != nil {
		return Token{}, time.Time{}, err
	}
	return e.token, time.Unix(e.exp, 0), nil
}

// flightResult is what k's flight gives every call that joined it: an
// entry, and whether a refresh ahead ran the flight rather than a miss's
// fill. A refresh ahead's entry is the next step's (or, when the flight
// found the entry replaced, the one in the cache), and its error is that
// of a signature no request asked for.
type flightResult struct {
	entry cacheEntry
	ahead bool
}

// miss returns k's entry for a call at now that the cache did not serve,
// from k's flight: a miss's fill (this call's, or a concurrent miss's,
// whose entry or failure it shares), or a refresh ahead under way. A
// refresh ahead's entry is taken only when it is of now's step, and its
// failure is never the miss's; nor is a fill's entry that now has
// outlived (a miss whose clock read earlier). Then the miss asks k's
// flight again, so that the misses which joined one flight still sign
// once, and past a second flight that could not serve it either, it
// fills alone: it never returns another flight's error or an entry
// without MinValidity left at now.
func (c *Cache) miss(k cacheKey, g Grant, l Lifetime, mint mintFunc, now int64) (cacheEntry, error) {
	_, want := l.Expiry(time.Unix(now, 0))
	fill := func() (any, error) {
		e, err := c.fill(k, g, l, mint, now)
		return flightResult{entry: e}, err
	}
	for range 2 {
		v, err, _ := c.group.Do(flight(k), fill)
		switch r, _ := v.(flightResult); {
		case r.ahead:
			if err == nil && r.entry.refresh == want.Unix() {
				return r.entry, nil
			}
		case err != nil:
			return cacheEntry{}, err
		case now < r.entry.refresh:
			return r.entry, nil
		}
	}
	return c.fill(k, g, l, mint, now)
}

// fill returns k's entry for the step of now: the one in the cache, the
// next one minted ahead, or a fresh one. Called in k's flight.
func (c *Cache) fill(k cacheKey, g Grant, l Lifetime, mint mintFunc, now int64) (cacheEntry, error) {
	if e, ok := c.entries.Peek(k); ok {
		if now < e.refresh {
			return e, nil // filled by another flight since our Get
		}
		if e.next != nil && now < e.next.refresh {
			e = *e.next
			c.entries.Add(k, e)
			return e, nil
		}
	}
	exp, refresh := l.Expiry(time.Unix(now, 0))
	tok, err := mint(g, exp, false)
	if err != nil {
		return cacheEntry{}, err
	}
	e := cacheEntry{token: tok, exp: exp.Unix(), refresh: refresh.Unix()}
	c.entries.Add(k, e)
	c.signatures.Add(1) // counted once in the cache, so Stats never runs ahead of it
	return e, nil
}

// mintFunc signs g until exp; ahead says it is a refresh ahead, in the
// background, which no request waits for.
type mintFunc func(g Grant, exp time.Time, ahead bool) (Token, error)

// flight names k's singleflight, shared by misses and refresh ahead. It
// is per signer pointer, like the entry: a reloaded key with the same kid
// never shares a flight (or a token) with the old one.
func flight(k cacheKey) string {
	p := byte('f')
	if k.prefix {
		p = 'p'
	}
	return fmt.Sprintf("%p\x00%s\x00%c%s", k.signer, k.ns, p, k.uri)
}

// mintAhead mints, in the background and once for all callers (k's
// flight), the token of the step after entry e's, and keeps it on e's
// entry as its next. A failure is dropped: the first request of the next
// step then mints, as without refresh ahead, and so does a miss that
// joined the flight (see miss).
func (c *Cache) mintAhead(k cacheKey, e cacheEntry, g Grant, l Lifetime, mint mintFunc) {
	c.group.DoChan(flight(k), func() (any, error) {
		cur, ok := c.entries.Peek(k)
		switch {
		case !ok || cur.refresh != e.refresh:
			// Replaced meanwhile (a miss, a purge): nothing to add to.
			return flightResult{entry: cur, ahead: true}, nil
		case cur.next != nil:
			return flightResult{entry: *cur.next, ahead: true}, nil
		}
		exp, refresh := l.Expiry(time.Unix(e.refresh, 0))
		tok, err := mint(g, exp, true)
		if err != nil {
			return flightResult{ahead: true}, err
		}
		next := &cacheEntry{token: tok, exp: exp.Unix(), refresh: refresh.Unix()}
		cur.next = next
		c.entries.Add(k, cur)
		// Counted once on the entry: a caller that sees Ahead grow finds
		// the token there (the test waits on this).
		c.signatures.Add(1)
		c.ahead.Add(1)
		return flightResult{entry: *next, ahead: true}, nil
	})
}

// CacheStats are a Cache's counters since it was made.
type CacheStats struct {
	// Signatures counts every token minted; Ahead those of them minted
	// ahead of their step (refresh ahead), which no request waited for.
	Hits, Misses, Signatures, Ahead uint64
	Entries                         int
}

// Stats returns the cache's counters. A signature is counted once its
// token is in the cache, so a caller that sees a count grow finds it there.
func (c *Cache) Stats() CacheStats {
	return CacheStats{
		Hits:       c.hits.Load(),
		Misses:     c.misses.Load(),
		Signatures: c.signatures.Load(),
		Ahead:      c.ahead.Load(),
		Entries:    c.entries.Len(),
	}
}

// Purge drops every entry.
func (c *Cache) Purge() { c.entries.Purge() }
