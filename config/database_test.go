package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestDatabaseRedacted(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		postgres       bool
	}{
		{"file", "/var/lib/signgate/edge.db", "/var/lib/signgate/edge.db", false},
		{"relative file", "signgate-edge.db", "signgate-edge.db", false},
		{"url with password", "postgres://edge:hunter2-pw@db.internal:5432/signgate?sslmode=verify-full",
			"postgres://edge:xxxxx@db.internal:5432/signgate?sslmode=verify-full", true},
		{"postgresql scheme", "postgresql://edge:hunter2-pw@db/signgate", "postgresql://edge:xxxxx@db/signgate", true},
		{"upper-case scheme", "POSTGRES://edge:hunter2-pw@db/signgate", "postgres://edge:xxxxx@db/signgate", true},
		{"no password", "postgres://edge@db/signgate", "postgres://edge@db/signgate", true},
		{"password parameter", "postgres://db/signgate?user=edge&password=hunter2-pw", "postgres://db/signgate?password=xxxxx&user=edge", true},
		{"sslpassword parameter", "postgres://edge@db/signgate?sslpassword=hunter2-pw&sslmode=require",
			"postgres://edge@db/signgate?sslmode=require&sslpassword=xxxxx", true},
		{"encoded password", "postgres://edge:hunter2%40pw@db/signgate", "postgres://edge:xxxxx@db/signgate", true},
		{"unparsable", "postgres://edge:hunter2-pw@db:port/x", "postgres://REDACTED", true},
		{"unparsable query", "postgresql://db/x?password=hunter2-pw&a=%zz", "postgresql://REDACTED", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Database(tc.in)
			if d.IsPostgres() != tc.postgres {
				t.Errorf("IsPostgres = %v", d.IsPostgres())
			}
			if got := d.Redacted(); got != tc.want {
				t.Errorf("Redacted = %q, want %q", got, tc.want)
			}
			if d.Reveal() != tc.in {
				t.Errorf("Reveal = %q", d.Reveal())
			}
			var logs bytes.Buffer
			slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "db", d, "cfg", Edge{DB: d})
			js, _ := json.Marshal(Edge{DB: d})
			for _, s := range []string{fmt.Sprint(d), fmt.Sprintf("%v %+v %#v %s", Edge{DB: d}, Edge{DB: d}, Edge{DB: d}, d), logs.String(), string(js)} {
				if strings.Contains(s, "hunter2") {
					t.Errorf("the password shows: %s", s)
				}
			}
		})
	}
}

func TestDatabaseCheck(t *testing.T) {
	// LoadEdge turns an empty SIGNGATE_EDGE_DB into the default, so the
	// empty value is checked directly.
	if err := Database("").check(); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf("check(\"\") = %v", err)
	}
}

func TestLoadEdgeDatabase(t *testing.T) {
	for _, tc := range []struct {
		name, db string
		want     string // "" for valid; else in the error
	}{
		{"file", "/var/lib/signgate/edge.db", ""},
		{"postgres", "postgres://edge:hunter2-pw@db.internal/signgate?sslmode=require", ""},
		{"postgresql, no host", "postgresql:///signgate", ""},
		{"file with query", "x.db?mode=ro", "SIGNGATE_EDGE_DB: the file name must not contain"},
		{"other scheme", "mysql://edge:hunter2-pw@db/x", `SIGNGATE_EDGE_DB: "mysql": unsupported scheme`},
		{"bad port", "postgres://edge:hunter2-pw@db:port/x", "SIGNGATE_EDGE_DB: not a valid URL"},
		{"bad escape", "postgres://edge:hunter2%zz@db/x", "SIGNGATE_EDGE_DB: not a valid URL"},
		{"fragment", "postgres://edge:hunter2-pw@db/x#frag", "SIGNGATE_EDGE_DB: a PostgreSQL URL must not have a #fragment"},
		{"bad query", "postgres://edge:hunter2-pw@db/x?a=%zz", "SIGNGATE_EDGE_DB: postgres://REDACTED: bad query string"},
		{"path", "postgres://edge:hunter2-pw@db/x/y", "SIGNGATE_EDGE_DB: postgres://edge:xxxxx@db/x/y: the path must be a single database name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := edgeEnv()
			m["SIGNGATE_EDGE_DB"] = tc.db
			c, err := LoadEdge(m)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.DB.Reveal() != tc.db {
					t.Errorf("DB = %q", c.DB.Reveal())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}
