package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
)

// Database names the edge's store: an SQLite file path, or a PostgreSQL
// URL (postgres:// or postgresql://). A URL's password is a secret:
// printing, logging or encoding a Database shows the URL with every
// password masked (see Redacted); Reveal gives the value.
type Database string

// The schemes of a PostgreSQL URL.
const (
	schemePostgres   = "postgres://"
	schemePostgreSQL = "postgresql://"
)

// Reveal returns the value, password included.
func (d Database) Reveal() string { return string(d) }

// IsPostgres reports whether d is a PostgreSQL URL rather than a file.
func (d Database) IsPostgres() bool {
	s := strings.ToLower(string(d))
	return strings.HasPrefix(s, schemePostgres) || strings.HasPrefix(s, schemePostgreSQL)
}

// Redacted returns d fit for a log: a file path as it is; a URL with the
// password of its user info and of any query parameter whose name holds
// "password" (password, sslpassword) replaced by xxxxx. A URL that does
// not parse shows its scheme only.
func (d Database) Redacted() string {
	if !d.IsPostgres() {
		return string(d)
	}
	u, err := url.Parse(string(d))
	if err != nil {
		return d.scheme() + "REDACTED"
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return d.scheme() + "REDACTED"
	}
	masked := false
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q[k] = []string{"xxxxx"}
			masked = true
		}
	}
	if masked {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

func (d Database) scheme() string {
	if strings.HasPrefix(strings.ToLower(string(d)), schemePostgreSQL) {
		return schemePostgreSQL
	}
	return schemePostgres
}

// String implements fmt.Stringer: the redacted form.
func (d Database) String() string { return d.Redacted() }

// GoString implements fmt.GoStringer, for %#v.
func (d Database) GoString() string { return strconv.Quote(d.Redacted()) }

// LogValue implements slog.LogValuer.
func (d Database) LogValue() slog.Value { return slog.StringValue(d.Redacted()) }

// MarshalText keeps the password out of JSON and other encodings.
func (d Database) MarshalText() ([]byte, error) { return []byte(d.Redacted()), nil }

// check validates d; its messages never hold the value's password.
func (d Database) check() error {
	s := string(d)
	switch {
	case s == "":
		return errors.New("required: an SQLite file path or a postgres:// URL")
	case d.IsPostgres():
		return checkPostgresURL(s)
	case strings.Contains(s, "://"):
		scheme, _, _ := strings.Cut(s, "://")
		return fmt.Errorf("%q: unsupported scheme; want an SQLite file path or a postgres:// (postgresql://) URL", truncateValue(scheme))
	case strings.ContainsAny(s, "?#"):
		return errors.New("the file name must not contain ? or #")
	}
	return nil
}

// checkPostgresURL checks the syntax of a PostgreSQL URL. The driver
// checks the rest (parameters, reachability) when the edge starts.
// url.Parse's own errors quote the URL, password and all, so they are
// never passed on.
func checkPostgresURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a valid URL (its text is not shown, as it may hold a password); percent-encode special characters in the user name and password")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return errors.New("a PostgreSQL URL must not have a #fragment")
	}
	if _, err := url.ParseQuery(u.RawQuery); err != nil {
		return fmt.Errorf("%s: bad query string", Database(s).Redacted())
	}
	if db := strings.TrimPrefix(u.Path, "/"); strings.Contains(db, "/") {
		return fmt.Errorf("%s: the path must be a single database name", Database(s).Redacted())
	}
	return nil
}

// truncateValue shortens a value quoted in a message.
func truncateValue(s string) string {
	const max = 32
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
