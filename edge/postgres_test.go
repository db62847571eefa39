package edge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/testenv"
	"github.com/signgate/signgate/signer"
)

// These tests need a real PostgreSQL: SIGNGATE_TEST_POSTGRES (see
// internal/testenv). Each runs in a fresh schema of its own.

// openPostgres opens a Postgres store on dbURL, closed when t ends.
func openPostgres(t *testing.T, dbURL string) *Postgres {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := OpenPostgres(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// pgAdmin is a connection of the test's own to the database at dbURL, for
// what no edge does: SQL by hand, killing a backend.
func pgAdmin(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// eventually polls cond every 2 ms until it holds, failing t after limit,
// and returns how long it took.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %s", what, limit)
		}
		<-tick.C
	}
	return time.Since(start)
}

// status GETs target on host from h's media listener and returns the
// status and the refusal reason, if any.
func (h *harness) status(host, target string) (int, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.media.URL+target, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Host = host
	resp, err := h.media.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Signgate-Reason")
}

// twoEdges starts two edges on one PostgreSQL schema, as two hosts would
// run them. Their periodic refresh is an hour, so that within a test only
// notifications carry changes across. storeB, when not nil, is the second
// edge's store (the caller closes it); otherwise each edge opens its own
// from cfg.DB.
func twoEdges(t *testing.T, dbURL string, storeB Store) (a, b *harness) {
	t.Helper()
	clock := newClock()
	cfg := func() config.Edge {
		c := baseConfig(t, t.TempDir())
		c.DB = config.Database(dbURL)
		c.Refresh = time.Hour
		return c
	}
	return startHarness(t, cfg(), clock), startHarnessStore(t, cfg(), clock, storeB)
}

// propagation is how long a change made at one edge may take to reach
// another through NOTIFY: generous for a loaded machine, and still far
// below the hour-long periodic refresh of twoEdges.
const propagation = 5 * time.Second

