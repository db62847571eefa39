package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/signgate/signgate/config"
)

// Attack tests: a review that did not write the grant change attacked it
// (1e30e8f..6f78bfa), and wrote each finding as a test that failed while
// it stood. They pass now; TestAttackRegressionSingleFileRoute pins a
// behaviour kept by design.

// attackEnv merges route maps over tableFixture's defaults.
func attackEnv(t *testing.T, routes ...map[string]string) map[string]string {
	env := map[string]string{"SIGNGATE_ROUTES_0_SCOPE": "", "SIGNGATE_ROUTES_0_TTL": ""}
	for _, r := range routes {
		for k, v := range r {
			env[k] = v
		}
	}
	return env
}

// acceptedBy reports whether the gateway's start-up takes the route table
// (the same defaults as newFixture).
func acceptedBy(t *testing.T, routes ...map[string]string) bool {
	t.Helper()
	env := map[string]string{
		"SIGNGATE_UPSTREAM":   "http://127.0.0.1:1",
		"SIGNGATE_AUTH":       "jwt",
		"SIGNGATE_JWT_SECRET": hmacSecret,
		"SIGNGATE_JWT_COOKIE": "session",
		"SIGNGATE_WATCH_KEYS": "false",
	}
	for k, v := range attackEnv(t, routes...) {
		if v != "" {
			env[k] = v
		}
	}
	_, err := config.LoadGateway(env)
	return err == nil
}

// Finding 1. Two routes with the same key (so, provably, the same bucket:
// a key belongs to exactly one bucket) but CDN bases spelled with two
// names of one host (localhost / 127.0.0.1; in production a custom
// domain beside the Qencode host) are taken for two origins. The start-up
// check then accepts a public stripping route beside a restricted one,
// and an anonymous user gets the restricted route's objects.
func TestAttackSameKeyTwoHostNamesStripOverRestricted(t *testing.T) {
	k1 := testKey(t, "key1.pem")
	e := startBucket(t, k1)
	local := strings.Replace(e.URL, "127.0.0.1", "localhost", 1)
	routes := []map[string]string{
		routeEnv("0", "/s", local, "key1", "STRIP_PREFIX", "true", "PUBLIC", "true"),
		routeEnv("1", "/paid", e.URL, "key1", "REQUIRE", "plan=paid"),
	}
	if !acceptedBy(t, routes...) {
		return // refused at start: sound
	}
	f := tableFixture(t, routes...)
	if resp := f.do("GET", "/paid/movie.mp4", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /paid/movie.mp4 anonymously: %d, want 401", resp.StatusCode)
	}
	resp := f.do("GET", "/s/paid/movie.mp4", nil)
	if resp.StatusCode == http.StatusFound && edgeGet(t, resp.Header.Get("Location"), "") == http.StatusOK {
		t.Errorf("a route table with one key (key1) on two spellings of one host was accepted, and an anonymous GET /s/paid/movie.mp4 opens the object of /paid (REQUIRE plan=paid) on the edge: %s",
			resp.Header.Get("Location"))
	}
}

// Finding 2. A CDN base path prefix is taken as part of the origin, so a
// stripping route on https://cdn/media is "another origin" than a
// restricted route on https://cdn. Its dir (or bucket) claim for a file
// at its top is uri="" (the whole bucket), which the edge takes for every
// object of the bucket, the restricted route's too.
func TestAttackBasePathPrefixStripRouteGrantsWholeBucket(t *testing.T) {
	k1 := testKey(t, "key1.pem")
	e := startBucket(t, k1)
	routes := []map[string]string{
		routeEnv("0", "/x", e.URL+"/media", "key1", "STRIP_PREFIX", "true", "PUBLIC", "true"),
		routeEnv("1", "/paid", e.URL, "key1", "REQUIRE", "plan=paid", "SCOPE", "file"),
	}
	if !acceptedBy(t, routes...) {
		return
	}
	f := tableFixture(t, routes...)
	resp := f.do("GET", "/x/a.mp4", nil)
	if resp.StatusCode != http.StatusFound {
		return // refused: sound
	}
	u := resp.Header.Get("Location")
	if got := edgeGet(t, u, ""); got != http.StatusOK {
		t.Logf("the signed URL itself: %d", got)
	}
	if got := edgeGet(t, u, "/paid/movie.mp4"); got != http.StatusForbidden {
		t.Errorf("anonymous GET /x/a.mp4 (route /x, CDN_BASE %s/media, STRIP_PREFIX, dir) got a token that opens /paid/movie.mp4 (REQUIRE plan=paid, CDN_BASE %s) on the edge: %d, want 403",
			e.URL, e.URL, got)
	}
}

