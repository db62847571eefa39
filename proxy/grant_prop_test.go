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

// checkGrants builds the gateway for a table drawn from seed and checks
// every token it hands out. It returns whether the table was accepted and
// how many tokens were checked.
// A quick check (the fuzz target's) asks for 8 paths as one principal.
func checkGrants(t testing.TB, seed uint64, quick bool) (accepted bool, grants, streamGrants int) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	table := genTable(r)
	cfg, err := config.LoadGateway(table.environ())
	if err != nil {
		return false, 0, 0 // refused at start: the table is not one the gateway accepts
	}
	clock := newClock()
	gw, err := newFromEnv(cfg, Options{Log: slog.New(slog.DiscardHandler), Now: clock.Now})
	if err != nil {
		t.Fatalf("seed %d: New: %v", seed, err)
	}
	defer gw.Close()
	keys := signer.Keys{}
	for i := 1; i <= 5; i++ {
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
			if table[ri].stream != "" {
				streamGrants++
			}
			for _, x := range table.universe(c.URI, paths) {
				if under(c.URI, x) && !table.gets(claims, ri, x) {
					t.Fatalf("seed %d: the token for %s given to %v has uri %q, which opens %s of %s: not a path this principal gets through the gateway\ntable %+v",
						seed, target, claims, c.URI, x, o, table)
				}
			}
		}
	}
	return true, grants, streamGrants
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
	tables, grants, streamGrants := 0, 0, 0
	for seed := range uint64(n) {
		ok, g, sg := checkGrants(t, seed, false)
		if ok {
			tables++
		}
		grants += g
		streamGrants += sg
	}
	t.Logf("%d tables drawn, %d accepted, %d tokens checked, %d of live stream routes", n, tables, grants, streamGrants)
	if tables < n/3 || grants < 10*tables || streamGrants < grants/10 {
		t.Fatalf("the generator is too weak: %d of %d tables accepted, %d tokens, %d of stream routes", tables, n, grants, streamGrants)
	}
}

func FuzzGrantInvariant(f *testing.F) {
	for _, s := range []uint64{0, 1, 7, 42, 1 << 40} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) { checkGrants(t, seed, true) })
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
