package signer

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// cacheClock is a settable clock for cache tests.
type cacheClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *cacheClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *cacheClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// cacheTestKey reads an RSA test key from testdata, so the cache tests
// need no key generation.
func cacheTestKey(t testing.TB, name string) *SigningKey {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParsePrivateKey(data)
	if err != nil {
		t.Fatal(err)
	}
	return &SigningKey{ID: "kid-" + name, Key: priv}
}

func TestLifetimeValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    Lifetime
		ok   bool
	}{
		{"default floor", Lifetime{TTL: time.Hour}, true},
		{"explicit floor", Lifetime{TTL: time.Hour, MinValidity: 50 * time.Minute}, true},
		{"two seconds, a one-second floor", Lifetime{TTL: 2 * time.Second}, true},
		{"one second leaves no floor", Lifetime{TTL: time.Second}, false},
		{"one second, floor asked", Lifetime{TTL: time.Second, MinValidity: time.Second}, false},
		{"zero TTL", Lifetime{}, false},
		{"sub-second TTL", Lifetime{TTL: 1500 * time.Millisecond}, false},
		{"floor equals TTL", Lifetime{TTL: time.Hour, MinValidity: time.Hour}, false},
		{"negative floor", Lifetime{TTL: time.Hour, MinValidity: -time.Second}, false},
		{"fractional floor", Lifetime{TTL: time.Hour, MinValidity: 1500 * time.Millisecond}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.l.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// TestLifetimeExpiryFloor checks, for every second of several steps, that
// a token minted then keeps at least MinValidity until it is replaced.
func TestLifetimeExpiryFloor(t *testing.T) {
	for _, l := range []Lifetime{
		{TTL: time.Hour},
		{TTL: 10 * time.Minute, MinValidity: 9 * time.Minute},
		{TTL: 7 * time.Second, MinValidity: 3 * time.Second},
		{TTL: 3 * time.Second},
	} {
		start := time.Unix(1_800_000_123, 0)
		for s := time.Duration(0); s < 3*l.Step(); s += time.Second {
			now := start.Add(s)
			exp, refresh := l.Expiry(now)
			floor := l.minValidity()
			if exp.Sub(now) > l.TTL || exp.Sub(now) < floor {
				t.Fatalf("%+v at %v: exp %v leaves %s, want between %s and %s", l, now.Unix(), exp.Unix(), exp.Sub(now), floor, l.TTL)
			}
			// Handed out until just before refresh, it still has the floor.
			if last := refresh.Add(-time.Second); exp.Sub(last) < floor {
				t.Fatalf("%+v: at the last second before refresh %s is left, want >= %s", l, exp.Sub(last), floor)
			}
			if !refresh.After(now) || exp.Unix()%int64(l.Step()/time.Second) != int64(l.TTL/time.Second)%int64(l.Step()/time.Second) {
				t.Fatalf("%+v at %v: refresh %v, exp %v not aligned to the step", l, now.Unix(), refresh.Unix(), exp.Unix())
			}
		}
	}
}

func TestCacheHitsWithinAStepAndRefreshesAtTheFloor(t *testing.T) {
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	key := cacheTestKey(t, "rsa2048.pem")
	c, err := NewCache(10, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	l := Lifetime{TTL: time.Hour, MinValidity: 20 * time.Minute}
	v := NewVerifier(NewKeys(key.Public()))
	v.Leeway = 0

	_, refresh := l.Expiry(clock.Now())
	tok, exp, err := c.Token("r", key, "/v/x.mp4", l)
	if err != nil {
		t.Fatal(err)
	}
	// Hits until the refresh instant; each handed out with >= the floor.
	for now := clock.Now(); now.Before(refresh); now = now.Add(7 * time.Minute) {
		clock.Set(now)
		got, gotExp, err := c.Token("r", key, "/v/x.mp4", l)
		if err != nil || got != tok || !gotExp.Equal(exp) {
			t.Fatalf("at %v: token changed within the step", now)
		}
		if left := gotExp.Sub(now); left < l.MinValidity {
			t.Fatalf("at %v: %s left, below the floor", now, left)
		}
		v.Now = func() time.Time { return now }
		if _, err := v.Verify(got, "/v/x.mp4"); err != nil {
			t.Fatalf("at %v: %v", now, err)
		}
	}
	// A hit in the second half of the step's last stretch (past every
	// scope's aheadFrom): the next token is minted ahead, in the
	// background.
	clock.Set(refresh.Add(-time.Minute))
	if got, _, err := c.Token("r", key, "/v/x.mp4", l); err != nil || got != tok {
		t.Fatalf("a minute before the refresh instant: token changed (%v)", err)
	}
	waitAhead(t, c, 1)
	clock.Set(refresh)
	got, gotExp, err := c.Token("r", key, "/v/x.mp4", l)
	if err != nil || got == tok || gotExp.Sub(refresh) < l.MinValidity {
		t.Fatalf("at the refresh instant: same token %v, exp %v", got == tok, gotExp)
	}
	s := c.Stats()
	if s.Signatures != 2 || s.Ahead != 1 || s.Misses != 1 || s.Hits == 0 || s.Entries != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestCacheByteIdenticalAcrossInstances(t *testing.T) {
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	key := cacheTestKey(t, "rsa2048.pem")
	// A second process: the same key file parsed again.
	key2 := cacheTestKey(t, "rsa2048.pem")
	l := Lifetime{TTL: time.Hour}
	a, _ := NewCache(10, clock.Now)
	ta, _, _ := a.Token("r", key, "/v", l)
	clock.Set(clock.Now().Add(17 * time.Minute)) // same step (30m)
	b, _ := NewCache(10, clock.Now)
	tb, _, _ := b.Token("r", key2, "/v", l)
	if ta != tb {
		t.Errorf("two instances minted different tokens within a step")
	}
}

func TestCacheOneSignatureForConcurrentMisses(t *testing.T) {
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	key := cacheTestKey(t, "rsa2048.pem")
	c, _ := NewCache(10, clock.Now)
	const n = 1000
	toks := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tok, _, err := c.Token("r", key, "/hot", Lifetime{TTL: time.Hour})
			if err != nil {
				t.Error(err)
			}
			toks[i] = tok
		}()
	}
	close(start)
	wg.Wait()
	if s := c.Stats(); s.Signatures != 1 || s.Hits+s.Misses != n {
		t.Errorf("stats %+v: want 1 signature for %d concurrent requests", s, n)
	}
	for i := range toks {
		if toks[i] != toks[0] {
			t.Fatalf("request %d got another token", i)
		}
	}
}

func TestCacheSeparatesNamespacesKeysAndScopes(t *testing.T) {
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	k1 := cacheTestKey(t, "rsa2048.pem")
	reloaded := cacheTestKey(t, "rsa2048.pem") // same bytes, new pointer
	k3 := cacheTestKey(t, "other2048.pem")
	c, _ := NewCache(100, clock.Now)
	l := Lifetime{TTL: time.Hour}
	c.Token("a", k1, "/v", l)
	for _, tc := range []struct {
		name string
		ns   string
		key  *SigningKey
		uri  string
	}{
		{"other namespace", "b", k1, "/v"},
		{"other scope", "a", k1, "/w"},
		{"reloaded key", "a", reloaded, "/v"},
		{"other key", "a", k3, "/v"},
	} {
		before := c.Stats().Signatures
		if _, _, err := c.Token(tc.ns, tc.key, tc.uri, l); err != nil {
			t.Fatal(err)
		}
		if c.Stats().Signatures != before+1 {
			t.Errorf("%s: served from another entry", tc.name)
		}
	}
}

func TestCacheIsBounded(t *testing.T) {
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	key := cacheTestKey(t, "rsa2048.pem")
	c, _ := NewCache(8, clock.Now)
	l := Lifetime{TTL: time.Hour}
	for i := range 50 {
		if _, _, err := c.Token("r", key, "/v/"+string(rune('a'+i%26))+string(rune('a'+i/26)), l); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Stats(); s.Entries != 8 || s.Signatures != 50 {
		t.Errorf("stats %+v: want 8 entries", s)
	}
	c.Purge()
	if s := c.Stats(); s.Entries != 0 {
		t.Errorf("after Purge: %+v", s)
	}
}

func TestNewCacheSize(t *testing.T) {
	if _, err := NewCache(-1, nil); err == nil {
		t.Error("negative size accepted")
	}
	c, err := NewCache(0, nil)
	if err != nil || c.entries.Len() != 0 {
		t.Errorf("default size: %v", err)
	}
}

func TestCacheSignError(t *testing.T) {
	c, _ := NewCache(4, nil)
	if _, _, err := c.Token("r", &SigningKey{Key: cacheTestKey(t, "rsa2048.pem").Key}, "/v", Lifetime{TTL: time.Hour}); err == nil {
		t.Error("a key without kid signed")
	}
	if s := c.Stats(); s.Entries != 0 || s.Signatures != 0 {
		t.Errorf("a failed signature was cached: %+v", s)
	}
}

func BenchmarkCacheHit(b *testing.B) {
	key := cacheTestKey(b, "rsa2048.pem")
	c, _ := NewCache(0, nil)
	l := Lifetime{TTL: time.Hour}
	c.Token("r", key, "/v/x.mp4", l)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Token("r", key, "/v/x.mp4", l)
		}
	})
}

