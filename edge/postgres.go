package edge

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/signgate/signgate/config"
)

// Postgres is a Store in a PostgreSQL database (github.com/jackc/pgx/v5),
// for several edges sharing their keys and policies. Its tables live in
// the connection's current schema (the first of search_path, which the
// URL may set: ?search_path=edge). Every write to keys or policies, made
// by any edge or by hand in SQL, notifies the channel NotifyChannel; an
// Edge on a Postgres store listens (Changes) and refreshes at once. Safe
// for concurrent use, by goroutines and by edges.
type Postgres struct {
	pool     *pgxpool.Pool
	redacted string // the URL, password masked, for messages

	// The listeners Changes started: Close stops them and waits.
	base     context.Context
	stopAll  context.CancelFunc
	wg       sync.WaitGroup
	listener listenerTiming
	// listenPID is the backend PID of the newest LISTEN connection, 0
	// while there is none: for operators' logs and the reconnect test.
	listenPID atomic.Uint32
	// confirms fires at each notification on ConfirmChannel, waking the
	// calls waiting in Confirm.
	confirms broadcast
}

var (
	_ Store    = (*Postgres)(nil)
	_ Notifier = (*Postgres)(nil)
)

// NotifyChannel is the channel every write to keys or policies notifies,
// with the schema of the tables written as the payload, so that edges on
// other schemas of the same database ignore it.
const NotifyChannel = "signgate_edge"

// connectTimeout bounds a connection attempt when the URL sets no
// connect_timeout.
const connectTimeout = 10 * time.Second

// OpenPostgres connects to the PostgreSQL database at url (postgres:// or
// postgresql://; pgx's parameters, such as sslmode, search_path and
// pool_max_conns, apply) and brings its schema up to date under an
// advisory lock, so that edges starting together migrate once. A database
// written by a newer signgate is refused. The URL's password never appears
// in an error.
func OpenPostgres(ctx context.Context, url string) (*Postgres, error) {
	redacted := config.Database(url).Redacted()
	if !config.Database(url).IsPostgres() {
		return nil, fmt.Errorf("postgres: %q is not a postgres:// URL", redacted)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// Not wrapped: pgx's error keeps the URL, password and all.
		return nil, fmt.Errorf("postgres: %s: not a valid connection URL%s", redacted, parseDetail(url, err))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", redacted, err)
	}
	p := &Postgres{pool: pool, redacted: redacted, listener: defaultListenerTiming()}
	p.base, p.stopAll = context.WithCancel(context.Background())
	if err := p.migrate(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("postgres: %s: %w", redacted, err)
	}
	return p, nil
}

// SchemaVersion returns the version of the database's schema.
func (p *Postgres) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := p.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// Close stops the listeners Changes started, waits for them, and closes
// the connection pool.
func (p *Postgres) Close() error {
	p.stopAll()
	p.wg.Wait()
	p.pool.Close()
	return nil
}

