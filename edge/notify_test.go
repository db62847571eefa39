package edge

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/internal/testenv"
	"github.com/signgate/signgate/signer"
)

// The PostgreSQL change listener (Notifier), against a real PostgreSQL;
// the helpers are in postgres_test.go.

// TestPostgresListenerReconnects kills the second edge's LISTEN
// connection, and deletes a key while it is gone: the edge reconnects,
// does a full refresh (the notification was lost with the connection),
// and refuses the key; later notifications arrive on the new connection.
func TestPostgresListenerReconnects(t *testing.T) {
	ctx := context.Background()
	dbURL := testenv.PostgresSchema(t)
	storeB := openPostgres(t, dbURL)
	storeB.listener.minBackoff = 500 * time.Millisecond // the deletion lands while B is away
	a, b := twoEdges(t, dbURL, storeB)
	bearer := a.bearer()
	if st, _, _ := a.call(http.MethodPut, "/v1/buckets/media/policy/authenticated", bearer, ""); st != http.StatusOK {
		t.Fatal("set policy")
	}
	eventually(t, propagation, "the other edge applies the policy", func() bool {
		st, _ := b.status(mediaHost, "/v/abc/seg0.ts")
		return st == http.StatusUnauthorized
	})
	k := a.addKey("key1.pem", "k1", "media")
	target := "/v/abc/seg0.ts?auth=" + sign(t, k, signer.Claims{URI: "/v/abc"})
	eventually(t, propagation, "the other edge learns k1", func() bool {
		st, _ := b.status(mediaHost, target)
		return st == http.StatusOK
	})
	pid := storeB.listenPID.Load()
	if pid == 0 {
		t.Fatal("the second edge learnt of k1 without a LISTEN connection")
	}

	var killed bool
	if err := pgAdmin(t, dbURL).QueryRow(ctx, `SELECT pg_terminate_backend($1, 5000)`, int64(pid)).Scan(&killed); err != nil || !killed {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, killed, err)
	}
	if st, m, _ := a.call(http.MethodDelete, "/v1/signing-keys/k1", bearer, ""); st != http.StatusOK {
		t.Fatalf("delete k1: %d %v", st, m)
	}
	away := storeB.listenPID.Load() == 0
	took := eventually(t, propagation, "the reconnected edge refuses k1", func() bool {
		st, reason := b.status(mediaHost, target)
		return st == http.StatusForbidden && reason == "unknown_key"
	})
	t.Logf("deleted while the listener was away: %v; refused %s after the DELETE", away, took.Round(time.Millisecond))
	eventually(t, propagation, "a new LISTEN connection", func() bool {
		p := storeB.listenPID.Load()
		return p != 0 && p != pid
	})
	logs := b.logs.String()
	for _, want := range []string{"change notifications interrupted; reconnecting", "listening for changes again"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the second edge's log does not say %q", want)
		}
	}
	if strings.Contains(logs, ":signgate@") {
		t.Error("the log shows the database password")
	}

	// Notifications flow on the new connection.
	k = a.addKey("key2.pem", "k2", "media")
	target = "/v/abc/seg0.ts?auth=" + sign(t, k, signer.Claims{URI: "/v/abc"})
	eventually(t, propagation, "the other edge learns k2", func() bool {
		st, _ := b.status(mediaHost, target)
		return st == http.StatusOK
	})
	if st, _, _ := a.call(http.MethodDelete, "/v1/signing-keys/k2", bearer, ""); st != http.StatusOK {
		t.Fatal("delete k2")
	}
	eventually(t, propagation, "the other edge refuses k2", func() bool {
		st, _ := b.status(mediaHost, target)
		return st == http.StatusForbidden
	})
}

// recv waits for a value on ch, failing t after limit; it reports whether
// ch is still open.
func recv(t *testing.T, ch <-chan struct{}, limit time.Duration, what string) bool {
	t.Helper()
	select {
	case _, ok := <-ch:
		return ok
	case <-time.After(limit):
		t.Fatalf("%s: nothing within %s", what, limit)
		return false
	}
}

// TestPostgresChanges is the Notifier on its own: a value when listening
// starts, one per write to keys or policies, a connection that survives
// idle pings, and a channel closed when ctx ends or the store closes.
func TestPostgresChanges(t *testing.T) {
	ctx := context.Background()
	dbURL := testenv.PostgresSchema(t)
	writer := openPostgres(t, dbURL)
	s := openPostgres(t, dbURL)
	s.listener.idle = 20 * time.Millisecond
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := s.Changes(wctx, log)
	if !recv(t, ch, propagation, "listening starts") {
		t.Fatal("channel closed")
	}
	pid := s.listenPID.Load()
	eventually(t, propagation, "three idle pings", func() bool {
		return strings.Count(logs.String(), "listener idle; connection alive") >= 3
	})
	pem := signer.EncodePublicKey(&testKey(t, "key1.pem").Key.PublicKey)
	for _, write := range []struct {
		name string
		do   func() error
	}{
		{"set policy", func() error { return writer.SetPolicy(ctx, "media", Authenticated) }},
		{"create key", func() error {
			return writer.CreateKey(ctx, Key{ID: "k1", Bucket: "media", PublicKey: pem, Created: time.Unix(1, 0)})
		}},
		{"rename key", func() error { _, err := writer.RenameKey(ctx, "k1", "n"); return err }},
		{"delete key", func() error { return writer.DeleteKey(ctx, "k1") }},
	} {
		if err := write.do(); err != nil {
			t.Fatalf("%s: %v", write.name, err)
		}
		if !recv(t, ch, propagation, write.name) {
			t.Fatalf("%s: channel closed", write.name)
		}
	}
	if p := s.listenPID.Load(); p != pid {
		t.Errorf("the listener reconnected (pid %d, then %d) though nothing failed", pid, p)
	}

	cancel()
	eventually(t, propagation, "the channel closes when ctx ends", func() bool {
		select {
		case _, ok := <-ch:
			return !ok
		default:
			return false
		}
	})

	ch = s.Changes(ctx, log)
	recv(t, ch, propagation, "listening starts again")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for closed := false; !closed; {
		select {
		case _, ok := <-ch:
			closed = !ok
		default:
			t.Fatal("Close returned before the listener stopped")
		}
	}
	if s.listenPID.Load() != 0 {
		t.Error("a LISTEN connection is left after Close")
	}
}
