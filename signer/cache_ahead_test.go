package signer

import (
	"math/rand/v2"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// waitAhead waits, up to a deadline, until c has minted n tokens ahead.
func waitAhead(t testing.TB, c *Cache, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Stats().Ahead < n {
		if time.Now().After(deadline) {
			t.Fatalf("refresh ahead: %d tokens minted ahead, want %d", c.Stats().Ahead, n)
		}
		runtime.Gosched() // the background flight runs; bounded by the deadline
	}
}

// gatedSigner mints like the Qencode signer of key, counting its mints;
// while gate is set, a mint waits for it to be closed.
type gatedSigner struct {
	*QencodeSigner
	mints atomic.Int64
	gate  atomic.Pointer[chan struct{}]
}

func (s *gatedSigner) Mint(g Grant, exp time.Time) (Token, error) {
	if ch := s.gate.Load(); ch != nil {
		<-*ch
	}
	s.mints.Add(1)
	return s.QencodeSigner.Mint(g, exp)
}

func (s *gatedSigner) Cookies(tok Token) ([]http.Cookie, error) { return s.QencodeSigner.Cookies(tok) }

// TestCacheRefreshAheadNeverWaits: a request in the last stretch of a
// step gets the cached token at once, even while the next step's
// signature is slow; the next step's first request gets the token minted
// ahead without a signature, and it is the token a fresh cache (another
// replica) mints in that step, byte for byte.
func TestCacheRefreshAheadNeverWaits(t *testing.T) {
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	base, _ := ParseBase("https://cdn.example.com")
	s := &gatedSigner{QencodeSigner: NewQencodeSigner(cacheTestKey(t, "rsa2048.pem"), base)}
	c, err := NewCache(10, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	l := Lifetime{TTL: 10 * time.Minute, MinValidity: 2 * time.Minute} // step 8m, ahead 60s
	g := Grant{Path: "/v", Prefix: true}
	_, refresh := l.Expiry(clock.Now())
	first, _, err := c.Mint("r", s, g, l)
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	s.gate.Store(&gate)
	clock.Set(refresh.Add(-30 * time.Second))
	done := make(chan Token, 1)
	go func() {
		tok, _, _ := c.Mint("r", s, g, l)
		done <- tok
	}()
	select {
	case tok := <-done:
		if tok.Get("auth") != first.Get("auth") {
			t.Fatal("a hit in the last stretch did not get the token in force")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a hit in the last stretch waited for the next step's signature")
	}
	close(gate)
	waitAhead(t, c, 1)
	clock.Set(refresh)
	next, exp, err := c.Mint("r", s, g, l)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.mints.Load(); n != 2 {
		t.Fatalf("%d mints, want 2 (the first, and the one ahead)", n)
	}
	if exp.Sub(refresh) < l.MinValidity || next.Get("auth") == first.Get("auth") {
		t.Fatalf("the next step's token: exp %v, same as before %v", exp, next.Get("auth") == first.Get("auth"))
	}
	replica, _ := NewCache(10, clock.Now)
	other, _, err := replica.Mint("r", s.QencodeSigner, g, l)
	if err != nil || other.Get("auth") != next.Get("auth") {
		t.Fatalf("a replica mints another token in the same step (%v)", err)
	}
	if st := c.Stats(); st.Misses != 1 || st.Ahead != 1 || st.Signatures != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestCacheRefreshAheadProperty: over random request times crossing many
// steps, on several scopes, every token handed out has at least the
// minimum validity left, is byte-identical to what a fresh cache mints at
// that instant, and a scope costs at most one signature per step it was
// asked for in, plus the one minted ahead.
func TestCacheRefreshAheadProperty(t *testing.T) {
	key := cacheTestKey(t, "rsa2048.pem")
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 20 {
		clock := &cacheClock{t: time.Unix(1_800_000_000+rng.Int64N(1000), 0)}
		l := Lifetime{TTL: time.Duration(4+rng.IntN(60)) * time.Second}
		if rng.IntN(2) == 0 {
			l.MinValidity = time.Duration(1+rng.Int64N(int64(l.TTL/time.Second)-1)) * time.Second
		}
		c, err := NewCache(4, clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		uris := []string{"/a", "/b", "/c/d.ts"}
		steps := map[string]map[int64]bool{}
		for range 60 {
			clock.Set(clock.Now().Add(time.Duration(rng.Int64N(int64(l.Step()/time.Second)+2)) * time.Second))
			uri := uris[rng.IntN(len(uris))]
			tok, exp, err := c.Token("r", key, uri, l)
			if err != nil {
				t.Fatal(err)
			}
			now := clock.Now()
			if left := exp.Sub(now); left < l.minValidity() {
				t.Fatalf("trial %d %v: %s left at %v, below %s", trial, l, left, now, l.minValidity())
			}
			fresh, _ := NewCache(1, clock.Now)
			want, _, _ := fresh.Token("r", key, uri, l)
			if tok != want {
				t.Fatalf("trial %d %v: token at %v differs from a fresh mint", trial, l, now)
			}
			_, r := l.Expiry(now)
			if steps[uri] == nil {
				steps[uri] = map[int64]bool{}
			}
			steps[uri][r.Unix()] = true
		}
		var asked uint64
		for _, s := range steps {
			asked += uint64(len(s))
		}
		st := c.Stats()
		if st.Signatures-st.Ahead > asked || st.Ahead > asked {
			t.Fatalf("trial %d: %d signatures (%d ahead) for %d (scope, step) pairs asked for: %+v", trial, st.Signatures, st.Ahead, asked, st)
		}
	}
}

// TestAheadFromSpreads: the instant from which a hit mints ahead is, for
// every scope and lifetime, in the first half of the ahead stretch, so
// the signature has the second half to finish before refresh; and the
// scopes of one step spread over that half rather than all starting at
// its first instant (no eighth of it holds more than twice its share of
// 4,000 scopes).
func TestAheadFromSpreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for range 20 {
		l := Lifetime{TTL: time.Duration(2+rng.IntN(7200)) * time.Second}
		if err := l.Validate(); err != nil {
			continue
		}
		c, _ := NewCache(1, nil)
		refresh := int64(1_800_000_000)
		a := time.Duration(l.ahead()) * time.Second
		start := time.Unix(refresh, 0).Add(-a)
		var buckets [8]int
		const n = 4000
		for i := range n {
			k := cacheKey{ns: "media", signer: c, uri: "/v/" + strconv.Itoa(i), prefix: i%2 == 0}
			from := c.aheadFrom(k, refresh, l)
			if from.Before(start) || !from.Before(start.Add(a/2)) {
				t.Fatalf("%v: aheadFrom %v, outside [%v, %v)", l, from, start, start.Add(a/2))
			}
			buckets[from.Sub(start)*8/(a/2)]++
		}
		for b, m := range buckets {
			if m > 2*n/8 || m == 0 {
				t.Fatalf("%v: eighth %d of the first half holds %d of %d scopes: %v", l, b, m, n, buckets)
			}
		}
	}
}
