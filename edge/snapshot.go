package edge

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/signgate/signgate/signer"
)

// snapshot is what the hot path reads: every verifying key by kid, bucket
// keys and stream keys apart, and the policy in force for every configured
// bucket. It is never mutated once published; a change publishes a new
// one.
type snapshot struct {
	keys     signer.Keys       // bucket keys; Bucket is the key's bucket
	streams  signer.Keys       // stream keys; Bucket is the key's stream_id
	pems     map[string][]byte // kid -> PEM the key was parsed from
	policies map[string]Policy // configured bucket -> policy in force
}

// owner returns the keys of snapshot s that a stored key belongs in, and
// the name it is verified against: its bucket's, or its stream's; nil for
// a key with neither or both, which opens nothing.
func (s *snapshot) owner(k Key) (signer.Keys, string) {
	switch {
	case k.Bucket != "" && k.StreamID == "":
		return s.keys, k.Bucket
	case k.StreamID != "" && k.Bucket == "":
		return s.streams, k.StreamID
	}
	return nil, ""
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
	_, err := e.refreshed(ctx)
	return err
}

// refreshed is Refresh, returning the store version now applied (0
// without a Fleet store).
func (e *Edge) refreshed(ctx context.Context) (int64, error) {
	e.refreshMu.Lock()
	defer e.refreshMu.Unlock()
	v, err := e.refresh(ctx)
	now := e.now()
	e.metrics.refreshed(err, now)
	if err != nil {
		return 0, err
	}
	e.freshAt.Store(now.UnixNano())
	if e.fleet != nil {
		e.applied.Store(v)
		e.metrics.appliedVersion.Set(float64(v))
		if v > e.recorded {
			// A failure is logged only: the next heartbeat records it.
			if err := e.fleet.Applied(ctx, e.id, v); err != nil {
				e.log.Warn("record the applied store version", "version", v, "err", err)
			} else {
				e.recorded = v
			}
		}
	}
	return v, nil
}

// refresh is Refresh under refreshMu. With a Fleet store, it reads the
// store version first, so that the keys and policies read after hold at
// least every change up to it, and returns it.
func (e *Edge) refresh(ctx context.Context) (int64, error) {
	ctx, end := e.traceSpan(ctx, SpanRefresh)
	var version int64
	var err error
	defer func() { end(err) }()
	if e.fleet != nil {
		var v int64
		v, err = traced(e, ctx, SpanStoreVersion, e.fleet.Version)
		if err != nil {
			return 0, err
		}
		version = v
	}
	keys, err := traced(e, ctx, SpanStoreKeys, e.store.Keys)
	if err != nil {
		return 0, err
	}
	stored, err := traced(e, ctx, SpanStorePolicies, e.store.Policies)
	if err != nil {
		return 0, err
	}
	old := e.snap.Load()
	next := &snapshot{
		keys:     make(signer.Keys, len(keys)),
		streams:  signer.Keys{},
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
		into, name := next.owner(k)
		if into == nil {
			e.log.Error("stored signing key has not exactly one of a bucket and a stream id; its tokens are refused", "kid", k.ID)
			continue
		}
		if old != nil && bytes.Equal(old.pems[k.ID], k.PublicKey) {
			if was, _ := old.owner(k); was[k.ID].Bucket == name && was[k.ID].Alg() != "" {
				// Unchanged: keep the parsed key, whose pointer cached
				// verifications are checked against.
				into[k.ID], next.pems[k.ID] = was[k.ID], old.pems[k.ID]
				continue
			}
		}
		pub, err := signer.ParseVerifyingKey(k.ID, name, k.PublicKey)
		if err != nil {
			// Fail closed for this key only: its tokens are refused.
			e.log.Error("stored signing key is unusable; its tokens are refused", "kid", k.ID, "err", err)
			continue
		}
		into[k.ID] = pub
		next.pems[k.ID] = k.PublicKey
	}
	e.publish(old, next)
	return version, nil
}

// publish makes next the snapshot in force and purges the token cache if
// anything was revoked or a policy changed. The caller holds refreshMu.
func (e *Edge) publish(old, next *snapshot) {
	e.snap.Store(next)
	if old == nil {
		return
	}
	purge := !maps.Equal(old.policies, next.policies) || revoked(old.keys, next.keys) || revoked(old.streams, next.streams)
	if purge {
		e.tokens.purge()
		e.log.Info("keys or policies changed; verified-token cache purged", "keys", len(next.keys), "stream_keys", len(next.streams))
	}
}

// revoked reports whether a key of old is gone from next, or changed
// there (another public key, or another bucket or stream).
func revoked(old, next signer.Keys) bool {
	for kid, k := range old {
		if nk, ok := next[kid]; !ok || !nk.Same(k) || nk.Bucket != k.Bucket {
			return true
		}
	}
	return false
}

// changed brings the snapshot up to date after a write through this edge,
// and returns the store version applied (see refreshed). When the store
// cannot be read back, fallback applies the write to a copy of the
// snapshot in force, so a revocation never waits for the store; ok is
// then false.
func (e *Edge) changed(ctx context.Context, fallback func(*snapshot)) (v int64, ok bool) {
	v, err := e.refreshed(ctx)
	if err != nil && ctx.Err() == nil {
		// Once more: the write went through, so the store answers, and a
		// pooled connection that died (a restarted database) is gone now.
		v, err = e.refreshed(ctx)
	}
	if err == nil {
		return v, true
	}
	e.log.Error("refresh after a write failed; applying the write locally", "err", err)
	e.refreshMu.Lock()
	defer e.refreshMu.Unlock()
	old := e.snap.Load()
	next := &snapshot{keys: maps.Clone(old.keys), streams: maps.Clone(old.streams), pems: maps.Clone(old.pems), policies: maps.Clone(old.policies)}
	fallback(next)
	e.publish(old, next)
	return 0, false
}

// dropKey is the fallback of a key deletion.
func dropKey(id string) func(*snapshot) {
	return func(s *snapshot) {
		delete(s.keys, id)
		delete(s.streams, id)
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