func BenchmarkCacheMiss(b *testing.B) {
	key := cacheTestKey(b, "rsa2048.pem")
	c, _ := NewCache(1, nil)
	l := Lifetime{TTL: time.Hour}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		i++
		c.Token("r", key, "/v/"+string(rune('a'+i%2)), l) // size 1: every call misses
	}
}

// A Lifetime that Validate refuses is an error from Token, never a panic
// (a zero step would divide by zero).
func TestCacheTokenRefusesBadLifetime(t *testing.T) {
	c, err := NewCache(8, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := cacheTestKey(t, "rsa2048.pem")
	for _, l := range []Lifetime{
		{},
		{TTL: time.Second},
		{TTL: 500 * time.Millisecond},
		{TTL: time.Hour, MinValidity: time.Hour},
		{TTL: time.Hour, MinValidity: -time.Second},
	} {
		tok, exp, err := c.Token("r", k, "/v", l)
		if err == nil || tok != "" || !exp.IsZero() {
			t.Errorf("Token with %+v: minted %v, exp %v, err %v; want an error", l, tok != "", exp, err)
		}
	}
	if s := c.Stats(); s.Signatures != 0 || s.Entries != 0 {
		t.Errorf("stats after refusals: %+v", s)
	}
	// Expiry itself never divides by zero.
	if exp, refresh := (Lifetime{TTL: time.Second}).Expiry(time.Unix(100, 0)); !refresh.After(time.Unix(100, 0)) || exp.Before(refresh) {
		t.Errorf("Expiry of a bad Lifetime = %v, %v", exp, refresh)
	}
}
