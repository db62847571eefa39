package signer

import (
	"encoding/binary"
	"hash/maphash"
	"strings"
	"sync"
)

// index is the token cache's store: a least-recently-used map of at most
// size entries, kept in a shape the garbage collector walks cheaply.
//
// Why not golang-lru, which the rest of signgate uses: there every entry
// is a heap node of list links, key and value, and the collector marks
// each one, with the map's slots and the token's own objects, on every
// cycle. Marking a full default cache (100,000 entries) of that shape
// took a median 28 ms of CPU per collection against 9 ms for this one
// (BENCHMARKS.md, "Resident cache and the collector"), and the memory
// limit that keeps the gateway's RSS small makes collections frequent.
// Here the recency list is indices into a slice without pointers (the
// collector skips it), the map holds integers only (skipped too), and an
// entry's bytes (its uri and tokens) are one string, the entry's only
// allocation and the one pointer the collector follows per entry.
//
// Invariants: an entry is found only by a key equal to the one it was
// added with (the hash picks a slot; the key is compared in full, so a
// hash collision is a miss, never another scope's token); an entry read
// is deep-equal to the one added, a token's empty Params read as empty
// and a nil one as nil; there are at most size entries; and the one
// dropped for a new key is the least recently used (Get and Add use,
// Peek does not). golang-lru is the oracle of its test
// (TestIndexMatchesGolangLRU).
type index struct {
	mu     sync.Mutex
	seed   maphash.Seed
	size   int
	byHash map[uint64]uint32 // hash of a key → its slot
	// An entry is slots[i] and data[i]: the first has no pointers, so the
	// collector skips it; the second is the entry's bytes, the only
	// pointer the collector follows per entry. Both grow up to size.
	slots []slot
	data  []string
	// head and tail are the most and least recently used slots.
	head, tail uint32
	owners     owners
}

const noSlot = ^uint32(0)

// slot is an entry's fixed part.
type slot struct {
	prev, next uint32
	hash       uint64
	owner      uint32 // its namespace and signer: owners.all[owner]
	// data[i] holds the uri, then the token's parameters, then the next
	// step's: [:uriEnd], [uriEnd:tokEnd] and [tokEnd:] (see encodeEntry).
	uriEnd, tokEnd uint32
	exp, refresh   int64
	// nextExp and nextRefresh are the next step's token's, when hasNext.
	nextExp, nextRefresh int64
	prefix, hasNext      bool
	// empty and nextEmpty say that the token's (the next's) Params is
	// empty but not nil, which its bytes, none either way, cannot tell:
	// a hit gives back exactly the Token minted.
	empty, nextEmpty bool
}

func newIndex(size int) *index {
	return &index{seed: maphash.MakeSeed(), size: size, byHash: make(map[uint64]uint32), head: noSlot, tail: noSlot}
}

func (x *index) hash(k cacheKey) uint64 {
	var h maphash.Hash
	h.SetSeed(x.seed)
	h.WriteString(k.ns)
	h.WriteByte(0)
	h.WriteString(k.uri)
	if k.prefix {
		h.WriteByte(1)
	}
	return h.Sum64() ^ maphash.Comparable(x.seed, k.signer)
}

// find returns k's slot, or noSlot. x.mu is held.
func (x *index) find(k cacheKey, h uint64) uint32 {
	i, ok := x.byHash[h]
	if !ok {
		return noSlot
	}
	s, o := &x.slots[i], x.owners.all[x.slots[i].owner]
	if o.signer != k.signer || o.ns != k.ns || s.prefix != k.prefix || x.data[i][:s.uriEnd] != k.uri {
		return noSlot // a collision: another scope's slot
	}
	return i
}

// Get returns k's entry and marks it used.
func (x *index) Get(k cacheKey) (cacheEntry, bool) { return x.get(k, true) }

// Peek returns k's entry without marking it used.
func (x *index) Peek(k cacheKey) (cacheEntry, bool) { return x.get(k, false) }

func (x *index) get(k cacheKey, use bool) (cacheEntry, bool) {
	h := x.hash(k)
	x.mu.Lock()
	i := x.find(k, h)
	if i == noSlot {
		x.mu.Unlock()
		return cacheEntry{}, false
	}
	if use {
		x.unlink(i)
		x.pushFront(i)
	}
	s, d := x.slots[i], x.data[i]
	x.mu.Unlock()
	return s.entry(d), true // outside the lock: it allocates
}

// Add stores e as k's entry, the most recently used, dropping the least
// recently used entry if the index is full.
func (x *index) Add(k cacheKey, e cacheEntry) {
	data, uriEnd, tokEnd := encodeEntry(k.uri, e)
	h := x.hash(k)
	x.mu.Lock()
	defer x.mu.Unlock()
	i, ok := x.byHash[h]
	switch {
	case ok:
		x.unlink(i) // k's slot, or a colliding one: k's from now on
		x.owners.release(x.slots[i].owner)
	case len(x.slots) < x.size:
		x.slots, x.data = append(x.slots, slot{}), append(x.data, "")
		i = uint32(len(x.slots) - 1)
	default:
		i = x.tail
		x.unlink(i)
		x.owners.release(x.slots[i].owner)
		delete(x.byHash, x.slots[i].hash)
	}
	s := slot{hash: h, owner: x.owners.hold(k.ns, k.signer), prefix: k.prefix, uriEnd: uriEnd, tokEnd: tokEnd, exp: e.exp, refresh: e.refresh, empty: isEmpty(e.token)}
	if e.next != nil {
		s.hasNext, s.nextExp, s.nextRefresh, s.nextEmpty = true, e.next.exp, e.next.refresh, isEmpty(e.next.token)
	}
	x.slots[i], x.data[i] = s, data
	x.byHash[h] = i
	x.pushFront(i)
}

