package proxy

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/edge"
	"github.com/signgate/signgate/signer"
)

// The cases of the grant-soundness report, each through a real edge that
// serves every file below: a token the gateway hands out must open only
// what its holder gets through the gateway, so each protected file the
// token is tried on must be refused by the edge (403), and each request
// the gateway cannot grant soundly is refused by the gateway.

// bucketFiles are the objects of the edge's one bucket.
var bucketFiles = []string{
	"/paid/movie.mp4", "/paid/trailers/t.mp4",
	"/media/a.mp4", "/media/v/b.mp4", "/media/premium/full.mp4",
	"/m/hls/x.ts", "/m/vip/v.mp4",
	"/fa/show/ep1.mp4", "/other/secret.mp4",
	"/free/a.mp4", "/free/gold/g.mp4",
	"/fb/secret3.mp4",
}

// startBucket runs an edge serving bucketFiles from one authenticated
// bucket that holds keys.
func startBucket(t *testing.T, keys ...*signer.SigningKey) *httptest.Server {
	t.Helper()
	root := t.TempDir()
	dir := writeObjects(t, root, bucketFiles)
	return serveBucket(t, root, dir, "grants", nil, keys...)
}

// writeObjects writes each of paths, holding "object PATH", under
// root/bucket, and returns that directory.
func writeObjects(t *testing.T, root string, paths []string) string {
	t.Helper()
	dir := filepath.Join(root, "bucket")
	for _, p := range paths {
		f := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("object "+p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// serveBucket runs an edge (its store in root) serving directory dir as
// the one authenticated bucket named bucket, which holds keys; with
// logs, its access log goes there.
func serveBucket(t *testing.T, root, dir, bucket string, logs *syncBuffer, keys ...*signer.SigningKey) *httptest.Server {
	t.Helper()
	_, srv := startBucketEdge(t, root, dir, bucket, logs, keys...)
	return srv
}

// startBucketEdge is serveBucket, which also returns the edge (for its
// control API).
func startBucketEdge(t *testing.T, root, dir, bucket string, logs *syncBuffer, keys ...*signer.SigningKey) (*edge.Edge, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	db := filepath.Join(root, "edge.db")
	store, err := edge.OpenSQLite(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	for _, k := range keys {
		if err := store.CreateKey(ctx, edge.Key{
			ID: k.ID, Name: k.ID, Bucket: bucket,
			PublicKey: signer.EncodePublicKey(&k.Key.PublicKey), Created: time.Unix(1_700_000_000, 0),
		}); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.DiscardHandler)
	if logs != nil {
		log = slog.New(slog.NewJSONHandler(logs, nil))
	}
	e, err := edge.New(config.Edge{
		Listen: "127.0.0.1:0", APIListen: config.APIOff, DB: config.Database(db),
		SingleBucket: true,
		Buckets:      []config.Bucket{{Name: bucket, Origin: dir, Policy: config.PolicyAuthenticated}},
		Leeway:       time.Minute, CacheSize: 1000, Refresh: time.Hour,
		AccessLog: logs != nil,
	}, edge.Options{Log: log, Now: newClock().Now, Store: store}) // the gateway's instant
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(func() {
		srv.Close()
		e.Close()
	})
	return e, srv
}

// routeEnv returns the variables of route n.
func routeEnv(n, prefix, base, key string, kv ...string) map[string]string {
	m := map[string]string{
		"SIGNGATE_ROUTES_" + n + "_PREFIX":   prefix,
		"SIGNGATE_ROUTES_" + n + "_CDN_BASE": base,
		"SIGNGATE_ROUTES_" + n + "_KEY_FILE": filepath.Join("testdata", key+".pem"),
		"SIGNGATE_ROUTES_" + n + "_KEY_ID":   key,
		"SIGNGATE_ROUTES_" + n + "_TTL":      "1h",
		"SIGNGATE_ROUTES_" + n + "_SCOPE":    "dir",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m["SIGNGATE_ROUTES_"+n+"_"+kv[i]] = kv[i+1]
	}
	return m
}

// tableFixture is a gateway on routes (routeEnv maps) with the app as
// upstream.
func tableFixture(t *testing.T, routes ...map[string]string) *fixture {
	env := map[string]string{"SIGNGATE_ROUTES_0_SCOPE": "", "SIGNGATE_ROUTES_0_TTL": ""}
	for _, r := range routes {
		for k, v := range r {
			env[k] = v
		}
	}
	return newFixture(t, env)
}

// edgeGet fetches u (a signed URL, whose path may be replaced by other)
// and returns the edge's status.
func edgeGet(t *testing.T, u, other string) int {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	if other != "" {
		pu.Path, pu.RawPath = other, ""
	}
	resp, err := http.Get(pu.String())
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// grantCase asks the gateway for path as hdr's holder, expects want, and
// when a URL comes back, checks that it opens its own file and none of
// closed.
type grantCase struct {
	name   string
	path   string // a gateway path, or /.signgate/sign?path=...
	hdr    map[string]string
	want   int
	closed []string
}

func runGrantCases(t *testing.T, f *fixture, cases []grantCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.do("GET", tc.path, tc.hdr)
			if resp.StatusCode != tc.want {
				t.Fatalf("GET %s: %d %s, want %d", tc.path, resp.StatusCode, body(t, resp), tc.want)
			}
			u := resp.Header.Get("Location")
			if strings.HasPrefix(tc.path, PathSign) && resp.StatusCode == http.StatusOK {
				var b struct{ URL string }
				if err := jsonDecode(resp.Body, &b); err != nil {
					t.Fatal(err)
				}
				u = b.URL
			}
			if u == "" {
				return
			}
			if got := edgeGet(t, u, ""); got != http.StatusOK {
				t.Errorf("the signed URL of %s: the edge answered %d, want 200", tc.path, got)
			}
			for _, p := range tc.closed {
				if got := edgeGet(t, u, p); got != http.StatusForbidden {
					t.Errorf("the token for %s opens %s: the edge answered %d, want 403", tc.path, p, got)
				}
			}
		})
	}
}

func TestGrantCasesThroughEdge(t *testing.T) {
	k1, k2 := testKey(t, "key1.pem"), testKey(t, "key2.pem")
	e := startBucket(t, k1, k2)
	local := strings.Replace(e.URL, "127.0.0.1", "localhost", 1)
	sess := func(f *fixture, claims jwt.MapClaims) map[string]string { return bearer(f.session("u", claims)) }

	t.Run("a public child of a restricted route", func(t *testing.T) {
		f := tableFixture(t,
			routeEnv("0", "/paid", e.URL, "key1", "REQUIRE", "plan=paid"),
			routeEnv("1", "/paid/trailers", e.URL, "key1", "PUBLIC", "true"))
		runGrantCases(t, f, []grantCase{
			{"the child's prefix names no object", "/paid/trailers", nil, 404, nil},
			{"a trailer, anonymously", "/paid/trailers/t.mp4", nil, 302, []string{"/paid/movie.mp4"}},
			{"a paid file, anonymously", "/paid/movie.mp4", nil, 401, nil},
		})
	})
	t.Run("the docs' example: /media and /media/premium", func(t *testing.T) {
		f := tableFixture(t,
			routeEnv("0", "/media", e.URL, "key1"),
			routeEnv("1", "/media/premium", e.URL, "key1", "REQUIRE", "plan=premium"))
		free, premium := sess(f, nil), sess(f, jwt.MapClaims{"plan": "premium"})
		runGrantCases(t, f, []grantCase{
			{"the prefix", "/media", free, 404, nil},
			{"the prefix through sign", PathSign + "?path=/media", free, 404, nil},
			{"a file beside the nested route", "/media/a.mp4", free, 302, []string{"/media/premium/full.mp4", "/media/v/b.mp4"}},
			{"a file away from it keeps its directory", "/media/v/b.mp4", free, 302, []string{"/media/premium/full.mp4", "/media/a.mp4"}},
			{"premium may have the whole directory", "/media/a.mp4", premium, 302, nil},
			{"premium's nested file", "/media/premium/full.mp4", premium, 302, []string{"/media/a.mp4"}},
		})
	})
	t.Run("sibling routes on one bucket", func(t *testing.T) {
		f := tableFixture(t,
			routeEnv("0", "/m/hls", e.URL, "key1", "PUBLIC", "true"),
			routeEnv("1", "/m/vip", e.URL, "key1", "REQUIRE", "plan=vip"))
		runGrantCases(t, f, []grantCase{
			{"the prefix", "/m/hls", nil, 404, nil},
			{"a segment", "/m/hls/x.ts", nil, 302, []string{"/m/vip/v.mp4"}},
		})
	})
	t.Run("a top-level prefix", func(t *testing.T) {
		f := tableFixture(t, routeEnv("0", "/fa", e.URL, "key1"))
		free := sess(f, nil)
		runGrantCases(t, f, []grantCase{
			{"the prefix", "/fa", free, 404, nil},
			{"a file", "/fa/show/ep1.mp4", free, 302, []string{"/other/secret.mp4"}},
		})
	})
	t.Run("a root route with file scope", func(t *testing.T) {
		f := tableFixture(t, routeEnv("0", "/", e.URL, "key1", "SCOPE", "file"))
		free := sess(f, nil)
		runGrantCases(t, f, []grantCase{
			{"the root", "/", free, 404, nil},
			{"a file", "/media/a.mp4", free, 302, []string{"/other/secret.mp4"}},
		})
	})
	t.Run("nested routes with different keys and base spellings", func(t *testing.T) {
		f := tableFixture(t,
			routeEnv("0", "/free", local, "key1"),
			routeEnv("1", "/free/gold", strings.ToUpper(local)+"/", "key2", "REQUIRE", "plan=gold"))
		free := sess(f, nil)
		runGrantCases(t, f, []grantCase{
			{"a free file", "/free/a.mp4", free, 302, []string{"/free/gold/g.mp4"}},
			{"gold without the claim", "/free/gold/g.mp4", free, 403, nil},
		})
	})
	t.Run("path parameters and look-alikes", func(t *testing.T) {
		f := tableFixture(t,
			routeEnv("0", "/media", e.URL, "key1", "PUBLIC", "true"),
			routeEnv("1", "/media/premium", e.URL, "key1", "REQUIRE", "plan=premium"))
		var cases []grantCase
		for _, p := range []string{
			"/media/..;/media/premium/full.mp4", "/media/%2e%2e;/media/premium/full.mp4", "/media/..%3b/media/premium/full.mp4",
			"/media;x/premium/full.mp4", "/media%00/premium/full.mp4", "/media%09/premium/full.mp4",
			"/MEDIA/premium/full.mp4", "/media./premium/full.mp4", "/%c0%ae%c0%ae/media/premium/full.mp4",
			"/media/PREMIUM/full.mp4", "/media/premium./full.mp4", "/media/premium;x/full.mp4",
			"/app%00/x", "/app/%c0%ae",
		} {
			cases = append(cases, grantCase{p, p, nil, 400, nil})
		}
		runGrantCases(t, f, cases)
		if r := f.app.lastRequest(); r != nil {
			t.Errorf("the app was sent %s", r.URL.Path)
		}
		if resp := f.do("GET", "/Media-kit/x.js", nil); resp.StatusCode != 200 {
			t.Errorf("a path that only starts alike: %d, want it passed through", resp.StatusCode)
		}
	})
}

// TestForwardAuthAsksAboutTheGrant: the app is asked about the canonical
// path, never the client's spelling, is told the grant, and one verdict
// serves the grant, never another.
func TestForwardAuthAsksAboutTheGrant(t *testing.T) {
	type asked struct{ uri, fwd, grant string }
	var got []asked
	check := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		got = append(got, asked{r.Header.Get("X-Original-URI"), r.Header.Get("X-Forwarded-Uri"), r.Header.Get(GrantHeader)})
		w.Header().Set("X-Auth-User", "alice")
	})
	e := startBucket(t, testKey(t, "key1.pem"))
	f := tableFixture(t,
		map[string]string{"SIGNGATE_AUTH": "forward", "SIGNGATE_FORWARD_URL": check.URL, "SIGNGATE_FORWARD_TTL": "1m"},
		routeEnv("0", "/fb", e.URL, "key1", "SCOPE", "file"),
		routeEnv("1", "/fa", e.URL, "key1"))
	for _, p := range []string{"/fb/%73ecret3.mp4", "/fb/secret3.mp4", "/fa/show/ep1.mp4", "/fa/show/ep2.mp4"} {
		if resp := f.do("GET", p, nil); resp.StatusCode != http.StatusFound {
			t.Fatalf("GET %s: %d %s", p, resp.StatusCode, body(t, resp))
		}
	}
	want := []asked{
		{"/fb/secret3.mp4", "/fb/secret3.mp4", "/fb/secret3.mp4"}, // once for both spellings
		{"/fa/show/ep1.mp4", "/fa/show/ep1.mp4", "/fa/show/"},     // once for the directory
	}
	if len(got) != len(want) {
		t.Fatalf("the app was asked %d times: %+v, want %+v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("check %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
