package signer

import (
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// failOnceSigner is a gatedSigner whose first mint after failNext is set
// fails, once it has passed the gate.
type failOnceSigner struct {
	*gatedSigner
	failNext atomic.Bool
}

func (s *failOnceSigner) Mint(g Grant, exp time.Time) (Token, error) {
	tok, err := s.gatedSigner.Mint(g, exp)
	if s.failNext.Swap(false) {
		return Token{}, errors.New("the signing backend is down")
	}
	return tok, err
}

// waitJoined waits, up to a deadline, until a goroutine waits in a
// singleflight's Do: a miss that joined the flight under way.
func waitJoined(t testing.TB) {
	t.Helper()
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "singleflight.(*Group).Do(") {
		if time.Now().After(deadline) {
			t.Fatal("no miss joined the refresh ahead's flight")
		}
		runtime.Gosched()
	}
}

// TestCacheMissJoiningFailedAheadSignsItself: a request that misses at the
// start of a step while the refresh ahead of that step is still signing
// joins its flight. When that signature fails, the miss does not get the
// background's error: it signs for its step itself, and gets the token a
// fresh cache (another replica) mints then, byte for byte.
func TestCacheMissJoiningFailedAheadSignsItself(t *testing.T) {
	clock := &cacheClock{t: time.Unix(1_800_000_000, 0)}
	base, _ := ParseBase("https://cdn.example.com")
	s := &failOnceSigner{gatedSigner: &gatedSigner{QencodeSigner: NewQencodeSigner(cacheTestKey(t, "rsa2048.pem"), base)}}
	c, err := NewCache(10, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	l := Lifetime{TTL: 10 * time.Minute, MinValidity: 2 * time.Minute} // step 8m, ahead 60s
	g := Grant{Path: "/v", Prefix: true}
	_, refresh := l.Expiry(clock.Now())
	if _, _, err := c.Mint("r", s, g, l); err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	s.gate.Store(&gate)
	s.failNext.Store(true)
	clock.Set(refresh.Add(-time.Second)) // late in the ahead stretch: this hit mints ahead
	if _, _, err := c.Mint("r", s, g, l); err != nil {
		t.Fatal(err)
	}
	clock.Set(refresh) // the step begins before the signature ahead is done
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
	waitJoined(t)
	close(gate) // the signature ahead fails
	got := <-done
	if got.err != nil {
		t.Fatalf("the miss got the refresh ahead's error: %v", got.err)
	}
	replica, _ := NewCache(10, clock.Now)
	want, _, err := replica.Mint("r", s.QencodeSigner, g, l)
	if err != nil || got.tok.Get("auth") != want.Get("auth") {
		t.Fatalf("the miss's token is not this step's (%v)", err)
	}
	if left := got.exp.Sub(refresh); left < l.MinValidity {
		t.Fatalf("%s left, below the minimum validity", left)
	}
	if st := c.Stats(); st.Ahead != 0 || st.Signatures != 2 {
		t.Errorf("stats %+v, want 2 signatures and none ahead", st)
	}
}
