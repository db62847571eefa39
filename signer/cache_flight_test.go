package signer

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// heldSigner mints like the Qencode signer; while held, each Mint first
// sends its exp on calls and then waits on replies: nil mints, an error
// fails the mint with it. Made inside a synctest bubble, so a Mint
// waiting there is durably blocked.
type heldSigner struct {
	*QencodeSigner
	held    bool // set before the calls that are to wait, by the test's goroutine
	calls   chan time.Time
	replies chan error
}

func (s *heldSigner) Mint(g Grant, exp time.Time) (Token, error) {
	if !s.held {
		return s.QencodeSigner.Mint(g, exp)
	}
	s.calls <- exp
	if err := <-s.replies; err != nil {
		return Token{}, err
	}
	return s.QencodeSigner.Mint(g, exp)
}

// TestCacheMissJoiningRefreshAhead: a miss that joins the flight of a
// refresh ahead under way (misses and refresh ahead share k's flight)
// takes that flight's token only when it is of the miss's own step; when
// the refresh ahead failed, or minted a step the miss is already past,
// the miss signs for its own step, and never returns the refresh ahead's
// error. Whatever the flight, the miss's token is the one a fresh cache
// (another replica) mints at the miss's instant, its exp that instant's
// aligned exp, and the counters count each signature once.
//
// The refresh ahead waits in its signature while the miss arrives;
// synctest.Wait returns once the miss waits in the same flight (it is
// blocked in the flight's WaitGroup, not in a signature of its own).
func TestCacheMissJoiningRefreshAhead(t *testing.T) {
	key := cacheTestKey(t, "rsa2048.pem")
	base, _ := ParseBase("https://cdn.example.com")
	l := Lifetime{TTL: 10 * time.Minute, MinValidity: 2 * time.Minute} // step 8m, ahead 60s
	step := l.Step()
	errAhead := errors.New("the refresh ahead's signature failed")
	for _, tc := range []struct {
		name     string
		purge    bool                              // the entry is dropped while the refresh ahead signs
		at       func(refresh time.Time) time.Time // the miss's instant
		aheadErr error
		// What the miss signs itself, as steps after the first entry's
		// (1: the step the refresh ahead was minting).
		missSigns []int
		stats     CacheStats
	}{
		{
			name: "ahead fails, miss in the next step",
			at:   func(r time.Time) time.Time { return r.Add(time.Second) }, aheadErr: errAhead,
			missSigns: []int{1}, stats: CacheStats{Hits: 1, Misses: 2, Signatures: 2, Ahead: 0, Entries: 1},
		},
		{
			name: "ahead fails, miss two steps on",
			at:   func(r time.Time) time.Time { return r.Add(step + time.Second) }, aheadErr: errAhead,
			missSigns: []int{2}, stats: CacheStats{Hits: 1, Misses: 2, Signatures: 2, Ahead: 0, Entries: 1},
		},
		{
			name:  "entry purged, ahead fails, miss within the step",
			purge: true, at: func(r time.Time) time.Time { return r.Add(-time.Second) }, aheadErr: errAhead,
			missSigns: []int{0}, stats: CacheStats{Hits: 1, Misses: 2, Signatures: 2, Ahead: 0, Entries: 1},
		},
		{
			name:  "ahead mints the miss's step: the miss takes it, no signature of its own",
			at:    func(r time.Time) time.Time { return r.Add(time.Second) },
			stats: CacheStats{Hits: 1, Misses: 2, Signatures: 2, Ahead: 1, Entries: 1},
		},
		{
			name:      "ahead mints a step the miss is past",
			at:        func(r time.Time) time.Time { return r.Add(step + time.Second) },
			missSigns: []int{2}, stats: CacheStats{Hits: 1, Misses: 2, Signatures: 3, Ahead: 1, Entries: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
				s := &heldSigner{QencodeSigner: NewQencodeSigner(key, base), calls: make(chan time.Time), replies: make(chan error)}
				c, err := NewCache(10, clock.Now)
				if err != nil {
					t.Fatal(err)
				}
				g := Grant{Path: "/v", Prefix: true}
				first, refresh := l.Expiry(clock.Now())
				if _, _, err := c.Mint("r", s, g, l); err != nil {
					t.Fatal(err)
				}
				s.held = true
				// A hit past every scope's aheadFrom: the refresh ahead starts,
				// and waits in its signature.
				clock.Set(refresh.Add(-time.Second))
				if _, _, err := c.Mint("r", s, g, l); err != nil {
					t.Fatal(err)
				}
				if exp := <-s.calls; !exp.Equal(first.Add(step)) {
					t.Fatalf("the refresh ahead signs until %v, want %v", exp, first.Add(step))
				}
				if tc.purge {
					c.Purge()
				}
				at := tc.at(refresh)
				clock.Set(at)
				type result struct {
					tok Token
					exp time.Time
					err error
				}
				done := make(chan result, 1)
				go func() {
					tok, exp, err := c.Mint("r", s, g, l)
					done <- result{tok, exp, err}
				}()
				synctest.Wait() // the miss waits in the refresh ahead's flight
				s.replies <- tc.aheadErr
				var signed []int // the miss's own signatures, as steps after the first
				var got result
			miss:
				for {
					select {
					case exp := <-s.calls:
						signed = append(signed, int(exp.Sub(first)/step))
						s.replies <- nil
					case got = <-done:
						break miss
					}
				}
				if got.err != nil {
					t.Fatalf("the miss at %v returned an error: %v", at, got.err)
				}
				wantExp, _ := l.Expiry(at)
				replica, _ := NewCache(10, clock.Now)
				want, _, err := replica.Mint("r", s.QencodeSigner, g, l)
				if err != nil {
					t.Fatal(err)
				}
				if !got.exp.Equal(wantExp) || got.tok.Get("auth") != want.Get("auth") {
					t.Errorf("the miss at %v got the token of exp %v (step %d), want %v, the one a replica mints then",
						at, got.exp, int(got.exp.Sub(first)/step), wantExp)
				}
				if len(signed) != len(tc.missSigns) || (len(signed) == 1 && signed[0] != tc.missSigns[0]) {
					t.Errorf("the miss signed steps %v, want %v", signed, tc.missSigns)
				}
				if st := c.Stats(); st != tc.stats {
					t.Errorf("stats %+v, want %+v", st, tc.stats)
				}
			})
		})
	}
}
