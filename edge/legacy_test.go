package edge

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/testenv"
	"github.com/signgate/signgate/signer"
)

// Keys stored by earlier signgate edges (ids of 32 hex digits, "" for no
// name, the same schema) keep their ids and keep opening files; the API
// shows them in the new form, and new keys get UUIDs beside them. The
// SQLite schema does not change. PostgreSQL's schema 2 only adds the
// store version and the edges table (fleet.go) beside schema 1's tables
// and its notification, so edges of schema 1 still running during an
// upgrade read what the new ones write, and refresh at once; an edge of
// schema 1 started after the upgrade refuses the database.

const (
	oldUnnamed = "6560300f7f6723d2f86d89b8330452b6"
	oldNamed   = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
)

// oldKeys are the rows an earlier edge wrote: the id, the name, the
// bucket or the stream, the public key of testdata/key1.pem, and the
// creation time in Unix seconds.
func oldKeys(t *testing.T) [][]any {
	pem := string(signer.EncodePublicKey(&testKey(t, "key1.pem").Key.PublicKey))
	return [][]any{
		{oldUnnamed, "", "other", nil, pem, int64(1_700_000_000)},
		{oldNamed, "legacy", nil, "live-7", pem, int64(1_700_000_001)},
	}
}

// checkOldKeys runs against an edge on a database that oldKeys filled;
// version is its schema version, which must be want.
func checkOldKeys(t *testing.T, h *harness, want int, version func() (int, error)) {
	if v, err := version(); err != nil || v != want {
		t.Fatalf("schema version %d, %v; want %d", v, err, want)
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
	// What the new edge stored, an earlier edge reads: the same columns,
	// "" for no name.
	got, err := h.e.store.Key(context.Background(), k.ID)
	if err != nil || got.Name != "" || got.Bucket != "other" {
		t.Errorf("new key as stored: %+v, %v", got, err)
	}
}

func TestSQLiteKeepsOldKeys(t *testing.T) {
	ctx := context.Background()
	cfg := baseConfig(t, t.TempDir())
	s, err := OpenSQLite(ctx, cfg.DB.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range oldKeys(t) {
		if _, err := s.db.ExecContext(ctx, `INSERT INTO signing_keys (id, name, bucket, stream_id, public_key, created_at) VALUES (?, ?, ?, ?, ?, ?)`, row...); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	h := startHarness(t, cfg, newClock())
	checkOldKeys(t, h, 1, func() (int, error) { return h.e.store.(*SQLite).SchemaVersion(ctx) })
}

func TestPostgresKeepsOldKeys(t *testing.T) {
	ctx := context.Background()
	dbURL := testenv.PostgresSchema(t)
	// The schema as an earlier edge made it: version 1 alone.
	admin := pgAdmin(t, dbURL)
	if _, err := admin.Exec(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
INSERT INTO schema_migrations (version) VALUES (1);`+pgMigrations()[1]); err != nil {
		t.Fatal(err)
	}
	for _, row := range oldKeys(t) {
		row[5] = time.Unix(row[5].(int64), 0)
		if _, err := admin.Exec(ctx, `INSERT INTO signing_keys (id, name, bucket, stream_id, public_key, created_at) VALUES ($1, $2, $3, $4, $5, $6)`, row...); err != nil {
			t.Fatal(err)
		}
	}
	cfg := baseConfig(t, t.TempDir())
	cfg.DB = config.Database(dbURL)
	h := startHarness(t, cfg, newClock())
	checkOldKeys(t, h, 2, func() (int, error) { return h.e.store.(*Postgres).SchemaVersion(ctx) })
}