// owners are the (namespace, signer) pairs of a cache's entries, each
// held once however many entries share it, and dropped with its last
// entry, so that the signer of a replaced key is not kept.
type owners struct {
	all  []owner
	ids  map[ownerKey]uint32
	free []uint32
}

type ownerKey struct {
	ns     string
	signer any
}

type owner struct {
	ownerKey
	refs int // entries holding it
}

func (o *owners) hold(ns string, signer any) uint32 {
	k := ownerKey{ns: ns, signer: signer}
	id, ok := o.ids[k]
	if !ok {
		if o.ids == nil {
			o.ids = make(map[ownerKey]uint32)
		}
		if n := len(o.free); n > 0 {
			id, o.free = o.free[n-1], o.free[:n-1]
			o.all[id] = owner{ownerKey: k}
		} else {
			id, o.all = uint32(len(o.all)), append(o.all, owner{ownerKey: k})
		}
		o.ids[k] = id
	}
	o.all[id].refs++
	return id
}

func (o *owners) release(id uint32) {
	if o.all[id].refs--; o.all[id].refs == 0 {
		delete(o.ids, o.all[id].ownerKey)
		o.all[id] = owner{}
		o.free = append(o.free, id)
	}
}

// Len returns the number of entries.
func (x *index) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.byHash)
}

// Purge drops every entry and the memory they held.
func (x *index) Purge() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.byHash, x.slots, x.data, x.head, x.tail = make(map[uint64]uint32), nil, nil, noSlot, noSlot
	x.owners = owners{}
}

func (x *index) unlink(i uint32) {
	s := &x.slots[i]
	if s.prev != noSlot {
		x.slots[s.prev].next = s.next
	} else {
		x.head = s.next
	}
	if s.next != noSlot {
		x.slots[s.next].prev = s.prev
	} else {
		x.tail = s.prev
	}
}

func (x *index) pushFront(i uint32) {
	s := &x.slots[i]
	s.prev, s.next = noSlot, x.head
	if x.head != noSlot {
		x.slots[x.head].prev = i
	} else {
		x.tail = i
	}
	x.head = i
}

func (s *slot) entry(data string) cacheEntry {
	e := cacheEntry{token: decodeToken(data[s.uriEnd:s.tokEnd], s.empty), exp: s.exp, refresh: s.refresh}
	if s.hasNext {
		e.next = &cacheEntry{token: decodeToken(data[s.tokEnd:], s.nextEmpty), exp: s.nextExp, refresh: s.nextRefresh}
	}
	return e
}

// isEmpty reports whether t's Params is empty but not nil.
func isEmpty(t Token) bool { return t.Params != nil && len(t.Params) == 0 }

// encodeEntry lays out uri, e's token and its next's in one string, one
// allocation. A token is its parameters in order, each as the uvarint
// length and the bytes of the name, then of the value.
func encodeEntry(uri string, e cacheEntry) (data string, uriEnd, tokEnd uint32) {
	n := len(uri) + tokenSize(e.token)
	if e.next != nil {
		n += tokenSize(e.next.token)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(uri)
	uriEnd = uint32(b.Len())
	writeToken(&b, e.token)
	tokEnd = uint32(b.Len())
	if e.next != nil {
		writeToken(&b, e.next.token)
	}
	return b.String(), uriEnd, tokEnd
}

func tokenSize(t Token) int {
	n := 0
	for _, p := range t.Params {
		n += uvarintSize(len(p.Name)) + len(p.Name) + uvarintSize(len(p.Value)) + len(p.Value)
	}
	return n
}

func uvarintSize(n int) int {
	var b [binary.MaxVarintLen64]byte
	return len(binary.AppendUvarint(b[:0], uint64(n)))
}

func writeToken(b *strings.Builder, t Token) {
	var l [binary.MaxVarintLen64]byte
	for _, p := range t.Params {
		b.Write(binary.AppendUvarint(l[:0], uint64(len(p.Name))))
		b.WriteString(p.Name)
		b.Write(binary.AppendUvarint(l[:0], uint64(len(p.Value))))
		b.WriteString(p.Value)
	}
}

// decodeToken reads what writeToken wrote; its strings share s. With no
// parameters, Params is empty when empty says so (a zero-length slice,
// which allocates nothing), else nil.
func decodeToken(s string, empty bool) Token {
	n := 0
	for r := s; r != ""; n++ {
		_, r = nextString(r)
		_, r = nextString(r)
	}
	if n == 0 {
		if empty {
			return Token{Params: []Param{}}
		}
		return Token{}
	}
	t := Token{Params: make([]Param, n)}
	for i := range t.Params {
		t.Params[i].Name, s = nextString(s)
		t.Params[i].Value, s = nextString(s)
	}
	return t
}

func nextString(s string) (string, string) {
	var l uint64
	var w int
	for i := 0; i < len(s); i++ { // binary.Uvarint, over a string
		c := s[i]
		if c < 0x80 {
			l, w = l|uint64(c)<<(7*i), i+1
			break
		}
		l |= uint64(c&0x7f) << (7 * i)
	}
	return s[w : w+int(l)], s[w+int(l):]
}
