package proxy

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// The grant invariant as a property: for every route table the gateway
// accepts, every principal and every token the gateway hands out, every
// bucket path the token opens is one the principal gets through the
// gateway itself. The oracle below is a model of the route table written
// apart from the gateway: its own routing, origins, coverage and
// admission.

// mRoute is a generated route, as the model sees it.
type mRoute struct {
	prefix, base string
	public       bool
	require      string // "" or claim=value
	scope        string
	strip        bool
	key          int
}

// mTable is a generated route table.
type mTable []mRoute

// Pools the generator draws from: few names, so that prefixes nest, touch
// and share boundaries ("a" and "ab").
var (
	genSegs    = []string{"a", "b", "ab", "c"}
	genClaims  = []string{"plan=gold", "tier=x"}
	genScopes  = []string{"file", "dir", "bucket"}
	genOrigins = [][]string{ // spellings of one origin each
		{"https://cdn.example.com", "https://CDN.example.com:443", "http://cdn.example.com.", "https://cdn.Example.com/"},
		{"https://other.example.com", "https://OTHER.example.com"},
		{"https://cdn.example.com/p", "http://CDN.example.com:80/p/"},
	}
	genPrincipals = []map[string]any{nil, {}, {"plan": "gold"}, {"tier": "x"}, {"plan": "gold", "tier": "x"}}
)

func genTable(r *rand.Rand) mTable {
	n := 2 + r.IntN(5)
	origins := 1 + r.IntN(len(genOrigins))
	seen := map[string]bool{}
	var t mTable
	for len(t) < n {
		prefix := "/"
		if r.IntN(12) > 0 {
			var segs []string
			for range 1 + r.IntN(3) {
				segs = append(segs, genSegs[r.IntN(len(genSegs))])
			}
			prefix = "/" + strings.Join(segs, "/")
		}
		if seen[prefix] {
			continue
		}
		seen[prefix] = true
		oi := r.IntN(origins)
		o := genOrigins[oi]
		key := 1 + oi // mostly a key per origin, as buckets have
		if r.IntN(4) == 0 {
			key = 1 + r.IntN(3)
		}
		rt := mRoute{
			prefix: prefix,
			base:   o[r.IntN(len(o))],
			public: r.IntN(3) == 0,
			scope:  genScopes[r.IntN(len(genScopes))],
			strip:  r.IntN(4) == 0,
			key:    key,
		}
		if !rt.public && r.IntN(2) == 0 {
			rt.require = genClaims[r.IntN(len(genClaims))]
		}
		t = append(t, rt)
	}
	return t
}

func (t mTable) environ() map[string]string {
	env := map[string]string{
		"SIGNGATE_AUTH":       "jwt",
		"SIGNGATE_JWT_SECRET": hmacSecret,
		"SIGNGATE_WATCH_KEYS": "false",
	}
	for i, rt := range t {
		v := func(name, val string) { env[fmt.Sprintf("SIGNGATE_ROUTES_%d_%s", i, name)] = val }
		v("PREFIX", rt.prefix)
		v("CDN_BASE", rt.base)
		v("KEY_FILE", filepath.Join("testdata", fmt.Sprintf("key%d.pem", rt.key)))
		v("KEY_ID", fmt.Sprintf("key%d", rt.key))
		v("SCOPE", rt.scope)
		v("TTL", "1h")
		if rt.public {
			v("PUBLIC", "true")
		}
		if rt.require != "" {
			v("REQUIRE", rt.require)
		}
		if rt.strip {
			v("STRIP_PREFIX", "true")
		}
	}
	return env
}

