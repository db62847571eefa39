package edge

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/signgate/signgate/signer"
)

// snapshot is what the hot path reads: every verifying key by kid, and the
// policy in force for every configured bucket. It is never mutated once
// published; a change publishes a new one.
type snapshot struct {
	keys     signer.Keys
	pems     map[string][]byte // kid -> PEM the key was parsed from
	policies map[string]Policy // configured bucket -> policy in force
}

// policy returns b's policy in force; an unknown bucket is authenticated,
// so that a gap fails closed.
func (s *snapshot) policy(b string) Policy {
	if p, ok := s.policies[b]; ok {
		return p
	}
	return Authenticated
}

// Refresh re-reads keys and policies from the store and publishes them. If
// a key disappeared or changed, or a policy changed, the verified-token
// cache is purged.
func (e *Edge) Refresh(ctx context.Context) error {
	e.refreshMu.Lock()
	defer e.refreshMu.Unlock()
	err := e.refresh(ctx)
	now := e.now()
	e.metrics.refreshed(err, now)
	if err == nil {
		e.freshAt.Store(now.UnixNano())
	}
	return err
}

// refresh is Refresh under refreshMu.
func (e *Edge) refresh(ctx context.Context) error {
	keys, err := e.store.Keys(ctx)
	if err != nil {
		return err
	}
	stored, err := e.store.Policies(ctx)
	if err != nil {
		return err
	}
	old := e.snap.Load()
	next := &snapshot{
		keys:     make(signer.Keys, len(keys)),
		pems:     make(map[string][]byte, len(keys)),
		policies: make(map[string]Policy, len(e.buckets)),
	}
	for _, b := range e.buckets {
		p, ok := stored[b.name]
		if !ok {
			p = b.defaultPolicy
		}
		next.policies[b.name] = p
	}
	for _, k := range keys {
		if old != nil && bytes.Equal(old.pems[k.ID], k.PublicKey) && old.keys[k.ID].Bucket == k.Bucket {
			// Unchanged: keep the parsed key, whose pointer cached
			// verifications are checked against.
			next.keys[k.ID], next.pems[k.ID] = old.keys[k.ID], old.pems[k.ID]
			continue
		}
		pub, err := signer.ParseVerifyingKey(k.ID, k.Bucket, k.PublicKey)
		if err != nil {
			// Fail closed for this key only: its tokens are refused.
			e.log.Error("stored signing key is unusable; its tokens are refused", "kid", k.ID, "err", err)
			continue
		}
		next.keys[k.ID] = pub
		next.pems[k.ID] = k.PublicKey
	}
	e.publish(old, next)
	return nil
}

// publish makes next the snapshot in force and purges the token cache if
// anything was revoked or a policy changed. The caller holds refreshMu.
func (e *Edge) publish(old, next *snapshot) {
	e.snap.Store(next)
	if old == nil {
		return
	}
	purge := !maps.Equal(old.policies, next.policies)
	for kid, k := range old.keys {
		if nk, ok := next.keys[kid]; !ok || nk.Key != k.Key || nk.Bucket != k.Bucket {
			purge = true
			break
		}
	}
	if purge {
		e.tokens.purge()
		e.log.Info("keys or policies changed; verified-token cache purged", "keys", len(next.keys))
	}
}

// changed brings the snapshot up to date after a write through this edge.
// When the store cannot be read back, fallback applies the write to a copy
// of the snapshot in force, so a revocation never waits for the store.
func (e *Edge) changed(ctx context.Context, fallback func(*snapshot)) {
	err := e.Refresh(ctx)
	if err == nil {
		return
	}
	e.log.Error("refresh after a write failed; applying the write locally", "err", err)
	e.refreshMu.Lock()
	defer e.refreshMu.Unlock()
	old := e.snap.Load()
	next := &snapshot{keys: maps.Clone(old.keys), pems: maps.Clone(old.pems), policies: maps.Clone(old.policies)}
	fallback(next)
	e.publish(old, next)
}

// dropKey is the fallback of a key deletion.
func dropKey(id string) func(*snapshot) {
	return func(s *snapshot) {
		delete(s.keys, id)
		delete(s.pems, id)
	}
}

// setPolicy is the fallback of a policy change.
func setPolicy(bucket string, p Policy) func(*snapshot) {
	return func(s *snapshot) { s.policies[bucket] = p }
}

// keyRecorder is a KeySet over one snapshot that remembers the key a
// verification used, so that the verified-token cache can tell later
// whether that key is still the one in force.
type keyRecorder struct {
	keys signer.Keys
	used signer.PublicKey
}

var _ signer.KeySet = (*keyRecorder)(nil)

// PublicKey implements signer.KeySet.
func (r *keyRecorder) PublicKey(kid string) (signer.PublicKey, bool) {
	k, ok := r.keys[kid]
	if ok {
		r.used = k
	}
	return k, ok
}

// stale reports whether the snapshot is older than
// SIGNGATE_EDGE_MAX_STALENESS: the store has not been read since, so a
// revocation made elsewhere could be missing. Authenticated buckets then
// fail closed.
func (e *Edge) stale() error {
	max := e.cfg.MaxStaleness
	if max <= 0 {
		return nil
	}
	if age := e.now().Sub(time.Unix(0, e.freshAt.Load())); age > max {
		return fmt.Errorf("%w: keys and policies last read %s ago, over SIGNGATE_EDGE_MAX_STALENESS (%s)", ErrStale, age.Round(time.Second), max)
	}
	return nil
}