// Finding 3. X-Signgate-Grant names a file grant without a trailing "/"
// ("/fa/show"), but the token's uri="/fa/show" opens everything below it
// (§1: a uri grants itself and everything below it). An app that does
// what the docs say (a grant ending in "/" is a directory; else a file)
// and refuses the directory /fa/show/ answers yes for the "file"
// /fa/show, and the token then opens /fa/show/ep1.mp4, which the same
// user is refused through the gateway.
func TestAttackForwardAuthFileGrantOpensDirectory(t *testing.T) {
	var asked []string
	check := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		g, uri := r.Header.Get(GrantHeader), r.Header.Get("X-Original-URI")
		asked = append(asked, uri+" grant="+g)
		// As the contract says: a grant opens its path and everything
		// below it, a file's as a directory's.
		if g == "/fa/show" || strings.HasPrefix(g, "/fa/show/") || strings.HasPrefix(uri, "/fa/show/") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Auth-User", "alice")
	})
	e := startBucket(t, testKey(t, "key1.pem"))
	f := tableFixture(t,
		map[string]string{"SIGNGATE_AUTH": "forward", "SIGNGATE_FORWARD_URL": check.URL, "SIGNGATE_FORWARD_TTL": "1m"},
		routeEnv("0", "/fa", e.URL, "key1", "SCOPE", "file"))
	if resp := f.do("GET", "/fa/show/ep1.mp4", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /fa/show/ep1.mp4: %d, want 401 (the app refuses it)", resp.StatusCode)
	}
	resp := f.do("GET", "/fa/show", nil)
	if resp.StatusCode != http.StatusFound {
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /fa/show: %d, want 401 (the app refuses the grant /fa/show)", resp.StatusCode)
		}
		return
	}
	if got := edgeGet(t, resp.Header.Get("Location"), "/fa/show/ep1.mp4"); got != http.StatusForbidden {
		t.Errorf("GET /fa/show (file scope) was granted after the app was asked %q; the token opens /fa/show/ep1.mp4, which the app refuses: edge %d, want 403",
			asked, got)
	}
}

// Finding 4. proxy.New does not run the start-up check of route spaces
// (config.Gateway.Validate), yet grant.go relies on it ("Validate refuses
// such tables at start, so no grant needs to reason about them"). An
// embedding program that builds a config.Gateway itself (route.go: "New
// may be handed a configuration that LoadGateway never saw") gets a
// gateway on a table whose rules do not hold.
func TestAttackNewSkipsRouteSpaceCheck(t *testing.T) {
	k1 := testKey(t, "key1.pem")
	e := startBucket(t, k1)
	env := map[string]string{
		"SIGNGATE_UPSTREAM":   "http://127.0.0.1:1",
		"SIGNGATE_AUTH":       "jwt",
		"SIGNGATE_JWT_SECRET": hmacSecret,
		"SIGNGATE_JWT_COOKIE": "session",
		"SIGNGATE_WATCH_KEYS": "false",
	}
	local := strings.Replace(e.URL, "127.0.0.1", "localhost", 1)
	for _, r := range []map[string]string{
		routeEnv("0", "/s", local, "key2", "STRIP_PREFIX", "true", "PUBLIC", "true"),
		routeEnv("1", "/paid", e.URL, "key1", "REQUIRE", "plan=paid"),
	} {
		for k, v := range r {
			env[k] = v
		}
	}
	cfg, err := config.LoadGateway(env)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Routes[0].CDNBase, cfg.Routes[0].KeyID = e.URL, "key1" // now one host, one key: Validate refuses it
	cfg.Routes[0].KeyFile = cfg.Routes[1].KeyFile
	if err := cfg.Validate(); err == nil {
		t.Fatal("Validate accepts the table; the test is wrong")
	}
	g, err := newFromEnv(cfg, Options{Now: newClock().Now})
	if err == nil {
		g.Close()
		t.Fatal("proxy.New accepted a table that config.Validate refuses (/s STRIP_PREFIX PUBLIC beside /paid REQUIRE plan=paid on one CDN base)")
	}
	if !strings.Contains(err.Error(), "SIGNGATE_ROUTES_0_PREFIX and SIGNGATE_ROUTES_1_PREFIX") {
		t.Errorf("New's error names no route: %v", err)
	}
}

