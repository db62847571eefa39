package signer

import (
	"hash/maphash"
	"sync/atomic"
)

// URLMemo remembers signed URLs: for a signer, a path, a raw query and a
// token, the URL the signer built of them. A cache hit's token is the one
// the hit before it got, so a hot scope's URL is built once per token
// rather than on every request; building it (about 560 bytes for an
// RS256 token, allocated and copied) was the largest share of a cache
// hit's cost in the gateway (BENCHMARKS.md).
//
// Invariant: URL returns exactly what s.URL(p, rawQuery, tok) returns
// (TestURLMemoMatchesSigner), since Signer.URL depends on nothing else;
// a remembered URL is handed out only for a signer, path, query and
// token each equal to the ones it was built of, and a new token (a
// refresh, a rotation, a purge) builds a new URL. It holds at most its
// number of slots of URLs, each of at most maxMemoURL bytes, so a client
// cannot make it hold much; a URL replaces the one in its slot. Safe for
// concurrent use without a lock: a slot is an atomic pointer to an entry
// that is never changed.
type URLMemo struct {
	seed  maphash.Seed
	slots []atomic.Pointer[memoURL]
}

// maxMemoURL bounds the URLs a memo keeps, and the path and query each
// was built of, in bytes (a scheme that drops the query builds a short
// URL of a long one); a longer one is built every time.
const maxMemoURL = 2 << 10

type memoURL struct {
	s           Signer
	p, rawQuery string
	tok         Token
	url         string
}

// NewURLMemo returns a memo of n slots, n rounded up to a power of two
// (at least 1).
func NewURLMemo(n int) *URLMemo {
	size := 1
	for size < n {
		size <<= 1
	}
	return &URLMemo{seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[memoURL], size)}
}

// URL returns s.URL(p, rawQuery, tok), from the memo when it holds it.
// Signers are compared with ==, as Cache compares them.
func (m *URLMemo) URL(s Signer, p, rawQuery string, tok Token) (string, error) {
	var h maphash.Hash
	h.SetSeed(m.seed)
	h.WriteString(p)
	h.WriteByte(0)
	h.WriteString(rawQuery)
	slot := &m.slots[h.Sum64()&uint64(len(m.slots)-1)]
	if e := slot.Load(); e != nil && e.s == s && e.p == p && e.rawQuery == rawQuery && sameToken(e.tok, tok) {
		return e.url, nil
	}
	u, err := s.URL(p, rawQuery, tok)
	if err == nil && len(u) <= maxMemoURL && len(p)+len(rawQuery) <= maxMemoURL {
		slot.Store(&memoURL{s: s, p: p, rawQuery: rawQuery, tok: tok, url: u})
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
