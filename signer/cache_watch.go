package signer

import (
	"fmt"
	"time"
)

// MintWatched is Mint that lets the caller watch the signature: on a miss
// that this call signs, watch is called with ahead false, within the
// call; on a refresh ahead that it starts, with ahead true, in the
// background, possibly after the call returned (so watch must not touch
// what the caller reads once the call returns). Either way watch gets the
// function that makes the signature, and must return what that function
// returns. A hit that starts no refresh, or a miss that another call's
// signature served, never calls watch; nor does a nil watch. The
// gateway's tracing wraps the signature in a span with it; the cache's
// rules are Mint's.
func (c *Cache) MintWatched(ns string, s Signer, g Grant, l Lifetime, watch func(ahead bool, sign func() (Token, error)) (Token, error)) (Token, time.Time, error) {
	if s == nil {
		return Token{}, time.Time{}, fmt.Errorf("signer: mint with a nil signer")
	}
	if g.Path == "" {
		g.Prefix = true
	}
	if watch == nil {
		return c.get(ns, s, g, l, func(g Grant, exp time.Time, _ bool) (Token, error) { return s.Mint(g, exp) })
	}
	return c.get(ns, s, g, l, func(g Grant, exp time.Time, ahead bool) (Token, error) {
		return watch(ahead, func() (Token, error) { return s.Mint(g, exp) })
	})
}
