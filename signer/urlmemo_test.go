package signer

import (
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// memoCase is a signer of the memo's property and tokens it minted.
type memoCase struct {
	s    Signer
	toks []Token
}

// memoCases returns signers of every shape of URL: Qencode on two bases
// with the same key (so the same token, other URLs), and the CDN
// schemes that sign a directory, each with tokens for two grants, an equal copy of each in
// bytes of its own, and one with a parameter changed.
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

// TestURLMemoMatchesSigner holds URLMemo to its invariant, with the
// signer itself as the oracle: over generated calls (signers, paths,
// queries, tokens, on a memo of four slots, so that entries collide and
// replace each other), every URL and error is the signer's own. The
// queries include ones the schemes keep, drop and refuse, and ones too
// long to remember; a second pass runs the same calls from four
// goroutines at once.
func TestURLMemoMatchesSigner(t *testing.T) {
	cases := memoCases(t)
	paths := []string{"/v/a/1.ts", "/v/a/2.ts", "/v/b/1.ts", "/v/a/é.ts"}
	queries := []string{"", "start=10", "auth=x&start=10", "a=%zz", "%zz=1", "start=" + strings.Repeat("9", 3000)}
	type call struct {
		c        memoCase
		p, q     string
		tok      Token
		wantURL  string
		wantFail bool
	}
	r := rand.New(rand.NewPCG(9, 10))
	calls := make([]call, 20000)
	for i := range calls {
		c := cases[r.IntN(len(cases))]
		cl := call{c: c, p: paths[r.IntN(len(paths))], q: queries[r.IntN(len(queries))], tok: c.toks[r.IntN(len(c.toks))]}
		u, err := c.s.URL(cl.p, cl.q, cl.tok)
		cl.wantURL, cl.wantFail = u, err != nil
		calls[i] = cl
	}
	check := func(m *URLMemo, cl call) string {
		u, err := m.URL(cl.c.s, cl.p, cl.q, cl.tok)
		if u != cl.wantURL || (err != nil) != cl.wantFail {
			return "URL(" + cl.p + ", " + cl.q + ") = " + u + ", want " + cl.wantURL
		}
		return ""
	}
	m := NewURLMemo(4)
	remembered := 0
	for _, cl := range calls {
		before := m.slots[0].Load()
		if msg := check(m, cl); msg != "" {
			t.Fatal(msg)
		}
		if m.slots[0].Load() == before && before != nil && before.url == cl.wantURL {
			remembered++
		}
	}
	if remembered == 0 {
		t.Fatal("the memo never handed out a URL it held: the property tested nothing")
	}
	m = NewURLMemo(4)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < len(calls); i += 4 {
				if msg := check(m, calls[i]); msg != "" {
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
}

// TestURLMemoHitAllocatesNothing: a URL the memo holds costs no
// allocation, which is what it is for.
func TestURLMemoHitAllocatesNothing(t *testing.T) {
	c := memoCases(t)[0]
	m := NewURLMemo(16)
	if _, err := m.URL(c.s, "/v/a/1.ts", "start=10", c.toks[0]); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { m.URL(c.s, "/v/a/1.ts", "start=10", c.toks[0]) }); n != 0 {
		t.Errorf("a remembered URL allocates %v times", n)
	}
}
