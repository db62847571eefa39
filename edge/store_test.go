package edge

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// testStore is the contract every Store meets. open returns a fresh,
// empty store; the suite closes it. A PostgreSQL store runs the same.
func testStore(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	pem := signer.EncodePublicKey(&testKey(t, "key1.pem").Key.PublicKey)
	created := time.Unix(1_750_000_000, 0).UTC()
	key := func(id, bucket, stream string) Key {
		return Key{ID: id, Name: "name-" + id, Bucket: bucket, StreamID: stream, PublicKey: pem, Created: created}
	}
	fresh := func(t *testing.T) Store {
		s := open(t)
		t.Cleanup(func() { s.Close() })
		return s
	}

	t.Run("policies", func(t *testing.T) {
		s := fresh(t)
		m, err := s.Policies(ctx)
		if err != nil || len(m) != 0 {
			t.Fatalf("empty store: %v, %v", m, err)
		}
		for _, step := range []struct {
			bucket string
			p      Policy
		}{{"a", Authenticated}, {"b", Public}, {"a", Public}, {"a", Authenticated}} {
			if err := s.SetPolicy(ctx, step.bucket, step.p); err != nil {
				t.Fatal(err)
			}
		}
		m, err = s.Policies(ctx)
		if err != nil || len(m) != 2 || m["a"] != Authenticated || m["b"] != Public {
			t.Errorf("Policies = %v, %v", m, err)
		}
		if err := s.SetPolicy(ctx, "a", "private"); !errors.Is(err, ErrBadRequest) {
			t.Errorf("SetPolicy(private) = %v, want ErrBadRequest", err)
		}
	})

	t.Run("keys", func(t *testing.T) {
		s := fresh(t)
		if ks, err := s.Keys(ctx); err != nil || len(ks) != 0 {
			t.Fatalf("empty store: %v, %v", ks, err)
		}
		k1, k2 := key("k1", "media", ""), key("k2", "", "stream-9")
		k2.Created = created.Add(time.Second)
		for _, k := range []Key{k2, k1} {
			if err := s.CreateKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateKey(ctx, k1); !errors.Is(err, ErrExists) {
			t.Errorf("duplicate CreateKey = %v, want ErrExists", err)
		}
		for _, bad := range []Key{key("", "media", ""), key("k3", "", ""), key("k4", "media", "s"), {ID: "k5", Bucket: "media"}} {
			if err := s.CreateKey(ctx, bad); !errors.Is(err, ErrBadRequest) {
				t.Errorf("CreateKey(%+v) = %v, want ErrBadRequest", bad.ID, err)
			}
		}
		ks, err := s.Keys(ctx)
		if err != nil || len(ks) != 2 || ks[0].ID != "k1" || ks[1].ID != "k2" {
			t.Fatalf("Keys = %+v, %v; want k1 then k2 (oldest first)", ks, err)
		}
		got, err := s.Key(ctx, "k2")
		if err != nil || got.StreamID != "stream-9" || got.Bucket != "" || string(got.PublicKey) != string(pem) || !got.Created.Equal(k2.Created) || got.Name != "name-k2" {
			t.Errorf("Key(k2) = %+v, %v", got, err)
		}
		if _, err := s.Key(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Key(nope) = %v, want ErrNotFound", err)
		}
		r, err := s.RenameKey(ctx, "k1", "renamed")
		if err != nil || r.Name != "renamed" || r.Bucket != "media" {
			t.Errorf("RenameKey = %+v, %v", r, err)
		}
		if _, err := s.RenameKey(ctx, "nope", "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("RenameKey(nope) = %v, want ErrNotFound", err)
		}
		if err := s.DeleteKey(ctx, "k1"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteKey(ctx, "k1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second DeleteKey = %v, want ErrNotFound", err)
		}
		if ks, _ := s.Keys(ctx); len(ks) != 1 || ks[0].ID != "k2" {
			t.Errorf("after delete, Keys = %+v", ks)
		}
	})

	t.Run("ids that are not text", func(t *testing.T) {
		// Ids come from request paths, so any bytes can arrive; none can
		// name a stored key.
		s := fresh(t)
		if err := s.CreateKey(ctx, key("k1", "media", "")); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"\xff\xfe", "k1\x00", "\x00"} {
			if _, err := s.Key(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("Key(%q) = %v, want ErrNotFound", id, err)
			}
			if _, err := s.RenameKey(ctx, id, "x"); !errors.Is(err, ErrNotFound) {
				t.Errorf("RenameKey(%q) = %v, want ErrNotFound", id, err)
			}
			if err := s.DeleteKey(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("DeleteKey(%q) = %v, want ErrNotFound", id, err)
			}
		}
		if _, err := s.Key(ctx, "k1"); err != nil {
			t.Errorf("k1 after odd ids: %v", err)
		}
	})

	t.Run("access tokens", func(t *testing.T) {
		s := fresh(t)
		now := created
		live := AccessToken{Hash: sha256.Sum256([]byte("live")), APIKeyHash: sha256.Sum256([]byte("k")), Expires: now.Add(time.Hour)}
		old := AccessToken{Hash: sha256.Sum256([]byte("old")), APIKeyHash: sha256.Sum256([]byte("k")), Expires: now.Add(-time.Second)}
		for _, tok := range []AccessToken{live, old} {
			if err := s.AddAccessToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.AccessToken(ctx, live.Hash)
		if err != nil || got.APIKeyHash != live.APIKeyHash || !got.Expires.Equal(live.Expires) {
			t.Errorf("AccessToken = %+v, %v", got, err)
		}
		if _, err := s.AccessToken(ctx, sha256.Sum256([]byte("nope"))); !errors.Is(err, ErrNotFound) {
			t.Errorf("AccessToken(nope) = %v, want ErrNotFound", err)
		}
		n, err := s.DeleteExpiredAccessTokens(ctx, now)
		if err != nil || n != 1 {
			t.Errorf("DeleteExpiredAccessTokens = %d, %v; want 1", n, err)
		}
		if _, err := s.AccessToken(ctx, old.Hash); !errors.Is(err, ErrNotFound) {
			t.Errorf("expired token still there: %v", err)
		}
		if _, err := s.AccessToken(ctx, live.Hash); err != nil {
			t.Errorf("live token gone: %v", err)
		}
		if err := s.DeleteAccessToken(ctx, live.Hash); err != nil {
			t.Errorf("DeleteAccessToken: %v", err)
		}
		if _, err := s.AccessToken(ctx, live.Hash); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted token still there: %v", err)
		}
		if err := s.DeleteAccessToken(ctx, live.Hash); err != nil {
			t.Errorf("DeleteAccessToken of a token not stored: %v", err)
		}
	})

	t.Run("concurrent writers", func(t *testing.T) {
		s := fresh(t)
		const workers, each = 8, 10
		var wg sync.WaitGroup
		errc := make(chan error, workers*each*4)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					id := fmt.Sprintf("w%d-%d", w, i)
					errc <- s.CreateKey(ctx, key(id, "media", ""))
					_, err := s.RenameKey(ctx, id, "r-"+id)
					errc <- err
					p := Public
					if i%2 == 0 {
						p = Authenticated
					}
					errc <- s.SetPolicy(ctx, fmt.Sprintf("b%d", w), p)
					if i%2 == 1 {
						errc <- s.DeleteKey(ctx, id)
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		ks, err := s.Keys(ctx)
		if err != nil || len(ks) != workers*each/2 {
			t.Fatalf("%d keys, %v; want %d", len(ks), err, workers*each/2)
		}
		for _, k := range ks {
			if k.Name != "r-"+k.ID {
				t.Errorf("key %s named %q", k.ID, k.Name)
			}
		}
		m, err := s.Policies(ctx)
		if err != nil || len(m) != workers || m["b0"] != Public {
			t.Errorf("Policies = %v, %v", m, err)
		}
	})
}

func TestSQLiteStore(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "edge.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestSQLiteSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "edge.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	pem := signer.EncodePublicKey(&testKey(t, "key1.pem").Key.PublicKey)
	if err := s.SetPolicy(ctx, "media", Authenticated); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateKey(ctx, Key{ID: "k1", Name: "n", Bucket: "media", PublicKey: pem, Created: time.Unix(1, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(ctx); err != nil || v != len(migrations())-1 {
		t.Errorf("SchemaVersion = %d, %v", v, err)
	}
	m, _ := s.Policies(ctx)
	k, err := s.Key(ctx, "k1")
	if m["media"] != Authenticated || err != nil || k.Bucket != "media" {
		t.Errorf("after reopen: policies %v, key %+v, %v", m, k, err)
	}
}

func TestSQLiteRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "edge.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := OpenSQLite(ctx, path); err == nil {
		s.Close()
		t.Fatal("opened a database with schema version 99")
	}
}

// TestSQLiteTwoHandles is two edges on one file: what one writes, the
// other reads, and concurrent opens migrate once.
func TestSQLiteTwoHandles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "edge.db")
	var a, b *SQLite
	var errA, errB error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a, errA = OpenSQLite(ctx, path) }()
	go func() { defer wg.Done(); b, errB = OpenSQLite(ctx, path) }()
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	defer a.Close()
	defer b.Close()
	if err := a.SetPolicy(ctx, "media", Authenticated); err != nil {
		t.Fatal(err)
	}
	if m, err := b.Policies(ctx); err != nil || m["media"] != Authenticated {
		t.Errorf("other handle reads %v, %v", m, err)
	}
	var n int
	if err := b.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d migration rows, %v; want 1", n, err)
	}
}

func TestOpenSQLiteErrors(t *testing.T) {
	ctx := context.Background()
	for _, p := range []string{"", "x.db?mode=ro", filepath.Join(t.TempDir(), "missing-dir", "edge.db")} {
		if s, err := OpenSQLite(ctx, p); err == nil {
			s.Close()
			t.Errorf("OpenSQLite(%q) succeeded", p)
		}
	}
}
