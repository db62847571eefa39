package signer

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// TestIndexMatchesGolangLRU runs random operations on the token cache's
// index and on golang-lru (the oracle: the LRU the cache used before,
// and the rest of signgate uses) side by side, over a small key space so
// that keys collide on namespace, signer, uri and prefix alike, and caches
// of a few entries so that evictions are frequent. Every read, the
// length, and which keys survive an eviction must agree, and every entry
// read back must be the one stored, tokens and next step included (deep
// equality: an empty Params read back as nil fails).
func TestIndexMatchesGolangLRU(t *testing.T) {
	signers := []any{new(SigningKey), new(SigningKey), new(QencodeSigner)}
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 16))
		size := 1 + r.IntN(8)
		x := newIndex(size)
		oracle, err := lru.New[cacheKey, cacheEntry](size)
		if err != nil {
			t.Fatal(err)
		}
		randKey := func() cacheKey {
			return cacheKey{
				ns:     []string{"media", "live", ""}[r.IntN(3)],
				signer: signers[r.IntN(len(signers))],
				uri:    []string{"/media/a", "/media/a/", "/media/ab", "/", strings.Repeat("/x", 200)}[r.IntN(5)],
				prefix: r.IntN(2) == 0,
			}
		}
		for op := range 400 {
			k := randKey()
			where := fmt.Sprintf("seed %d, op %d, size %d, key %+v", seed, op, size, k)
			switch r.IntN(10) {
			case 0, 1, 2, 3:
				e := randEntry(r)
				x.Add(k, e)
				oracle.Add(k, e)
			case 4, 5, 6:
				got, ok := x.Get(k)
				want, wok := oracle.Get(k)
				if ok != wok || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: Get = %+v, %v; golang-lru %+v, %v", where, got, ok, want, wok)
				}
			case 7, 8:
				got, ok := x.Peek(k)
				want, wok := oracle.Peek(k)
				if ok != wok || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s: Peek = %+v, %v; golang-lru %+v, %v", where, got, ok, want, wok)
				}
			default:
				if r.IntN(20) == 0 {
					x.Purge()
					oracle.Purge()
				}
			}
			if x.Len() != oracle.Len() {
				t.Fatalf("%s: Len = %d, golang-lru %d", where, x.Len(), oracle.Len())
			}
			checkOwners(t, where, x)
		}
		// The same keys survive, in the same order of recency.
		for _, k := range oracle.Keys() {
			if _, ok := x.Peek(k); !ok {
				t.Fatalf("seed %d: %+v is in golang-lru, not in the index", seed, k)
			}
		}
	}
}

// checkOwners: every owner held is held by as many entries as refer to
// it, and one no entry refers to is not held (its signer is let go).
func checkOwners(t *testing.T, where string, x *index) {
	t.Helper()
	refs := map[uint32]int{}
	for _, i := range x.byHash {
		refs[x.slots[i].owner]++
	}
	if len(x.owners.ids) != len(refs) {
		t.Fatalf("%s: %d owners held, %d referred to", where, len(x.owners.ids), len(refs))
	}
	for k, id := range x.owners.ids {
		if o := x.owners.all[id]; o.refs != refs[id] || o.ns != k.ns || o.signer != k.signer {
			t.Fatalf("%s: owner %d is %+v, held by %d entries", where, id, o, refs[id])
		}
	}
}

// randEntry is an entry with a random token (randToken), and a next
// step's entry half of the time.
func randEntry(r *rand.Rand) cacheEntry {
	e := cacheEntry{token: randToken(r), exp: r.Int64(), refresh: r.Int64()}
	if r.IntN(2) == 0 {
		e.next = &cacheEntry{token: randToken(r), exp: r.Int64(), refresh: r.Int64()}
	}
	return e
}

// randToken is a token of 0 to 3 parameters of names and values of any
// bytes, lengths up to 300 (varint lengths of one and two bytes); with
// none, its Params is nil or empty, each half of the time (a hit must
// give back the one minted).
func randToken(r *rand.Rand) Token {
	n := r.IntN(4)
	if n == 0 {
		if r.IntN(2) == 0 {
			return Token{}
		}
		return Token{Params: []Param{}}
	}
	t := Token{Params: make([]Param, n)}
	for i := range t.Params {
		t.Params[i] = Param{Name: randBytes(r, r.IntN(20)), Value: randBytes(r, r.IntN(300))}
	}
	return t
}

