package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc/peer"

	"github.com/signgate/signgate/config"
)

// The front doors as a property, over the route tables of the grant
// invariant (grant_prop_test.go) and generated header sets from trusted
// and untrusted peers:
//
//   - the target a check decides about is never taken from an untrusted
//     peer: any original-request header from one is refused (400);
//   - from a trusted peer it is taken only when every header that names
//     it agrees (400 otherwise);
//   - the grant a door returns never exceeds the gateway's own: a door's
//     302 to the CDN is byte for byte the gateway's redirect for the same
//     request, which TestGrantInvariant checks against the model; and an
//     auth-request 200 on a media path is given only to a principal the
//     model's route admits.

const (
	propTrusted   = "192.0.2.1:4000"
	propUntrusted = "198.51.100.9:4000"
)

// originHeaders are the headers originalURI reads.
var originHeaders = []string{"X-Original-URI", "X-Original-URL", "X-Forwarded-Uri", "X-Original-Method", "X-Forwarded-Method"}

// genHeaders draws a header set naming path (or decoy), each header 0 to
// 2 times; it returns the set and the URI and method it agrees on ("" and
// false when it does not agree, or is refused).
func genHeaders(r *rand.Rand, path, decoy string) (h http.Header, uri, method string, agreed bool) {
	h = http.Header{}
	agreed = true
	var uris, methods []string
	for _, name := range originHeaders {
		n := r.IntN(5) // 0: absent most often; 1; rarely 2
		switch {
		case n < 2:
			continue
		case n == 4:
			n = 2
		default:
			n = 1
		}
		for range n {
			v := path
			if r.IntN(5) == 0 {
				v = decoy
			}
			switch name {
			case "X-Original-URL":
				uris = append(uris, v)
				// The host is the client's raw Host header: one that
				// holds "?", "#" or "@" must be refused, never read as a
				// path of "/".
				host := [...]string{"media.example.com", "media.example.com:8443", "[::1]", "x?", "[::1]?", "m#", "a@b"}[r.IntN(7)]
				if strings.ContainsAny(host, "?#@") {
					agreed = false
				}
				v = "https://" + host + v
			case "X-Original-Method", "X-Forwarded-Method":
				v = [...]string{"GET", "HEAD", "POST"}[r.IntN(3)]
				methods = append(methods, v)
			default:
				uris = append(uris, v)
			}
			h.Add(name, v)
		}
		if n > 1 {
			agreed = false
		}
	}
	for _, s := range [][]string{uris, methods} {
		for _, v := range s {
			if v != s[0] {
				agreed = false
			}
		}
	}
	if len(uris) > 0 {
		uri = uris[0]
	}
	if len(methods) > 0 {
		method = methods[0]
	}
	return h, uri, method, agreed
}

// oddPaths are spellings the gateway refuses, never fixes.
func oddPaths(p string) []string {
	return []string{p + "/../x.ts", strings.Replace(p, "/", "/%2e%2e/", 1), p + "//x.ts", p + "%2fx.ts"}
}