// Finding 5. Manifest mode with forward-auth: the app is asked about the
// manifest with X-Signgate-Grant naming its directory (/media/show/),
// and says yes; the rewritten manifest then carries tokens for other
// directories of the route that the app refuses (/media/secret/), signed
// "on the strength of that yes". Whoever can place a playlist in the
// bucket (an uploader on a UGC site) gets tokens for another user's
// directory; the same user asking for it through the gateway is refused.
func TestAttackManifestSignsBeyondTheGrantTheAppSaw(t *testing.T) {
	var asked []string
	check := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		g, uri := r.Header.Get(GrantHeader), r.Header.Get("X-Original-URI")
		asked = append(asked, uri+" grant="+g)
		if strings.HasPrefix(g, "/media/secret/") || strings.HasPrefix(uri, "/media/secret/") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Auth-User", "mallory")
	})
	f, c := streamFixture(t, "manifest", map[string]string{
		"SIGNGATE_AUTH":           "forward",
		"SIGNGATE_FORWARD_URL":    check.URL,
		"SIGNGATE_FORWARD_TTL":    "1m",
		"SIGNGATE_ROUTES_0_SCOPE": "dir",
	})
	c.put("/media/show/evil.m3u8", "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n../secret/seg.ts\n#EXT-X-ENDLIST\n")
	c.put("/media/secret/seg.ts", "victim's segment")
	if resp := f.do("GET", "/media/secret/seg.ts", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /media/secret/seg.ts: %d, want 401 (the app refuses it)", resp.StatusCode)
	}
	resp := f.do("GET", "/media/show/evil.m3u8", nil)
	b := body(t, resp)
	if resp.StatusCode != http.StatusOK {
		return // refused: sound
	}
	for _, u := range uriLines(b) {
		if strings.Contains(u, "/media/secret/") && c.fetchOK(t, u) {
			t.Errorf("the app was asked only %q, yet the rewritten manifest holds a token that opens /media/secret/seg.ts: %s", asked, u)
		}
	}
}

// Finding 6. The look-alike refusal covers request paths only: a media
// URI in a rewritten manifest spelled as a case variant of a nested,
// restricted route (../PREMIUM/seg.ts beside /media/premium) is routed
// case-sensitively to the outer route and signed (uri=/media/PREMIUM),
// where the same path as a request would get 400 path_lookalike. On a
// case-insensitive origin that token opens the premium files.
func TestAttackManifestURILookalikeSigned(t *testing.T) {
	f, c := streamFixture(t, "manifest", map[string]string{
		"SIGNGATE_ROUTES_0_SCOPE":    "dir",
		"SIGNGATE_ROUTES_1_PREFIX":   "/media/premium",
		"SIGNGATE_ROUTES_1_CDN_BASE": "$CDN",
		"SIGNGATE_ROUTES_1_KEY_FILE": "testdata/key1.pem",
		"SIGNGATE_ROUTES_1_KEY_ID":   "key1",
		"SIGNGATE_ROUTES_1_TTL":      "1h",
		"SIGNGATE_ROUTES_1_REQUIRE":  "plan=premium",
	})
	if resp := f.do("GET", "/media/PREMIUM/seg.ts", bearer(f.session("free", nil))); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("GET /media/PREMIUM/seg.ts: %d, want 400", resp.StatusCode)
	}
	c.put("/media/show/x.m3u8", "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n../PREMIUM/seg.ts\n#EXTINF:4,\n../premium./seg.ts\n#EXT-X-ENDLIST\n")
	resp := f.do("GET", "/media/show/x.m3u8", bearer(f.session("free", nil)))
	b := body(t, resp)
	if resp.StatusCode != http.StatusOK {
		return
	}
	for _, u := range uriLines(b) {
		t.Errorf("a free user's manifest names a look-alike of /media/premium, signed instead of refused: %s", u)
	}
}

