package signer

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
)

// URLMemo remembers one signer's URLs: for a path, a raw query and a
// token, the URL the signer built of them. A cache hit's token is the one
// the hit before it got, so a hot scope's URL is built once per token
// rather than on every request; building it (about 560 bytes for an
// RS256 token, allocated and copied) was the largest share of a cache
// hit's cost in the gateway (BENCHMARKS.md).
//
// Invariant: URL returns exactly what s.URL(p, rawQuery, tok) returns
// (TestURLMemoMatchesSigner), since Signer.URL depends on nothing else;
// a remembered URL is handed out only for a path, query and token each
// equal to the ones it was built of, and a new token (a refresh, a
// purge) builds a new URL. A memo belongs to its signer: a new key is a
// new signer with a new memo, and the old one goes with the old signer
// (nothing here keeps a replaced key). It holds at most its number of
// slots of URLs, each with its inputs of at most maxMemoURL bytes and
// copied out of the request, so a client cannot make it hold much; a URL
// replaces the one in its slot. Safe for concurrent use without a lock:
// a slot is an atomic pointer to an entry that is never changed.
type URLMemo struct {
	s     Signer
	seed  maphash.Seed
	slots []atomic.Pointer[memoURL]
}

// maxMemoURL bounds the URLs a memo keeps, and the path and query each
// was built of, in bytes (a scheme that drops the query builds a short
// URL of a long one); a longer one is built every time.
const maxMemoURL = 2 << 10

// memoURL is a URL and what it was built of: the path and the query, in
// one string of their own (key, the path its first pathLen bytes), and
// the token.
type memoURL struct {
	key     string
	pathLen int
	tok     Token
	url     string
}

// NewURLMemo returns a memo of s's URLs with n slots, n rounded up to a
// power of two (at least 1).
func NewURLMemo(s Signer, n int) *URLMemo {
	size := 1
	for size < n {
		size <<= 1
	}
	return &URLMemo{s: s, seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[memoURL], size)}
}

// URL returns the signer's URL(p, rawQuery, tok), from the memo when it
// holds it.
func (m *URLMemo) URL(p, rawQuery string, tok Token) (string, error) {
	var h maphash.Hash
	h.SetSeed(m.seed)
	h.WriteString(p)
	h.WriteByte(0)
	h.WriteString(rawQuery)
	slot := &m.slots[h.Sum64()&uint64(len(m.slots)-1)]
	if e := slot.Load(); e != nil && e.pathLen == len(p) && len(e.key) == len(p)+len(rawQuery) &&
		e.key[:len(p)] == p && e.key[len(p):] == rawQuery && sameToken(e.tok, tok) {
		return e.url, nil
	}
	u, err := m.s.URL(p, rawQuery, tok)
	if err == nil && len(u) <= maxMemoURL && len(p)+len(rawQuery) <= maxMemoURL {
		key := p + rawQuery
		if rawQuery == "" {
			key = strings.Clone(p) // p + "" is p, and p is the request's
		}
		slot.Store(&memoURL{key: key, pathLen: len(p), tok: tok, url: u})
	}
	return u, err
}

// sameToken reports whether a and b are the same parameters in the same
// order. A hit's values share the cache's bytes, so equal ones compare
// by their pointers, at once.
func sameToken(a, b Token) bool {
	if len(a.Params) != len(b.Params) {
		return false
	}
	for i := range a.Params {
		if a.Params[i] != b.Params[i] {
			return false
		}
	}
	return true
}
