package edge

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/testenv"
	"github.com/signgate/signgate/signer"
)

// Keys stored before schema 2 (ids of 32 hex digits, "" for no name) keep
// their ids and keep opening files once the schema is migrated; their
// unnamed ones read null, and new keys get UUIDs beside them.

const (
	oldUnnamed = "6560300f7f6723d2f86d89b8330452b6"
	oldNamed   = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
)

// v1Keys are the rows a schema-1 database holds: the id, the name, the
// bucket or the stream, and the public key of testdata/key1.pem.
func v1Keys(t *testing.T) [][]any {
	pem := string(signer.EncodePublicKey(&testKey(t, "key1.pem").Key.PublicKey))
	return [][]any{
		{oldUnnamed, "", "other", nil, pem, int64(1_700_000_000)},
		{oldNamed, "legacy", nil, "live-7", pem, int64(1_700_000_001)},
	}
}

// oldEdgeKey is the row an edge of the previous version writes for a key
// created without a name.
func oldEdgeKey(t *testing.T) []any {
	pem := string(signer.EncodePublicKey(&testKey(t, "key2.pem").Key.PublicKey))
	return []any{"a1b2c3d4e5f60718293a4b5c6d7e8f90", "", "other", nil, pem, int64(1_700_000_002)}
}

// checkOldEdgeWrite wants the key oldEdgeKey wrote shown with a null name.
func checkOldEdgeWrite(t *testing.T, h *harness) {
	t.Helper()
	st, raw := h.rawCall("GET", "/v1/signing-keys/a1b2c3d4e5f60718293a4b5c6d7e8f90", h.bearer(), "")
	top := object(t, "previous edge's key", raw, oneKey())
	var k map[string]json.RawMessage
	json.Unmarshal(top["signing_key"], &k)
	if err := isNull(k["name"]); st != http.StatusOK || err != nil {
		t.Errorf("previous edge's key: %d, name %v", st, err)
	}
}

// checkMigrated runs against an edge opened on a schema-1 database that
// v1Keys filled; nulls counts the keys whose name is SQL NULL.
func checkMigrated(t *testing.T, h *harness, version func() (int, error), nulls func() int) {
	if v, err := version(); err != nil || v != 2 {
		t.Fatalf("schema version %d, %v; want 2", v, err)
	}
	if n := nulls(); n != 1 {
		t.Errorf("%d keys with a NULL name, want 1 (the unnamed old key)", n)
	}
	tok := h.bearer()
	st, raw := h.rawCall("GET", "/v1/signing-keys/"+oldUnnamed, tok, "")
	top := object(t, "old key", raw, oneKey())
	created := time.Unix(1_700_000_000, 0).UTC().Format(CreatedLayout)
	object(t, "old key: signing_key", top["signing_key"], map[string]field{
		"id":         isJSONText(oldUnnamed),
		"name":       isNull,
		"bucket":     isJSONText("other"),
		"stream_id":  isNull,
		"created":    isJSONText(created),
		"public_key": isString("PKIX PEM", func(s string) bool { return len(s) > 0 }),
	})
	if st != http.StatusOK {
		t.Fatalf("old key: %d", st)
	}
	st, m, _ := h.call("GET", "/v1/signing-keys/"+oldNamed, tok, "")
	if k, _ := m["signing_key"].(map[string]any); st != 200 || k["name"] != "legacy" || k["stream_id"] != "live-7" || k["bucket"] != nil {
		t.Errorf("old named key: %d %v", st, m)
	}

	// The old key still opens what it grants, and only that.
	old := testKey(t, "key1.pem")
	old.ID = oldUnnamed
	exp := h.clock.Now().Add(time.Hour)
	for _, tc := range []struct {
		uri    string
		status int
	}{{"/o.ts", 200}, {"/elsewhere", 403}} {
		tok := sign(t, old, signer.Claims{URI: tc.uri, Expires: exp})
		if st, reason := h.status(otherHost, "/o.ts?auth="+tok); st != tc.status {
			t.Errorf("old key, uri %s: %d %s, want %d", tc.uri, st, reason, tc.status)
		}
	}

	// Renamed, it keeps its id; a new key beside it gets a UUID.
	if st, m, _ := h.call("PUT", "/v1/signing-keys/"+oldUnnamed, tok, `{"name":"renamed"}`); st != 200 || m["signing_key"].(map[string]any)["id"] != oldUnnamed {
		t.Errorf("rename old key: %d %v", st, m)
	}
	_, raw = h.rawCall("POST", "/v1/signing-keys", tok, `{"bucket":"other"}`)
	top = object(t, "new key", raw, oneKey())
	var k struct{ ID string }
	if json.Unmarshal(top["signing_key"], &k); !uuidV4.MatchString(k.ID) {
		t.Errorf("new key id %q is not a UUID v4", k.ID)
	}
	if n := nulls(); n != 1 {
		t.Errorf("after rename and create, %d keys with a NULL name, want 1 (the new key)", n)
	}
}

func TestSQLiteMigratesFromV1(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	cfg := baseConfig(t, root)
	path := filepath.Join(root, "edge.db")
	cfg.DB = config.Database(path)

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`,
		migrations()[1],
		`INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, row := range v1Keys(t) {
		if _, err := db.ExecContext(ctx, `INSERT INTO signing_keys (id, name, bucket, stream_id, public_key, created_at) VALUES (?, ?, ?, ?, ?, ?)`, row...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	h := startHarness(t, cfg, newClock())
	s := h.e.store.(*SQLite)
	checkMigrated(t, h, func() (int, error) { return s.SchemaVersion(ctx) }, func() int {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM signing_keys WHERE name IS NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	})
	// An edge of the previous version, still on the file, writes "" for
	// no name: it is not refused, and it reads as null.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO signing_keys (id, name, bucket, stream_id, public_key, created_at) VALUES (?, ?, ?, ?, ?, ?)`, oldEdgeKey(t)...); err != nil {
		t.Fatalf("a previous edge's write: %v", err)
	}
	checkOldEdgeWrite(t, h)
}

func TestPostgresMigratesFromV1(t *testing.T) {
	ctx := context.Background()
	dbURL := testenv.PostgresSchema(t)
	admin := pgAdmin(t, dbURL)
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
		pgMigrations()[1],
		`INSERT INTO schema_migrations (version) VALUES (1)`,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, row := range v1Keys(t) {
		row[5] = time.Unix(row[5].(int64), 0)
		if _, err := admin.Exec(ctx, `INSERT INTO signing_keys (id, name, bucket, stream_id, public_key, created_at) VALUES ($1, $2, $3, $4, $5, $6)`, row...); err != nil {
			t.Fatal(err)
		}
	}

	cfg := baseConfig(t, t.TempDir())
	cfg.DB = config.Database(dbURL)
	h := startHarness(t, cfg, newClock())
	s := h.e.store.(*Postgres)
	checkMigrated(t, h, func() (int, error) { return s.SchemaVersion(ctx) }, func() int {
		var n int
		if err := admin.QueryRow(ctx, `SELECT COUNT(*) FROM signing_keys WHERE name IS NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	})
	// During a rolling upgrade, an edge of the previous version writes ""
	// for no name: it is not refused, and it reads as null.
	row := oldEdgeKey(t)
	row[5] = time.Unix(row[5].(int64), 0)
	if _, err := admin.Exec(ctx, `INSERT INTO signing_keys (id, name, bucket, stream_id, public_key, created_at) VALUES ($1, $2, $3, $4, $5, $6)`, row...); err != nil {
		t.Fatalf("a previous edge's write: %v", err)
	}
	checkOldEdgeWrite(t, h)
}
