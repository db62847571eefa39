package edge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/signgate/signgate/config"
)

// Store errors. Store implementations wrap them with %w.
var (
	// ErrNotFound: no such key or access token.
	ErrNotFound = errors.New("not found")
	// ErrStore: the store could not be read or written (down,
	// unreachable, timed out). The API answers 503 store_unavailable with
	// Retry-After; media is served on from the last snapshot.
	ErrStore = errors.New("store unavailable")
	// ErrStale: the snapshot of keys and policies is older than
	// SIGNGATE_EDGE_MAX_STALENESS; authenticated buckets fail closed.
	ErrStale = errors.New("keys and policies too old")
	// ErrExists: a key with that id already exists.
	ErrExists = errors.New("already exists")
)

// Policy is a bucket's access policy.
type Policy string

// The policies a bucket can have.
const (
	Public        Policy = config.PolicyPublic
	Authenticated Policy = config.PolicyAuthenticated
)

// ParsePolicy reads "public" or "authenticated".
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case Public, Authenticated:
		return p, nil
	}
	return "", fmt.Errorf("%w: unknown policy %q, want public or authenticated", ErrBadRequest, truncate(s))
}

// Key is a signing key as stored: its public half and what it belongs to,
// exactly one of a bucket or a live stream. The private half is never
// stored.
type Key struct {
	ID        string // a UUID v4 for keys the API makes; older ids (32 hex digits) are kept as they are
	Name      string // "" when the key has none, which the API shows as null
	Bucket    string // "" for a stream key
	StreamID  string // "" for a bucket key
	PublicKey []byte // PEM, PKIX ("PUBLIC KEY")
	Created   time.Time
}

// AccessToken is an API bearer token as stored: the SHA-256 of the token,
// never the token, and the SHA-256 of the API key it was issued for, so
// that removing the API key from the configuration ends its tokens.
type AccessToken struct {
	Hash       [32]byte
	APIKeyHash [32]byte
	Expires    time.Time
}

// Store keeps bucket policies, signing keys and API access tokens. It must
// be safe for concurrent use, by several goroutines and, for a shared
// database, by several edges. Errors wrap ErrNotFound or ErrExists where
// they apply.
type Store interface {
	// Policies returns the policies set through SetPolicy, by bucket.
	// Buckets without one are absent.
	Policies(ctx context.Context) (map[string]Policy, error)
	// SetPolicy sets a bucket's policy.
	SetPolicy(ctx context.Context, bucket string, p Policy) error

	// CreateKey adds a key; a key with the same ID gives ErrExists.
	CreateKey(ctx context.Context, k Key) error
	// Keys returns every key, oldest first.
	Keys(ctx context.Context) ([]Key, error)
	// Key returns one key, or ErrNotFound.
	Key(ctx context.Context, id string) (Key, error)
	// RenameKey changes a key's name ("" for none) and returns the key,
	// or ErrNotFound.
	RenameKey(ctx context.Context, id, name string) (Key, error)
	// DeleteKey removes a key, or returns ErrNotFound.
	DeleteKey(ctx context.Context, id string) error

	// AddAccessToken stores an API access token.
	AddAccessToken(ctx context.Context, t AccessToken) error
	// AccessToken returns the token whose hash is h, or ErrNotFound.
	// Expired tokens may still be returned: the caller checks Expires.
	AccessToken(ctx context.Context, h [32]byte) (AccessToken, error)
	// DeleteExpiredAccessTokens removes the tokens expired at now.
	DeleteExpiredAccessTokens(ctx context.Context, now time.Time) (int64, error)
	// DeleteAccessToken removes the token whose hash is h; one that is
	// not stored is no error.
	DeleteAccessToken(ctx context.Context, h [32]byte) error

	// Close releases the store.
	Close() error
}

// storeErr marks an error of a store call as ErrStore, unless it is an
// answer rather than a failure (ErrNotFound, ErrBadRequest) or the
// caller's own cancellation.
func storeErr(err error) error {
	switch {
	case err == nil, errors.Is(err, ErrNotFound), errors.Is(err, ErrExists), errors.Is(err, ErrBadRequest), errors.Is(err, ErrStore),
		errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("%w: %w", ErrStore, err)
}
