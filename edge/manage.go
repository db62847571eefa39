package edge

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// The operations of the control API as Go methods, for the portal
// (package edge/console) and for the API's own handlers, so that both
// change keys and policies through the same code: each writes the store,
// refreshes the snapshot (purging the verified-token cache where a key or
// a policy went) and logs what changed, never a private key or a token.

// BucketInfo is a configured bucket as the portal shows it.
type BucketInfo struct {
	Name   string
	Region string   // "" when none is configured
	Hosts  []string // the host names mapped to it; none in single-bucket mode
	Policy Policy   // the policy in force
}

// Buckets returns every configured bucket, in configuration order, with
// the policy in force.
func (e *Edge) Buckets() []BucketInfo {
	snap := e.snap.Load()
	out := make([]BucketInfo, len(e.cfg.Buckets))
	for i, bc := range e.cfg.Buckets {
		out[i] = BucketInfo{Name: bc.Name, Region: bc.Region, Hosts: e.cfg.HostsOf(i), Policy: snap.policy(bc.Name)}
	}
	return out
}

// SetPolicy sets a configured bucket's policy, as PUT
// /v1/buckets/{bucket}/policy/{policy} does.
func (e *Edge) SetPolicy(ctx context.Context, bucket string, p Policy) error {
	if e.byName[bucket] == nil {
		return fmt.Errorf("%w: %q", ErrUnknownBucket, truncate(bucket))
	}
	if _, err := ParsePolicy(string(p)); err != nil {
		return err
	}
	if err := e.store.SetPolicy(ctx, bucket, p); err != nil {
		return storeErr(err)
	}
	e.changed(ctx, setPolicy(bucket, p))
	e.log.Info("bucket policy set", "bucket", bucket, "policy", p)
	return nil
}

// CreateKey makes a signing key for exactly one of a configured bucket and
// a live stream id, as POST /v1/signing-keys does, and returns it with its
// private half as PKCS#1 PEM: the one time that half exists outside this
// call, for it is never stored.
func (e *Edge) CreateKey(ctx context.Context, bucket, streamID, name string) (Key, config.Secret, error) {
	return e.CreateKeyAlg(ctx, bucket, streamID, name, "RS256")
}

// CreateKeyAlg is CreateKey for a key of algorithm alg: RS256 ("" too),
// or EdDSA, an Ed25519 key whose private half comes as PKCS#8 PEM.
func (e *Edge) CreateKeyAlg(ctx context.Context, bucket, streamID, name, alg string) (Key, config.Secret, error) {
	if err := e.checkCreate(CreateKeyRequest{Bucket: bucket, StreamID: streamID}); err != nil {
		return Key{}, "", err
	}
	if err := checkName(name); err != nil {
		return Key{}, "", err
	}
	var pub, privPEM []byte
	switch alg {
	case "", "RS256":
		priv, err := signer.GenerateKey(signer.MinKeyBits)
		if err != nil {
			return Key{}, "", err
		}
		pub, privPEM = signer.EncodePublicKey(&priv.PublicKey), signer.EncodePrivateKey(priv)
	case "EdDSA":
		priv := signer.GenerateEd25519Key()
		pub = signer.EncodeVerifyingKey(signer.PublicKey{Ed25519: priv.Public().(ed25519.PublicKey)})
		privPEM = signer.EncodeEd25519PrivateKey(priv)
	default:
		return Key{}, "", fmt.Errorf("%w: algorithm must be RS256 or EdDSA", ErrBadRequest)
	}
	k := Key{
		ID:        newKeyID(),
		Name:      name,
		Bucket:    bucket,
		StreamID:  streamID,
		PublicKey: pub,
		Created:   e.now().UTC().Truncate(time.Second),
	}
	if err := e.store.CreateKey(ctx, k); err != nil {
		return Key{}, "", storeErr(err)
	}
	e.changed(ctx, func(*snapshot) {}) // a new key can wait for the next refresh
	e.log.Info("signing key created", "kid", k.ID, "bucket", k.Bucket, "stream_id", k.StreamID)
	return k, config.Secret(privPEM), nil
}