func checkDoors(t testing.TB, seed uint64, quick bool) int {
	r := rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d))
	table := genTable(r)
	env := table.environ()
	env["SIGNGATE_TRUSTED_PROXIES"] = strings.Split(propTrusted, ":")[0]
	cfg, err := config.LoadGateway(env)
	if err != nil {
		return 0
	}
	clock := newClock()
	gw, err := newFromEnv(cfg, Options{Log: slog.New(slog.DiscardHandler), Now: clock.Now})
	if err != nil {
		t.Fatalf("seed %d: New: %v", seed, err)
	}
	defer gw.Close()
	serve := func(method, target, remote string, h http.Header) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "http://gw.example"+target, nil)
		req.Header, req.RemoteAddr = h, remote
		rec := httptest.NewRecorder()
		gw.Handler().ServeHTTP(rec, req)
		return rec
	}
	paths := table.genPaths(r)
	paths = append(paths, oddPaths(paths[0])...)
	principals := genPrincipals
	if quick { // the fuzz target's: 8 paths as one principal
		paths, principals = paths[:8], principals[seed%uint64(len(principals)):][:1]
	}
	checked := 0
	for _, claims := range principals {
		cred := credentials(t, clock.Now(), claims)
		for _, p := range paths {
			decoy := paths[r.IntN(len(paths))]
			hs, uri, method, agreed := genHeaders(r, p, decoy)
			for k, v := range cred {
				hs[k] = v
			}
			named := len(hs) > len(cred)
			for _, remote := range []string{propTrusted, propUntrusted} {
				for _, door := range []string{PathAuth, PathForwardAuth} {
					rec := serve("GET", door, remote, hs.Clone())
					what := fmt.Sprintf("seed %d: %s from %s with %v for %v", seed, door, remote, hs, claims)
					switch {
					case named && remote == propUntrusted, named && !agreed:
						if rec.Code != http.StatusBadRequest {
							t.Fatalf("%s: status %d, want 400 (refused)", what, rec.Code)
						}
						continue
					case !named || uri == "":
						continue // the door's own request, or a method alone
					}
					m := method
					if m == "" {
						m = "GET"
					}
					checked++
					direct := serve(m, uri, remote, cred.Clone())
					if door == PathForwardAuth && rec.Code == http.StatusFound && !strings.HasPrefix(rec.Header().Get("Location"), "/") {
						if loc := rec.Header().Get("Location"); loc != direct.Header().Get("Location") || direct.Code != http.StatusFound {
							t.Fatalf("%s: Location %q, but the gateway answers %d %q for %s %s", what, loc, direct.Code, direct.Header().Get("Location"), m, uri)
						}
					}
					if direct.Code == http.StatusBadRequest && (rec.Code == http.StatusOK || rec.Code == http.StatusFound) {
						t.Fatalf("%s: status %d for %s, which the gateway refuses", what, rec.Code, uri)
					}
					if door == PathAuth && rec.Code == http.StatusOK {
						if ri := table.route(uri); claims == nil || ri >= 0 && !table[ri].admits(claims) {
							t.Fatalf("%s: 200 for %s, which the model's route %d does not admit", what, uri, ri)
						}
					}
				}
			}
			checked += checkGRPCDoor(t, gw, serve, fmt.Sprintf("seed %d", seed), p, hs, cred)
		}
	}
	return checked
}

// checkGRPCDoor checks the Envoy gRPC door for path p: it never reads the
// headers that name an original request (the path is the check's own),
// and a denial's 302 is the gateway's redirect for the same request.
func checkGRPCDoor(t testing.TB, gw *Gateway, serve func(string, string, string, http.Header) *httptest.ResponseRecorder, what, p string, hs, cred http.Header) int {
	hdr := map[string]string{}
	for k := range hs {
		hdr[k] = hs.Get(k)
	}
	addr, _ := net.ResolveTCPAddr("tcp", propTrusted)
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: addr})
	resp, err := extAuthz{gw}.Check(ctx, checkOf("GET", p, hdr))
	if err != nil {
		t.Fatalf("%s: Check %s: %v", what, p, err)
	}
	direct := serve("GET", p, propTrusted, cred.Clone())
	d := resp.GetDeniedResponse()
	if d == nil {
		if direct.Code/100 == 3 || direct.Code == http.StatusForbidden {
			t.Fatalf("%s: Check allowed %s, which the gateway answers %d", what, p, direct.Code)
		}
		return 1
	}
	loc := ""
	for _, o := range d.GetHeaders() {
		if o.GetHeader().GetKey() == "location" {
			loc = o.GetHeader().GetValue()
		}
	}
	if int(d.GetStatus().GetCode()) == http.StatusFound && !strings.HasPrefix(loc, "https://login.") &&
		(loc != direct.Header().Get("Location") || direct.Code != http.StatusFound) {
		t.Fatalf("%s: Check for %s: Location %q, but the gateway answers %d %q", what, p, loc, direct.Code, direct.Header().Get("Location"))
	}
	return 1
}

func TestFrontDoorProperty(t *testing.T) {
	n := 100
	if testing.Short() {
		n = 30
	}
	checked := 0
	for seed := range uint64(n) {
		checked += checkDoors(t, seed, false)
	}
	t.Logf("%d tables, %d door decisions compared with the gateway's", n, checked)
	if checked < 20*n {
		t.Fatalf("the generator is too weak: %d decisions over %d tables", checked, n)
	}
}

func FuzzFrontDoorProperty(f *testing.F) {
	for _, s := range []uint64{0, 3, 99, 1 << 33} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) { checkDoors(t, seed, true) })
}