// origin is the model's identity of a CDN base: the host in lower case
// without a trailing dot or default port, then the path prefix; the
// scheme does not matter (a token is not bound to it).
func origin(base string) (string, string) {
	u, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	host := strings.ToLower(u.Hostname())
	host = strings.TrimSuffix(host, ".")
	port := u.Port()
	if port == "443" && u.Scheme == "https" || port == "80" && u.Scheme == "http" {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	prefix := strings.TrimSuffix(u.Path, "/")
	return host + prefix, strings.ToLower(u.Scheme) + "://" + u.Host + prefix
}

// under reports whether path q is p or below it, segment by segment.
func under(p, q string) bool {
	ps := strings.Split(strings.Trim(p, "/"), "/")
	qs := strings.Split(strings.Trim(q, "/"), "/")
	if p == "/" || p == "" {
		return true
	}
	if len(qs) < len(ps) {
		return false
	}
	for i := range ps {
		if ps[i] != qs[i] {
			return false
		}
	}
	return true
}

// route returns the model's route for gateway path gp: the longest
// prefix that gp is under, or -1.
func (t mTable) route(gp string) int {
	best := -1
	for i, rt := range t {
		if under(rt.prefix, gp) && (best < 0 || len(rt.prefix) > len(t[best].prefix)) {
			best = i
		}
	}
	return best
}

// share reports whether routes i and j may reach one bucket: a token is
// the bucket's, whatever host or path prefix its URL had, so their CDN
// bases share a host (path prefixes aside), or they hold the same key.
func (t mTable) share(i, j int) bool {
	hi, _ := origin(t[i].base)
	hj, _ := origin(t[j].base)
	cut := func(h string) string { h, _, _ = strings.Cut(h, "/"); return h }
	return cut(hi) == cut(hj) || t[i].key == t[j].key
}

// bucketPath maps gateway path gp of route i to its bucket path; ok is
// false when gp names no object (a route's own prefix, or "/").
func (t mTable) bucketPath(i int, gp string) (string, bool) {
	rt := t[i]
	bp := gp
	if rt.strip && rt.prefix != "/" {
		bp = strings.TrimPrefix(gp, rt.prefix)
	}
	return bp, bp != "" && bp != "/" && gp != rt.prefix
}

func (rt mRoute) admits(claims map[string]any) bool {
	if rt.public {
		return true
	}
	if claims == nil {
		return false
	}
	if rt.require == "" {
		return true
	}
	k, v, _ := strings.Cut(rt.require, "=")
	return claims[k] == v
}

// gets reports whether a principal with claims gets bucket path x of
// the bucket of route issuer through the gateway: some route that may
// share that bucket maps a gateway path to x and admits the principal.
func (t mTable) gets(claims map[string]any, issuer int, x string) bool {
	for i, rt := range t {
		if !t.share(issuer, i) {
			continue
		}
		gp := x
		if rt.strip && rt.prefix != "/" {
			gp = rt.prefix + x
		}
		if t.route(gp) != i {
			continue
		}
		// A route's prefix is its directory: no object is served there,
		// but a claim for the route's space names it, as a claim for any
		// directory names the directory itself.
		if bp, ok := t.bucketPath(i, gp); (ok || gp == rt.prefix) && bp == x && rt.admits(claims) {
			return true
		}
	}
	return false
}

// universe returns bucket paths to test a claim against: every generated
// request path and route prefix, as gateway and as bucket paths, and
// children of the claim itself.
func (t mTable) universe(uri string, paths []string) []string {
	set := map[string]bool{}
	add := func(p string) {
		if p != "" && p != "/" {
			set[p] = true
			set[p+"/f.ts"] = true
		}
	}
	add(uri)
	for _, p := range paths {
		add(p)
	}
	for _, rt := range t {
		add(rt.prefix)
		for _, o := range t {
			if o.strip && under(o.prefix, rt.prefix) && o.prefix != "/" {
				add(strings.TrimPrefix(rt.prefix, o.prefix))
			}
		}
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	return out
}

// genPaths returns gateway paths to request: route prefixes, and paths
// below them and below "/", some ending in a file.
func (t mTable) genPaths(r *rand.Rand) []string {
	var out []string
	for range 24 {
		p := "/"
		if r.IntN(4) > 0 {
			p = t[r.IntN(len(t))].prefix
		}
		for range r.IntN(3) {
			p = strings.TrimSuffix(p, "/") + "/" + genSegs[r.IntN(len(genSegs))]
		}
		if r.IntN(2) == 0 {
			p = strings.TrimSuffix(p, "/") + "/f.ts"
		}
		out = append(out, p)
	}
	return out
}

// checkGrants builds the gateway for a table drawn from seed and checks
// every token it hands out. It returns whether the table was accepted and
// how many tokens were checked.
// A quick check (the fuzz target's) asks for 8 paths as one principal.
func checkGrants(t testing.TB, seed uint64, quick bool) (accepted bool, grants int) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	table := genTable(r)
	cfg, err := config.LoadGateway(table.environ())
	if err != nil {
		return false, 0 // refused at start: the table is not one the gateway accepts
	}
	clock := newClock()
	gw, err := New(cfg, Options{Log: slog.New(slog.DiscardHandler), Now: clock.Now})
	if err != nil {
		t.Fatalf("seed %d: New: %v", seed, err)
	}
	defer gw.Close()
	keys := signer.Keys{}
	for i := 1; i <= 3; i++ {
		k := testKey(t, fmt.Sprintf("key%d.pem", i))
		keys[k.ID] = k.Public()
	}
	v := signer.NewVerifier(keys)
	v.Now = clock.Now
	paths, principals := table.genPaths(r), genPrincipals
	if quick {
		paths, principals = paths[:8], principals[seed%uint64(len(principals)):][:1]
	}
	for _, claims := range principals {
		hdr := credentials(t, clock.Now(), claims)
		for _, gp := range paths {
			target := gp
			if r.IntN(4) == 0 {
				target = PathSign + "?path=" + url.QueryEscape(gp)
			}
			req := httptest.NewRequest(http.MethodGet, target, nil)
			req.Header = hdr.Clone()
			rec := httptest.NewRecorder()
			gw.Handler().ServeHTTP(rec, req)
			loc := rec.Header().Get("Location")
			if strings.HasPrefix(target, PathSign) && rec.Code == http.StatusOK {
				var body struct{ URL string }
				if err := jsonDecode(rec.Body, &body); err != nil {
					t.Fatal(err)
				}
				loc = body.URL
			} else if rec.Code != http.StatusFound {
				loc = ""
			}
			ri := table.route(gp)
			if _, obj := table.bucketPath(max(ri, 0), gp); ri >= 0 && obj && strings.HasSuffix(gp, "/f.ts") &&
				table[ri].admits(claims) && loc == "" {
				t.Fatalf("seed %d: %s for %v: %d %s, want a signed URL\ntable %+v", seed, target, claims, rec.Code, rec.Body, table)
			}
			if loc == "" {
				continue
			}
			if ri < 0 {
				t.Fatalf("seed %d: %s: a token for a path of no route\ntable %+v", seed, target, table)
			}
			o, base := origin(table[ri].base)
			if !strings.HasPrefix(loc, base+"/") {
				t.Fatalf("seed %d: %s: Location %s is not on %s", seed, target, loc, base)
			}
			u, err := url.Parse(loc)
			if err != nil {
				t.Fatal(err)
			}
			c, err := v.Parse(u.Query().Get("auth"))
			if err != nil {
				t.Fatalf("seed %d: %s: token: %v", seed, target, err)
			}
			grants++
			for _, x := range table.universe(c.URI, paths) {
				if under(c.URI, x) && !table.gets(claims, ri, x) {
					t.Fatalf("seed %d: the token for %s given to %v has uri %q, which opens %s of %s: not a path this principal gets through the gateway\ntable %+v",
						seed, target, claims, c.URI, x, o, table)
				}
			}
		}
	}
	return true, grants
}

// credentials returns the headers of a generated principal: a bearer
// session with claims, or none for the anonymous (nil claims).
func credentials(t testing.TB, now time.Time, claims map[string]any) http.Header {
	hdr := http.Header{}
	if claims == nil {
		return hdr
	}
	c := jwt.MapClaims{"sub": "u", "exp": now.Unix() + 3600}
	for k, val := range claims {
		c[k] = val
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(hmacSecret))
	if err != nil {
		t.Fatal(err)
	}
	hdr.Set("Authorization", "Bearer "+s)
	return hdr
}

func TestGrantInvariant(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 80
	}
	tables, grants := 0, 0
	for seed := range uint64(n) {
		ok, g := checkGrants(t, seed, false)
		if ok {
			tables++
		}
		grants += g
	}
	t.Logf("%d tables drawn, %d accepted, %d tokens checked", n, tables, grants)
	if tables < n/3 || grants < 10*tables {
		t.Fatalf("the generator is too weak: %d of %d tables accepted, %d tokens", tables, n, grants)
	}
}

func FuzzGrantInvariant(f *testing.F) {
	for _, s := range []uint64{0, 1, 7, 42, 1 << 40} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) { checkGrants(t, seed, true) })
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
