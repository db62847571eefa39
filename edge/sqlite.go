package edge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver: pure Go, no cgo
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite is a Store in an SQLite database file (modernc.org/sqlite, pure
// Go). It runs in WAL mode with a busy timeout and immediate write
// transactions, so concurrent API calls, and several processes on one
// file, serialise their writes instead of failing. Safe for concurrent use.
type SQLite struct {
	db *sql.DB
}

var _ Store = (*SQLite)(nil)

// busyTimeout is how long a write waits for another writer's lock.
const busyTimeout = 10 * time.Second

// migrations are the schema, one step per version, applied in order and
// recorded in schema_migrations. Never edit a released step: add one.
// Times are Unix seconds, and the SQL stays plain enough to port.
func migrations() []string {
	return []string{
		1: `
CREATE TABLE policies (
	bucket     TEXT PRIMARY KEY,
	policy     TEXT NOT NULL CHECK (policy IN ('public', 'authenticated')),
	updated_at INTEGER NOT NULL
);
CREATE TABLE signing_keys (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	bucket     TEXT,
	stream_id  TEXT,
	public_key TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	CHECK ((bucket IS NULL) <> (stream_id IS NULL))
);
CREATE INDEX signing_keys_bucket ON signing_keys (bucket);
CREATE TABLE access_tokens (
	hash         BLOB PRIMARY KEY,
	api_key_hash BLOB NOT NULL,
	expires_at   INTEGER NOT NULL
);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);
`,
	}
}

// OpenSQLite opens (creating it when missing) the database at path and
// brings its schema up to date. A database written by a newer signgate,
// with a schema this one does not know, is refused.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: bad database file name %q", path)
	}
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	q.Set("_synchronous", "NORMAL")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s := &SQLite{db: db}
	if err := s.setUp(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return s, nil
}

// setUp switches the file to WAL (a persistent setting) and migrates it.
// While another process converts a new file to WAL, SQLite may answer
// SQLITE_BUSY at once, without waiting out the busy timeout; such a
// failure is retried, with backoff, for up to busyTimeout.
func (s *SQLite) setUp(ctx context.Context) error {
	deadline := time.Now().Add(busyTimeout)
	wait := 5 * time.Millisecond
	for {
		err := s.walAndMigrate(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

func (s *SQLite) walAndMigrate(ctx context.Context) error {
	var mode string
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
		return fmt.Errorf("journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, WAL could not be set", mode)
	}
	return s.migrate(ctx)
}

// isBusy reports an SQLITE_BUSY (or extended BUSY_*) error.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// migrate applies the missing migrations, each in its own transaction.
// The immediate transaction holds the write lock, so two processes
// starting on one file do not both apply a step.
func (s *SQLite) migrate(ctx context.Context) error {
	steps := migrations()
	latest := len(steps) - 1
	for v := 1; v <= latest; v++ {
		if err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at INTEGER NOT NULL
)`); err != nil {
				return fmt.Errorf("create schema_migrations: %w", err)
			}
			var cur int
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
				return err
			}
			if cur > latest {
				return fmt.Errorf("schema version %d is newer than this signgate knows (%d): upgrade signgate", cur, latest)
			}
			if cur >= v {
				return nil
			}
			if _, err := tx.ExecContext(ctx, steps[v]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, time.Now().Unix())
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion returns the version of the database's schema.
func (s *SQLite) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

func (s *SQLite) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Close implements Store.
func (s *SQLite) Close() error { return s.db.Close() }

// Policies implements Store.
func (s *SQLite) Policies(ctx context.Context) (map[string]Policy, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT bucket, policy FROM policies`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: policies: %w", err)
	}
	defer rows.Close()
	m := map[string]Policy{}
	for rows.Next() {
		var b, p string
		if err := rows.Scan(&b, &p); err != nil {
			return nil, fmt.Errorf("sqlite: policies: %w", err)
		}
		m[b] = Policy(p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: policies: %w", err)
	}
	return m, nil
}

// SetPolicy implements Store.
func (s *SQLite) SetPolicy(ctx context.Context, bucket string, p Policy) error {
	if _, err := ParsePolicy(string(p)); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO policies (bucket, policy, updated_at) VALUES (?, ?, ?)
ON CONFLICT (bucket) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`,
		bucket, string(p), time.Now().Unix())
	if err != nil {
		return fmt.Errorf("sqlite: set policy of %q: %w", bucket, err)
	}
	return nil
}

// CreateKey implements Store.
func (s *SQLite) CreateKey(ctx context.Context, k Key) error {
	if k.ID == "" || (k.Bucket == "") == (k.StreamID == "") || len(k.PublicKey) == 0 {
		return fmt.Errorf("%w: a key needs an id, a public key, and a bucket or a stream id", ErrBadRequest)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM signing_keys WHERE id = ?`, k.ID).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: create key: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("signing key %q: %w", k.ID, ErrExists)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (id, name, bucket, stream_id, public_key, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			k.ID, k.Name, nullable(k.Bucket), nullable(k.StreamID), string(k.PublicKey), k.Created.Unix())
		if err != nil {
			return fmt.Errorf("sqlite: create key: %w", err)
		}
		return nil
	})
}