// Policies implements Store.
func (p *Postgres) Policies(ctx context.Context) (map[string]Policy, error) {
	rows, err := p.pool.Query(ctx, `SELECT bucket, policy FROM policies`)
	if err != nil {
		return nil, fmt.Errorf("postgres: policies: %w", err)
	}
	m := map[string]Policy{}
	var b, pol string
	_, err = pgx.ForEachRow(rows, []any{&b, &pol}, func() error {
		m[b] = Policy(pol)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: policies: %w", err)
	}
	return m, nil
}

// SetPolicy implements Store.
func (p *Postgres) SetPolicy(ctx context.Context, bucket string, pol Policy) error {
	if _, err := ParsePolicy(string(pol)); err != nil {
		return err
	}
	if !isText(bucket) {
		return fmt.Errorf("%w: bucket name is not UTF-8 text", ErrBadRequest)
	}
	_, err := p.pool.Exec(ctx, `INSERT INTO policies (bucket, policy, updated_at) VALUES ($1, $2, now())
ON CONFLICT (bucket) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`, bucket, string(pol))
	if err != nil {
		return fmt.Errorf("postgres: set policy of %q: %w", truncate(bucket), err)
	}
	return nil
}

// CreateKey implements Store.
func (p *Postgres) CreateKey(ctx context.Context, k Key) error {
	if k.ID == "" || (k.Bucket == "") == (k.StreamID == "") || len(k.PublicKey) == 0 {
		return fmt.Errorf("%w: a key needs an id, a public key, and a bucket or a stream id", ErrBadRequest)
	}
	if !isText(k.ID, k.Name, k.Bucket, k.StreamID, string(k.PublicKey)) {
		return fmt.Errorf("%w: a key's fields must be UTF-8 text without NUL", ErrBadRequest)
	}
	tag, err := p.pool.Exec(ctx, `INSERT INTO signing_keys (id, name, bucket, stream_id, public_key, created_at)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
		k.ID, k.Name, nullable(k.Bucket), nullable(k.StreamID), string(k.PublicKey), k.Created)
	if err != nil {
		return fmt.Errorf("postgres: create key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("signing key %q: %w", truncate(k.ID), ErrExists)
	}
	return nil
}

// Keys implements Store.
func (p *Postgres) Keys(ctx context.Context) ([]Key, error) {
	rows, err := p.pool.Query(ctx, `SELECT `+keyColumns+` FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: keys: %w", err)
	}
	ks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Key, error) { return scanPgKey(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: keys: %w", err)
	}
	return ks, nil
}

// Key implements Store.
func (p *Postgres) Key(ctx context.Context, id string) (Key, error) {
	if !isText(id) {
		return Key{}, fmt.Errorf("signing key %q: %w", truncate(id), ErrNotFound)
	}
	k, err := scanPgKey(p.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM signing_keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Key{}, fmt.Errorf("signing key %q: %w", truncate(id), ErrNotFound)
	}
	if err != nil {
		return Key{}, fmt.Errorf("postgres: key: %w", err)
	}
	return k, nil
}

// RenameKey implements Store.
func (p *Postgres) RenameKey(ctx context.Context, id, name string) (Key, error) {
	if !isText(id) {
		return Key{}, fmt.Errorf("signing key %q: %w", truncate(id), ErrNotFound)
	}
	if !isText(name) {
		return Key{}, fmt.Errorf("%w: a key's name must be UTF-8 text without NUL", ErrBadRequest)
	}
	k, err := scanPgKey(p.pool.QueryRow(ctx, `UPDATE signing_keys SET name = $2 WHERE id = $1 RETURNING `+keyColumns, id, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return Key{}, fmt.Errorf("signing key %q: %w", truncate(id), ErrNotFound)
	}
	if err != nil {
		return Key{}, fmt.Errorf("postgres: rename key: %w", err)
	}
	return k, nil
}

// DeleteKey implements Store.
func (p *Postgres) DeleteKey(ctx context.Context, id string) error {
	if !isText(id) {
		return fmt.Errorf("signing key %q: %w", truncate(id), ErrNotFound)
	}
	tag, err := p.pool.Exec(ctx, `DELETE FROM signing_keys WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("postgres: delete key: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("signing key %q: %w", truncate(id), ErrNotFound)
	}
	return nil
}

// AddAccessToken implements Store.
func (p *Postgres) AddAccessToken(ctx context.Context, t AccessToken) error {
	_, err := p.pool.Exec(ctx, `INSERT INTO access_tokens (hash, api_key_hash, expires_at) VALUES ($1, $2, $3)`,
		t.Hash[:], t.APIKeyHash[:], t.Expires)
	if err != nil {
		return fmt.Errorf("postgres: add access token: %w", err)
	}
	return nil
}

// AccessToken implements Store.
func (p *Postgres) AccessToken(ctx context.Context, h [32]byte) (AccessToken, error) {
	var keyHash []byte
	var exp time.Time
	err := p.pool.QueryRow(ctx, `SELECT api_key_hash, expires_at FROM access_tokens WHERE hash = $1`, h[:]).Scan(&keyHash, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return AccessToken{}, fmt.Errorf("access token: %w", ErrNotFound)
	}
	if err != nil {
		return AccessToken{}, fmt.Errorf("postgres: access token: %w", err)
	}
	t := AccessToken{Hash: h, Expires: exp}
	copy(t.APIKeyHash[:], keyHash)
	return t, nil
}

// DeleteExpiredAccessTokens implements Store.
func (p *Postgres) DeleteExpiredAccessTokens(ctx context.Context, now time.Time) (int64, error) {
	tag, err := p.pool.Exec(ctx, `DELETE FROM access_tokens WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete expired access tokens: %w", err)
	}
	return tag.RowsAffected(), nil
}

// DeleteAccessToken implements Store.
func (p *Postgres) DeleteAccessToken(ctx context.Context, h [32]byte) error {
	if _, err := p.pool.Exec(ctx, `DELETE FROM access_tokens WHERE hash = $1`, h[:]); err != nil {
		return fmt.Errorf("postgres: delete access token: %w", err)
	}
	return nil
}

func scanPgKey(row pgx.Row) (Key, error) {
	var k Key
	var pub string
	var created time.Time
	if err := row.Scan(&k.ID, &k.Name, &k.Bucket, &k.StreamID, &pub, &created); err != nil {
		return Key{}, err
	}
	k.PublicKey = []byte(pub)
	k.Created = created.UTC()
	return k, nil
}

// parseDetail is the cause of a failed ParseConfig, without the URL pgx
// quotes and with every password in the URL masked; "" when the URL does
// not parse at all, where no password can be told apart for certain.
func parseDetail(raw string, err error) string {
	u, perr := neturl.Parse(raw)
	if perr != nil {
		return ""
	}
	cause := errors.Unwrap(err)
	if cause == nil {
		return ""
	}
	msg := cause.Error()
	var secrets []string
	if pw, ok := u.User.Password(); ok {
		secrets = append(secrets, pw)
	}
	for k, vs := range u.Query() {
		if strings.Contains(strings.ToLower(k), "password") {
			secrets = append(secrets, vs...)
		}
	}
	for _, s := range secrets {
		for _, form := range []string{s, neturl.QueryEscape(s), neturl.PathEscape(s)} {
			if form != "" {
				msg = strings.ReplaceAll(msg, form, "xxxxx")
			}
		}
	}
	return ": " + msg
}

// isText reports whether every s can be a PostgreSQL text value: valid
// UTF-8 without NUL. Anything else could never have been stored.
func isText(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return false
		}
	}
	return true
}
