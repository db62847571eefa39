package proxy

import (
	"errors"
	"strings"
	"testing"

	"github.com/signgate/signgate/signer"
)

// claimFits is an oracle written apart from grant: a claim of route rt
// fits when it lies inside the route's bucket space and covers no longer
// route nested in rt's prefix.
func claimFits(rt *route, rs routes, uri string) bool {
	root := rt.prefix
	if rt.strip || rt.prefix == "/" {
		root = "/"
	}
	gp := "/"
	if uri != "" {
		gp = uri
	}
	if rt.strip && rt.prefix != "/" {
		gp = rt.prefix + gp
		if uri == "" {
			gp = rt.prefix
		}
	}
	if root != "/" && !signer.Covers(root, gp) {
		return false
	}
	for _, o := range rs {
		if o != rt && len(o.prefix) > len(rt.prefix) && rt.matches(o.prefix) && signer.Covers(gp, o.prefix) {
			return false
		}
	}
	return true
}

// grantTable is a route table with every kind of shadow: /media (dir) on
// cdn.example.com holds /media/premium (same origin, REQUIRE plan=premium),
// /media/free (same origin, public) and /media/ext (another origin,
// public); /strip strips its prefix on another origin with bucket scope.
func grantTable(t *testing.T) *fixture {
	// One key per host: a key is its bucket's.
	keys := map[string]string{"cdn": "key1", "CDN": "key1", "oth": "key2", "buc": "key3"}
	route := func(n, prefix, base string, kv ...string) map[string]string {
		host := strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")[:3]
		return routeEnv(n, prefix, base, keys[host], append([]string{"SCOPE", "file"}, kv...)...)
	}
	env := map[string]string{}
	for _, m := range []map[string]string{
		route("0", "/media", "https://cdn.example.com", "SCOPE", "dir"),
		route("1", "/media/premium", "https://CDN.example.com:443/", "REQUIRE", "plan=premium"),
		route("2", "/media/free", "http://cdn.example.com", "PUBLIC", "true"),
		route("3", "/media/ext", "https://other.example.com/ext", "PUBLIC", "true"),
		route("4", "/strip", "https://bucket.example.com", "STRIP_PREFIX", "true", "SCOPE", "bucket"),
	} {
		for k, v := range m {
			env[k] = v
		}
	}
	return newFixture(t, env)
}

func TestGrant(t *testing.T) {
	f := grantTable(t)
	media, strip := f.gw.routes.match("/media/x"), f.gw.routes.match("/strip/x")
	free, premium := &Principal{Subject: "f"}, &Principal{Subject: "p", Claims: map[string]any{"plan": "premium"}}
	for _, tc := range []struct {
		name string
		rt   *route
		bp   string
		want reach
		pr   *Principal
		uri  string
		err  error
	}{
		{"dir narrowed away from a route the user may not see", media, "/media/a.mp4", reachDir, free, "/media/a.mp4", nil},
		{"dir narrowed away from another origin's route", media, "/media/a.mp4", reachDir, premium, "/media/a.mp4", nil},
		{"anonymous narrowed too", media, "/media/a.mp4", reachDir, nil, "/media/a.mp4", nil},
		{"dir away from the nested routes", media, "/media/v/x.ts", reachDir, free, "/media/v", nil},
		{"a boundary is a boundary", media, "/media/premiumx/a.ts", reachDir, free, "/media/premiumx", nil},
		{"file", media, "/media/v/x.ts", reachFile, free, "/media/v/x.ts", nil},
		{"route scope clamped, then narrowed one segment", media, "/media/v/w/x.ts", reachRoute, free, "/media/v", nil},
		{"a directory a manifest names", media, "/media/v", reachTree, free, "/media/v", nil},
		{"a directory above a route the user may not see", media, "/media", reachTree, free, "", ErrGrant},
		{"the route's prefix names no object", media, "/media", reachDir, premium, "", ErrNotFound},
		{"the route's prefix, as a file", media, "/media", reachFile, premium, "", ErrNotFound},
		{"another route's path", media, "/media/premium/x.mp4", reachFile, premium, "", ErrGrant},
		{"path parameters", media, "/media/..;/media/premium/x.mp4", reachFile, premium, "", ErrPathParams},
		{"a stripping route's whole bucket", strip, "/v/x.ts", reachRoute, free, "", nil},
		{"a stripping route's dir at the bucket root", strip, "/x.ts", reachDir, free, "", nil},
		{"the bucket root names no object", strip, "/", reachDir, free, "", ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uri, err := f.gw.grant(tc.rt, tc.bp, tc.want, tc.pr)
			if !errors.Is(err, tc.err) || err == nil && uri != tc.uri {
				t.Fatalf("grant(%s, %q) = %q, %v; want %q, %v", tc.rt.prefix, tc.bp, uri, err, tc.uri, tc.err)
			}
			if err == nil && !claimFits(tc.rt, f.gw.routes, uri) && tc.pr != premium {
				t.Errorf("claim %q does not fit route %s", uri, tc.rt.prefix)
			}
		})
	}
	t.Run("a user who may see every nested route of the origin", func(t *testing.T) {
		// /media/ext is on another origin: even premium is narrowed.
		if uri, err := f.gw.grant(media, "/media/v/x.ts", reachRoute, premium); err != nil || uri != "/media/v" {
			t.Errorf("grant = %q, %v; want /media/v", uri, err)
		}
	})
}