const keyColumns = `id, name, COALESCE(bucket, ''), COALESCE(stream_id, ''), public_key, created_at`

// Keys implements Store.
func (s *SQLite) Keys(ctx context.Context) ([]Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	defer rows.Close()
	var ks []Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: keys: %w", err)
		}
		ks = append(ks, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	return ks, nil
}

// Key implements Store.
func (s *SQLite) Key(ctx context.Context, id string) (Key, error) {
	k, err := scanKey(s.db.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM signing_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Key{}, fmt.Errorf("signing key %q: %w", truncate(id), ErrNotFound)
	}
	if err != nil {
		return Key{}, fmt.Errorf("sqlite: key: %w", err)
	}
	return k, nil
}

// RenameKey implements Store.
func (s *SQLite) RenameKey(ctx context.Context, id, name string) (Key, error) {
	var k Key
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE signing_keys SET name = ? WHERE id = ?`, name, id)
		if err != nil {
			return fmt.Errorf("sqlite: rename key: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: rename key: %w", err)
		} else if n == 0 {
			return fmt.Errorf("signing key %q: %w", truncate(id), ErrNotFound)
		}
		k, err = scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM signing_keys WHERE id = ?`, id))
		return err
	})
	return k, err
}

// DeleteKey implements Store.
func (s *SQLite) DeleteKey(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM signing_keys WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: delete key: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("signing key %q: %w", truncate(id), ErrNotFound)
	}
	return nil
}

// AddAccessToken implements Store.
func (s *SQLite) AddAccessToken(ctx context.Context, t AccessToken) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO access_tokens (hash, api_key_hash, expires_at) VALUES (?, ?, ?)`,
		t.Hash[:], t.APIKeyHash[:], t.Expires.Unix())
	if err != nil {
		return fmt.Errorf("sqlite: add access token: %w", err)
	}
	return nil
}

// AccessToken implements Store.
func (s *SQLite) AccessToken(ctx context.Context, h [32]byte) (AccessToken, error) {
	var keyHash []byte
	var exp int64
	err := s.db.QueryRowContext(ctx, `SELECT api_key_hash, expires_at FROM access_tokens WHERE hash = ?`, h[:]).Scan(&keyHash, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return AccessToken{}, fmt.Errorf("access token: %w", ErrNotFound)
	}
	if err != nil {
		return AccessToken{}, fmt.Errorf("sqlite: access token: %w", err)
	}
	t := AccessToken{Hash: h, Expires: time.Unix(exp, 0)}
	copy(t.APIKeyHash[:], keyHash)
	return t, nil
}

// DeleteExpiredAccessTokens implements Store.
func (s *SQLite) DeleteExpiredAccessTokens(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM access_tokens WHERE expires_at <= ?`, now.Unix())
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired access tokens: %w", err)
	}
	return res.RowsAffected()
}

// DeleteAccessToken implements Store.
func (s *SQLite) DeleteAccessToken(ctx context.Context, h [32]byte) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM access_tokens WHERE hash = ?`, h[:]); err != nil {
		return fmt.Errorf("sqlite: delete access token: %w", err)
	}
	return nil
}

type scanner interface{ Scan(...any) error }

func scanKey(sc scanner) (Key, error) {
	var k Key
	var pub string
	var created int64
	if err := sc.Scan(&k.ID, &k.Name, &k.Bucket, &k.StreamID, &pub, &created); err != nil {
		return Key{}, err
	}
	k.PublicKey = []byte(pub)
	k.Created = time.Unix(created, 0).UTC()
	return k, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