// TestCacheHitReturnsTheMintedToken: over random tokens (randToken), the
// hit after a miss, and the hit that hands out the next step's token
// minted ahead, return a Token deep-equal to the one the signer minted:
// the same parameters in order, and an empty Params as empty, a nil one
// as nil.
func TestCacheHitReturnsTheMintedToken(t *testing.T) {
	base, _ := ParseBase("https://cdn.example.com")
	q := NewQencodeSigner(cacheTestKey(t, "rsa2048.pem"), base)
	l := Lifetime{TTL: 10 * time.Minute, MinValidity: 2 * time.Minute} // step 8m, ahead 60s
	r := rand.New(rand.NewPCG(17, 3))
	for i := range 300 {
		clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
		s := &tokenSigner{QencodeSigner: q, toks: []Token{randToken(r), randToken(r)}}
		c, err := NewCache(4, clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		g := Grant{Path: "/v/" + strconv.Itoa(i), Prefix: r.IntN(2) == 0}
		_, refresh := l.Expiry(clock.Now())
		for _, call := range []struct {
			what string
			at   time.Time
			want Token
		}{
			{"the miss", clock.Now(), s.toks[0]},
			{"the hit", clock.Now(), s.toks[0]},
			{"the hit that mints ahead", refresh.Add(-time.Second), s.toks[0]},
			{"the hit on the token minted ahead", refresh, s.toks[1]},
		} {
			clock.Set(call.at)
			got, _, err := c.Mint("r", s, g, l)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, call.want) {
				t.Fatalf("token %d, %s: %#v, minted %#v", i, call.what, got, call.want)
			}
			if call.what == "the hit that mints ahead" {
				waitAhead(t, c, 1)
			}
		}
		if st := c.Stats(); st.Misses != 1 || st.Signatures != 2 {
			t.Fatalf("token %d: stats %+v, want one miss and one refresh ahead", i, st)
		}
	}
}

// tokenSigner mints toks[0], then toks[1], and so on, whatever the grant.
type tokenSigner struct {
	*QencodeSigner
	toks  []Token
	mints atomic.Int64
}

func (s *tokenSigner) Mint(Grant, time.Time) (Token, error) {
	return s.toks[s.mints.Add(1)-1], nil
}

func randBytes(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return string(b)
}

// TestIndexHashCollision: two scopes whose hashes collide share a slot,
// and neither is ever read as the other. A collision of the 64-bit
// seeded hash cannot be found by search, so the test makes one by
// pointing the second key's hash at the first key's slot.
func TestIndexHashCollision(t *testing.T) {
	x := newIndex(4)
	a := cacheKey{ns: "media", signer: new(SigningKey), uri: "/media/a", prefix: true}
	b := a
	b.uri = "/media/b"
	ea := cacheEntry{token: Token{Params: []Param{{Name: "auth", Value: "token-of-a"}}}, exp: 1, refresh: 1}
	x.Add(a, ea)
	delete(x.byHash, x.hash(a))
	x.slots[0].hash = x.hash(b)
	x.byHash[x.hash(b)] = 0 // b's hash now leads to a's slot
	if e, ok := x.Get(b); ok {
		t.Fatalf("b read a's entry through a collision: %+v", e)
	}
	eb := cacheEntry{token: Token{Params: []Param{{Name: "auth", Value: "token-of-b"}}}, exp: 2, refresh: 2}
	x.Add(b, eb)
	if e, ok := x.Get(b); !ok || e.token.Get("auth") != "token-of-b" {
		t.Fatalf("Get(b) = %+v, %v after Add(b)", e, ok)
	}
	if e, ok := x.Get(a); ok {
		t.Fatalf("a still read after b took the colliding slot: %+v", e)
	}
	if x.Len() != 1 || len(x.slots) != 1 {
		t.Fatalf("Len %d, %d slots: want 1 and 1 (b replaced a in its slot)", x.Len(), len(x.slots))
	}
}