// newKeyID returns a fresh key id as Qencode's are: a random (version 4)
// UUID, lower case, with dashes. Keys stored with an older form of id keep
// it: an id is only ever compared whole.
func newKeyID() string { return uuid.NewString() }

// Keys returns every signing key, oldest first, without private keys
// (none is stored).
func (e *Edge) Keys(ctx context.Context) ([]Key, error) {
	keys, err := e.store.Keys(ctx)
	return keys, storeErr(err)
}

// Key returns one signing key, or an error wrapping ErrNotFound.
func (e *Edge) Key(ctx context.Context, id string) (Key, error) {
	k, err := e.store.Key(ctx, id)
	return k, storeErr(err)
}

// RenameKey changes a key's name, as PUT /v1/signing-keys/{id} does.
func (e *Edge) RenameKey(ctx context.Context, id, name string) (Key, error) {
	if err := checkName(name); err != nil {
		return Key{}, err
	}
	k, err := e.store.RenameKey(ctx, id, name)
	if err != nil {
		return Key{}, storeErr(err)
	}
	e.log.Info("signing key renamed", "kid", k.ID)
	return k, nil
}

// DeleteKey deletes a key, as DELETE /v1/signing-keys/{id} does: every
// token signed with it fails from then on.
func (e *Edge) DeleteKey(ctx context.Context, id string) error {
	if err := e.store.DeleteKey(ctx, id); err != nil {
		return storeErr(err)
	}
	e.changed(ctx, dropKey(id))
	e.log.Info("signing key deleted", "kid", id)
	return nil
}

// IssueAccessToken exchanges a configured API key for a bearer token valid
// for AccessTokenTTL, as POST /v1/access_token/{api_key} does; an unknown
// key gives an error wrapping ErrUnauthorized. Only the token's SHA-256 is
// stored.
func (e *Edge) IssueAccessToken(ctx context.Context, apiKey config.Secret) (config.Secret, time.Time, error) {
	kh, ok := e.apiKeyHash(apiKey.Reveal())
	if !ok {
		return "", time.Time{}, fmt.Errorf("%w: unknown API key", ErrUnauthorized)
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails (Go 1.24+).
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	now := e.now()
	exp := now.Add(AccessTokenTTL).Truncate(time.Second)
	if err := e.store.AddAccessToken(ctx, AccessToken{Hash: sha256.Sum256([]byte(tok)), APIKeyHash: kh, Expires: exp}); err != nil {
		return "", time.Time{}, storeErr(err)
	}
	if n, err := e.store.DeleteExpiredAccessTokens(ctx, now); err != nil {
		e.log.Warn("delete expired access tokens", "err", err)
	} else if n > 0 {
		e.log.Info("deleted expired access tokens", "count", n)
	}
	e.log.Info("access token issued", "expires", exp.UTC().Format(time.RFC3339))
	return config.Secret(tok), exp, nil
}

// CheckAccessToken reports whether tok is a live bearer token issued for
// an API key that is still configured; if not, the error wraps
// ErrUnauthorized.
func (e *Edge) CheckAccessToken(ctx context.Context, tok config.Secret) error {
	if len(tok) > maxBearer {
		return fmt.Errorf("%w: bearer token too long", ErrUnauthorized)
	}
	// The lookup is by SHA-256, so timing tells nothing about the token.
	t, err := e.store.AccessToken(ctx, sha256.Sum256([]byte(tok.Reveal())))
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: unknown bearer token", ErrUnauthorized)
	case err != nil:
		return storeErr(err)
	case !e.now().Before(t.Expires):
		return fmt.Errorf("%w: bearer token expired", ErrUnauthorized)
	case !e.knownAPIKeyHash(t.APIKeyHash):
		return fmt.Errorf("%w: the API key of this bearer token was removed", ErrUnauthorized)
	}
	return nil
}

// RevokeAccessToken ends a bearer token at once (a portal sign-out). A
// token that is not stored is no error.
func (e *Edge) RevokeAccessToken(ctx context.Context, tok config.Secret) error {
	return storeErr(e.store.DeleteAccessToken(ctx, sha256.Sum256([]byte(tok.Reveal()))))
}
