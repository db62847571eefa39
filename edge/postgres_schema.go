package edge

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrationLock is the first half of the advisory lock key that
// serialises migrations; the second is the hash of the schema's name.
const migrationLock = 0x5167 // "Sg"

// pgMigrations are the PostgreSQL schema, one step per version, applied in
// order under an advisory lock and recorded in schema_migrations, as
// SQLite's migrations are. Never edit a released step: add one.
func pgMigrations() []string {
	return []string{
		1: `
CREATE TABLE policies (
	bucket     TEXT PRIMARY KEY,
	policy     TEXT NOT NULL CHECK (policy IN ('public', 'authenticated')),
	updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE signing_keys (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	bucket     TEXT,
	stream_id  TEXT,
	public_key TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	CHECK ((bucket IS NULL) <> (stream_id IS NULL))
);
CREATE INDEX signing_keys_bucket ON signing_keys (bucket);
CREATE TABLE access_tokens (
	hash         BYTEA PRIMARY KEY,
	api_key_hash BYTEA NOT NULL,
	expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);

-- Any change to keys or policies, through an edge or by hand, tells every
-- listening edge at commit.
CREATE FUNCTION signgate_edge_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('` + NotifyChannel + `', TG_TABLE_SCHEMA);
	RETURN NULL;
END
$$;
CREATE TRIGGER policies_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policies
	FOR EACH STATEMENT EXECUTE FUNCTION signgate_edge_notify();
CREATE TRIGGER signing_keys_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON signing_keys
	FOR EACH STATEMENT EXECUTE FUNCTION signgate_edge_notify();
`,
		// The store version, bumped in the transaction of every write to
		// keys or policies, and the edges that confirm what they applied
		// (fleet.go). The notification keeps its payload, the schema, so
		// that edges of schema 1 still running during an upgrade go on
		// refreshing at once.
		2: `
CREATE TABLE store_version (
	one     BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
	version BIGINT NOT NULL
);
INSERT INTO store_version (one, version) VALUES (true, 1);
CREATE FUNCTION signgate_edge_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('UPDATE %I.store_version SET version = version + 1', TG_TABLE_SCHEMA);
	RETURN NULL;
END
$$;
CREATE TRIGGER policies_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policies
	FOR EACH STATEMENT EXECUTE FUNCTION signgate_edge_bump();
CREATE TRIGGER signing_keys_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON signing_keys
	FOR EACH STATEMENT EXECUTE FUNCTION signgate_edge_bump();
CREATE TABLE edges (
	id              TEXT PRIMARY KEY,
	started_at      TIMESTAMPTZ NOT NULL,
	heartbeat_at    TIMESTAMPTZ NOT NULL,
	applied_version BIGINT NOT NULL
);
`,
	}
}

// migrate applies the missing migrations in one transaction, holding an
// advisory lock for the schema, so that of several edges starting at once
// one migrates and the others then find the schema current.
func (p *Postgres) migrate(ctx context.Context) error {
	steps := pgMigrations()
	latest := len(steps) - 1
	return pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var schema *string
		if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		if schema == nil {
			return errors.New("no schema to create tables in: search_path names none that exists")
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, migrationLock, *schema); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var cur int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&cur); err != nil {
			return fmt.Errorf("schema version: %w", err)
		}
		if cur > latest {
			return fmt.Errorf("schema version %d is newer than this signgate knows (%d): upgrade signgate", cur, latest)
		}
		for v := cur + 1; v <= latest; v++ {
			if _, err := tx.Exec(ctx, steps[v]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
		}
		return nil
	})
}