func TestPostgresStore(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		s, err := OpenPostgres(context.Background(), testenv.PostgresSchema(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestPostgresConcurrentMigrations is several edges starting at once on an
// empty database: the advisory lock lets one migrate, and the others find
// the schema current.
func TestPostgresConcurrentMigrations(t *testing.T) {
	ctx := context.Background()
	dbURL := testenv.PostgresSchema(t)
	const edges = 6
	stores := make([]*Postgres, edges)
	errs := make([]error, edges)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range edges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			stores[i], errs[i] = OpenPostgres(ctx, dbURL)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("edge %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	rows, err := pgAdmin(t, dbURL).Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	latest := len(pgMigrations()) - 1
	if err != nil || len(versions) != latest || versions[latest-1] != latest {
		t.Fatalf("schema_migrations = %v, %v; want 1..%d once each", versions, err, latest)
	}
	for i, s := range stores {
		if v, err := s.SchemaVersion(ctx); err != nil || v != latest {
			t.Errorf("edge %d: SchemaVersion = %d, %v", i, v, err)
		}
	}
	if err := stores[0].SetPolicy(ctx, "media", Authenticated); err != nil {
		t.Fatal(err)
	}
	if m, err := stores[edges-1].Policies(ctx); err != nil || m["media"] != Authenticated {
		t.Errorf("another edge reads %v, %v", m, err)
	}
	// Opening a current schema again changes nothing.
	openPostgres(t, dbURL)
	var n int
	if err := pgAdmin(t, dbURL).QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != latest {
		t.Errorf("%d migration rows after a reopen, %v", n, err)
	}
}

func TestPostgresRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	dbURL := testenv.PostgresSchema(t)
	s, err := OpenPostgres(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := pgAdmin(t, dbURL).Exec(ctx, `INSERT INTO schema_migrations (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	s, err = OpenPostgres(ctx, dbURL)
	if err == nil {
		s.Close()
		t.Fatal("opened a database with schema version 99")
	}
	if !strings.Contains(err.Error(), "schema version 99 is newer") {
		t.Errorf("error = %v", err)
	}
}

// withPassword returns dbURL with its password replaced.
func withPassword(t *testing.T, dbURL, pw string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String()
}

// TestOpenPostgresErrors: every failure says what went wrong, and never
// shows the URL's password.
func TestOpenPostgresErrors(t *testing.T) {
	dbURL := testenv.PostgresSchema(t)
	const secret = "pw-never-shown-7f3a"
	missingSchema := func() string {
		u, _ := url.Parse(dbURL)
		q := u.Query()
		q.Set("search_path", "signgate_no_such_schema")
		u.RawQuery = q.Encode()
		return withPassword(t, u.String(), "signgate")
	}()
	for _, tc := range []struct {
		name, url, want string
	}{
		{"a file", "/var/lib/edge.db", "not a postgres:// URL"},
		{"unparsable", "postgres://signgate:" + secret + "@127.0.0.1:port/x", "not a valid connection URL"},
		{"bad parameter", "postgres://signgate:" + secret + "@127.0.0.1/x?sslmode=sometimes", "not a valid connection URL: sslmode is invalid"},
		{"bad parameter, password in the query", "postgres://127.0.0.1/x?user=signgate&password=" + secret + "&connect_timeout=soon",
			`not a valid connection URL: strconv.ParseInt: parsing "soon"`},
		{"wrong password", withPassword(t, dbURL, secret), "password authentication failed"},
		{"nothing listening", "postgres://signgate:" + secret + "@127.0.0.1:1/x?sslmode=disable", "127.0.0.1:1"},
		{"no schema", missingSchema, "no schema to create tables in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := OpenPostgres(ctx, tc.url)
			if err == nil {
				s.Close()
				t.Fatal("OpenPostgres succeeded")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// TestPostgresRevocationAcrossEdges: a key deleted, or a policy changed,
// at one edge reaches the other through NOTIFY, long before the periodic
// refresh (an hour here) would bring it. It also measures how long a
// revocation takes to reach the other edge (go test -v shows it).
func TestPostgresRevocationAcrossEdges(t *testing.T) {
	dbURL := testenv.PostgresSchema(t)
	a, b := twoEdges(t, dbURL, nil)
	bearer := a.bearer()

	if st, m, _ := a.call(http.MethodPut, "/v1/buckets/media/policy/authenticated", bearer, ""); st != http.StatusOK {
		t.Fatalf("set policy: %d %v", st, m)
	}
	eventually(t, propagation, "the other edge applies the policy", func() bool {
		st, _ := b.status(mediaHost, "/v/abc/seg0.ts")
		return st == http.StatusUnauthorized
	})

	// A key made through the first edge's API works at the second.
	st, m, _ := a.call(http.MethodPost, "/v1/signing-keys", bearer, `{"bucket":"media"}`)
	if st != http.StatusOK {
		t.Fatalf("create key: %d %v", st, m)
	}
	created := m["signing_key"].(map[string]any)
	kid := created["id"].(string)
	priv, err := signer.ParsePrivateKey([]byte(created["private_key"].(string)))
	if err != nil {
		t.Fatal(err)
	}
	key := &signer.SigningKey{ID: kid, Bucket: "media", Key: priv}
	target := "/v/abc/seg0.ts?auth=" + sign(t, key, signer.Claims{URI: "/v/abc", Expires: a.clock.Now().Add(time.Hour)})
	eventually(t, propagation, "the other edge learns the new key", func() bool {
		st, _ := b.status(mediaHost, target)
		return st == http.StatusOK
	})
	// Bearer tokens are shared too.
	if st, m, _ := b.call(http.MethodGet, "/v1/signing-keys", bearer, ""); st != http.StatusOK {
		t.Errorf("the first edge's bearer token at the second: %d %v", st, m)
	}

	if st, m, _ := a.call(http.MethodDelete, "/v1/signing-keys/"+kid, bearer, ""); st != http.StatusOK {
		t.Fatalf("delete key: %d %v", st, m)
	}
	eventually(t, propagation, "the other edge refuses the deleted key", func() bool {
		st, reason := b.status(mediaHost, target)
		return st == http.StatusForbidden && reason == "unknown_key"
	})

	// Measure: each round adds a key, lets both edges verify a token with
	// it (so the second has it in its verified-token cache too), deletes
	// it through the first edge's API and times until the second refuses.
	const rounds = 20
	k1 := testKey(t, "key1.pem")
	pub := signer.EncodePublicKey(&k1.Key.PublicKey)
	took := make([]time.Duration, 0, rounds)
	for i := range rounds {
		kid := fmt.Sprintf("round-%02d", i)
		if err := a.e.store.CreateKey(context.Background(), Key{ID: kid, Name: kid, Bucket: "media", PublicKey: pub, Created: a.clock.Now()}); err != nil {
			t.Fatal(err)
		}
		k := &signer.SigningKey{ID: kid, Bucket: "media", Key: k1.Key}
		target := "/v/abc/seg0.ts?auth=" + sign(t, k, signer.Claims{URI: "/v/abc", Expires: a.clock.Now().Add(time.Hour)})
		eventually(t, propagation, "the other edge learns "+kid, func() bool {
			st, _ := b.status(mediaHost, target)
			return st == http.StatusOK
		})
		if st, _ := b.status(mediaHost, target); st != http.StatusOK {
			t.Fatalf("%s: second request %d", kid, st)
		}
		start := time.Now()
		if st, m, _ := a.call(http.MethodDelete, "/v1/signing-keys/"+kid, bearer, ""); st != http.StatusOK {
			t.Fatalf("delete %s: %d %v", kid, st, m)
		}
		eventually(t, propagation, "the other edge refuses "+kid, func() bool {
			st, reason := b.status(mediaHost, target)
			return st == http.StatusForbidden && reason == "unknown_key"
		})
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	t.Logf("revocation reached the other edge (from the DELETE call to its first refusal), %d rounds: min %s, median %s, p90 %s, max %s",
		rounds, took[0].Round(10*time.Microsecond), took[rounds/2].Round(10*time.Microsecond),
		took[rounds*9/10].Round(10*time.Microsecond), took[rounds-1].Round(10*time.Microsecond))

	// A key deleted by hand in SQL is revoked at both edges: the trigger
	// notifies whoever writes.
	k := a.addKey("key2.pem", "by-hand", "media")
	target = "/v/abc/seg0.ts?auth=" + sign(t, k, signer.Claims{URI: "/v/abc"})
	eventually(t, propagation, "the other edge learns by-hand", func() bool {
		st, _ := b.status(mediaHost, target)
		return st == http.StatusOK
	})
	if _, err := pgAdmin(t, dbURL).Exec(context.Background(), `DELETE FROM signing_keys WHERE id = 'by-hand'`); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]*harness{"first": a, "second": b} {
		eventually(t, propagation, "the "+name+" edge refuses a key deleted in SQL", func() bool {
			st, _ := h.status(mediaHost, target)
			return st == http.StatusForbidden
		})
	}

	// Back to public, through the first edge.
	if st, _, _ := a.call(http.MethodPut, "/v1/buckets/media/policy/public", bearer, ""); st != http.StatusOK {
		t.Fatal("set policy public")
	}
	eventually(t, propagation, "the other edge serves the public bucket", func() bool {
		st, _ := b.status(mediaHost, "/v/abc/seg0.ts")
		return st == http.StatusOK
	})
}
