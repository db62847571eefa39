package signer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memoCase is a signer of the memo's property and tokens it minted.
type memoCase struct {
	s    Signer
	toks []Token
}

// memoCases returns signers of every shape of URL: Qencode on two bases
// with the same key (so the same token, other URLs), and the CDN schemes
// that sign a directory; each with tokens for two grants, an equal copy
// of each in bytes of its own, and one with a parameter changed.
func memoCases(t *testing.T) []memoCase {
	t.Helper()
	key := cacheTestKey(t, "rsa2048.pem")
	var ss []Signer
	for _, base := range []string{"https://media.example.com", "https://cdn.example.com/prefix"} {
		b, err := ParseBase(base)
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, NewQencodeSigner(key, b))
	}
	for _, c := range cdnSchemes() {
		s, err := c.scheme.New(c.settings(t, ScopeDir, "https://cdn.example.com"))
		if errors.Is(err, ErrSchemeScope) {
			continue // Bunny's basic mode signs one file only
		}
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, s)
	}
	exp := time.Unix(1_900_000_000, 0)
	var cs []memoCase
	for _, s := range ss {
		c := memoCase{s: s}
		for _, g := range []Grant{{Path: "/v/a", Prefix: true}, {Path: "/v/b", Prefix: true}} {
			tok, err := s.Mint(g, exp)
			if err != nil {
				t.Fatal(err)
			}
			copied := Token{Params: make([]Param, len(tok.Params))}
			changed := Token{Params: make([]Param, len(tok.Params))}
			for i, p := range tok.Params {
				copied.Params[i] = Param{Name: strings.Clone(p.Name), Value: strings.Clone(p.Value)}
				changed.Params[i] = p
			}
			last := &changed.Params[len(changed.Params)-1]
			last.Value = strings.Clone(last.Value) + "0"
			c.toks = append(c.toks, tok, copied, changed)
		}
		cs = append(cs, c)
	}
	return cs
}

// countingSigner counts the URLs its signer builds.
type countingSigner struct {
	Signer
	built atomic.Int64
}

func (c *countingSigner) URL(p, rawQuery string, tok Token) (string, error) {
	c.built.Add(1)
	return c.Signer.URL(p, rawQuery, tok)
}

// TestURLMemoMatchesSigner holds URLMemo to its invariant, with the
// signer itself as the oracle: over generated calls (signers, paths,
// queries, tokens; half of the calls one of the last few again, a quarter
// that one with its path, query or token changed; on memos of four
// slots, so that entries collide and replace each other), every URL and
// error is the signer's own. The queries include ones the schemes keep,
// drop and refuse, and ones too long to remember; a second pass runs the
// same calls from four goroutines at once. The memos must have handed
// out a good share of the URLs, or the property tested nothing.
func TestURLMemoMatchesSigner(t *testing.T) {
	cases := memoCases(t)
	paths := []string{"/v/a/1.ts", "/v/a/2.ts", "/v/b/1.ts", "/v/a/é.ts", "/v/a/1.ts\x00"}
	queries := []string{"", "start=10", "start=20", "auth=x&start=10", "a=%zz", "%zz=1", "\x00", "start=" + strings.Repeat("9", 3000)}
	type call struct {
		c        int
		p, q     string
		tok      Token
		wantURL  string
		wantFail bool
	}
	r := rand.New(rand.NewPCG(9, 10))
	calls := make([]call, 20000)
	for i := range calls {
		c := r.IntN(len(cases))
		cl := call{c: c, p: paths[r.IntN(len(paths))], q: queries[r.IntN(len(queries))], tok: cases[c].toks[r.IntN(len(cases[c].toks))]}
		if i >= 8 {
			switch recent := calls[i-1-r.IntN(8)]; r.IntN(4) {
			case 0, 1: // hot calls: one of the last few again
				calls[i] = recent
				continue
			case 2: // its neighbour: the path, the query or the token another
				p, q, tok := recent.p, recent.q, recent.tok
				switch r.IntN(3) {
				case 0:
					p = cl.p
				case 1:
					q = cl.q
				default:
					tok = cases[recent.c].toks[r.IntN(len(cases[recent.c].toks))]
				}
				cl = call{c: recent.c, p: p, q: q, tok: tok}
			}
		}
		u, err := cases[cl.c].s.URL(cl.p, cl.q, cl.tok)
		cl.wantURL, cl.wantFail = u, err != nil
		calls[i] = cl
	}
	for _, pass := range []string{"one goroutine", "four goroutines"} {
		counters := make([]*countingSigner, len(cases))
		memos := make([]*URLMemo, len(cases))
		for i, c := range cases {
			counters[i] = &countingSigner{Signer: c.s}
			memos[i] = NewURLMemo(counters[i], 4)
		}
		check := func(cl call) string {
			u, err := memos[cl.c].URL(cl.p, cl.q, cl.tok)
			if u != cl.wantURL || (err != nil) != cl.wantFail {
				return fmt.Sprintf("%s: URL(%q, %.40q) = %q, %v; want %q", pass, cl.p, cl.q, u, err, cl.wantURL)
			}
			return ""
		}
		goroutines := 1
		if pass == "four goroutines" {
			goroutines = 4
		}
		var wg sync.WaitGroup
		errs := make(chan string, goroutines)
		for g := range goroutines {
			wg.Go(func() {
				for i := g; i < len(calls); i += goroutines {
					if msg := check(calls[i]); msg != "" {
						errs <- msg
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for msg := range errs {
			t.Fatal(msg)
		}
		var built int64
		for _, c := range counters {
			built += c.built.Load()
		}
		if remembered := int64(len(calls)) - built; remembered < int64(len(calls))/10 {
			t.Fatalf("%s: the memos handed out %d of %d URLs: the property tested little", pass, remembered, len(calls))
		} else {
			t.Logf("%s: %d of %d URLs handed out by the memos", pass, remembered, len(calls))
		}
	}
}

// TestURLMemoHitAllocatesNothing: a URL the memo holds costs no
// allocation, which is what it is for.
func TestURLMemoHitAllocatesNothing(t *testing.T) {
	c := memoCases(t)[0]
	m := NewURLMemo(c.s, 16)
	if _, err := m.URL("/v/a/1.ts", "start=10", c.toks[0]); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { m.URL("/v/a/1.ts", "start=10", c.toks[0]) }); n != 0 {
		t.Errorf("a remembered URL allocates %v times", n)
	}
}