// Regression 1. A route whose prefix names one object (a single protected
// file or playlist: PREFIX=/media/a.mp4) served it before the change;
// now the prefix "names no object" and the request gets 404.
func TestAttackRegressionSingleFileRoute(t *testing.T) {
	// Kept as designed: a prefix is a directory. A claim for it would open
	// everything below it, and the grant-soundness issue asks for the
	// route's own prefix to be refused; docs/gateway.md says so.
	e := startBucket(t, testKey(t, "key1.pem"))
	f := tableFixture(t, routeEnv("0", "/media/a.mp4", e.URL, "key1", "SCOPE", "file"))
	resp := f.do("GET", "/media/a.mp4", bearer(f.session("u", nil)))
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /media/a.mp4 on the route /media/a.mp4: %d %s, want 404 (a prefix names no object)", resp.StatusCode, body(t, resp))
	}
}

// Finding 7. A path that decodes once to a canonical path holding
// percent-escapes reads, on an origin or an upstream app that decodes
// twice (IIS, some servlet filters), as another media path; the lenient
// readings (loosePath) decode once only, so these are routed as written:
// passed to the app unauthenticated, or signed for the outer route.
func TestAttackDoubleEncodedLookalike(t *testing.T) {
	e := startBucket(t, testKey(t, "key1.pem"))
	f := tableFixture(t,
		routeEnv("0", "/media", e.URL, "key1", "PUBLIC", "true"),
		routeEnv("1", "/media/premium", e.URL, "key1", "REQUIRE", "plan=premium"))
	for _, p := range []string{
		"/app/%252e%252e/media/premium/full.mp4", // to the app
		"/%256dedia/premium/full.mp4",            // to the app
		"/media/%2570remium/full.mp4",            // signed for /media, uri=/media/%70remium
		"/media/x/%252e%252e/premium/full.mp4",   // signed for /media
	} {
		resp := f.do("GET", p, nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d (Location %q), want 400 path_lookalike: read twice-decoded it is /media/premium/full.mp4",
				p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// Finding 8 (the proxy side of config's TestAttackRouteSpacesCaseFoldNested).
// /media (PUBLIC, dir) beside /Media/premium (REQUIRE): the gateway
// refuses GET /media/premium/full.mp4 as a look-alike of /Media/premium,
// yet an anonymous GET /media/a.mp4 gets uri=/media, which covers
// /media/premium/full.mp4 on the edge (and /Media/premium/... on a
// case-insensitive origin).
func TestAttackCaseFoldNestedRouteNotNarrowed(t *testing.T) {
	e := startBucket(t, testKey(t, "key1.pem"))
	env := map[string]string{"SIGNGATE_AUTH": "jwt", "SIGNGATE_JWT_SECRET": hmacSecret}
	for _, r := range []map[string]string{
		routeEnv("0", "/media", e.URL, "key1", "PUBLIC", "true"),
		routeEnv("1", "/Media/premium", e.URL, "key1", "REQUIRE", "plan=premium"),
	} {
		for k, v := range r {
			env[k] = v
		}
	}
	if _, err := config.LoadGateway(env); err == nil || !strings.Contains(err.Error(), "nest only when case is ignored") {
		t.Fatalf("/media beside /Media/premium: %v, want a refusal at start", err)
	}
}

// Finding 9 (minor). The look-alike readings fold case with
// strings.ToLower, not Unicode case folding: "ſ" (U+017F, long s) folds to
// "s" (strings.EqualFold, Java's equalsIgnoreCase), so /memberſ/x reads
// as /members/x on a case-insensitive origin or app, yet it is passed to
// the upstream unauthenticated.
func TestAttackUnicodeCaseFoldLookalike(t *testing.T) {
	e := startBucket(t, testKey(t, "key1.pem"))
	f := tableFixture(t, routeEnv("0", "/members", e.URL, "key1", "REQUIRE", "plan=paid"))
	for _, p := range []string{"/member%C5%BF/x.mp4", "/MEMBER%C5%BF/x.mp4"} {
		if resp := f.do("GET", p, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400 path_lookalike (it case-folds to /members/x.mp4)", p, resp.StatusCode)
		}
	}
}
