// Package testenv decides, for end-to-end tests, whether the real programs
// and services they need are here. On a developer's machine a missing
// program skips the test and names what is missing; under CI=true nothing
// skips, so a missing program fails the run instead.
//
// Its functions are safe for concurrent use.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// CI reports whether the tests run in CI (CI is set to a true value).
func CI() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// Missing skips t, or fails it under CI, naming what is missing and a
// hint at how to get it.
func Missing(t testing.TB, what, hint string) {
	t.Helper()
	if CI() {
		t.Fatalf("%s is required under CI=true but missing (%s)", what, hint)
	}
	t.Skipf("skipping end-to-end test: %s is missing (%s); `make test` installs it", what, hint)
}

// Program returns the path of the named program, or skips t (fails it
// under CI) when it is not installed. Tests marked -short skip too.
func Program(t testing.TB, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("skipping end-to-end test in -short mode (needs %s)", name)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "program "+strconv.Quote(name), "not on PATH")
	}
	return p
}

// Postgres returns the URL of a PostgreSQL database the test may use, from
// SIGNGATE_TEST_POSTGRES, or skips t (fails it under CI) when none is set.
func Postgres(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping PostgreSQL test in -short mode")
	}
	u := os.Getenv("SIGNGATE_TEST_POSTGRES")
	if u == "" {
		Missing(t, "PostgreSQL", "SIGNGATE_TEST_POSTGRES is not set")
	}
	return u
}

// PostgresSchema returns the URL of the test database (see Postgres) with
// its search_path set to a fresh, empty schema, so that tests running at
// once, in this or another package, never see each other's tables. The
// schema is dropped when t ends.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := Postgres(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("SIGNGATE_TEST_POSTGRES is not a URL")
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "signgate_test_" + hex.EncodeToString(b[:])
	run := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := run("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("PostgreSQL at SIGNGATE_TEST_POSTGRES: create schema: %v", err)
	}
	t.Cleanup(func() {
		if err := run("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
