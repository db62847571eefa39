package edge

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/signgate/signgate/internal/testenv"
	"github.com/signgate/signgate/signer"
)

// TestConfirmedChangesProperty: a generated sequence of key deletions and
// policy changes, each through a random edge of three, against an oracle
// of what the store holds. After every answer that says confirmed, every
// edge answers every token exactly as the oracle says: a public bucket
// serves; an authenticated one serves a live key's token and refuses a
// deleted key's (unknown_key).
func TestConfirmedChangesProperty(t *testing.T) {
	const n, ops = 3, 80
	seed := uint64(rand.Int64())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	edges := fleetOf(t, testenv.PostgresSchema(t), n, nil)
	bearer := edges[0].bearer()
	authenticate(t, edges, bearer)
	public := false
	live := map[string]string{}    // kid -> target with a token of it
	deleted := map[string]string{} // the same, of deleted keys
	var next int
	for i := range ops {
		via := rng.IntN(n)
		var st int
		var m map[string]any
		var what string
		switch op := rng.IntN(4); {
		case op == 0 || len(live) == 0:
			kid := fmt.Sprintf("p%d", next)
			next++
			live[kid] = learnOn(t, edges, kid, public)
			continue
		case op == 1:
			public = !public
			p := map[bool]string{true: "public", false: "authenticated"}[public]
			what = "policy " + p
			st, m, _ = edges[via].call(http.MethodPut, "/v1/buckets/media/policy/"+p, bearer, "")
		default:
			var kid string
			for k := range live {
				kid = k
				break
			}
			what = "delete " + kid
			st, m, _ = edges[via].call(http.MethodDelete, "/v1/signing-keys/"+kid, bearer, "")
			deleted[kid] = live[kid]
			delete(live, kid)
		}
		if st != http.StatusOK || m["confirmed"] != true {
			t.Fatalf("op %d (%s through edge %d): %d %v, want confirmed", i, what, via, st, m)
		}
		for j, h := range edges {
			for kid, target := range live {
				if st, reason := h.status(mediaHost, target); st != http.StatusOK {
					t.Errorf("op %d (%s): edge %d refuses live key %s: %d %s", i, what, j, kid, st, reason)
				}
			}
			for kid, target := range deleted {
				st, reason := h.status(mediaHost, target)
				if public && st != http.StatusOK || !public && (st != http.StatusForbidden || reason != "unknown_key") {
					t.Errorf("op %d (%s, public %v): edge %d answers deleted key %s with %d %s", i, what, public, j, kid, st, reason)
				}
			}
		}
	}
}

// learnOn is learn on a bucket that may be public, where every token is
// served anyway: it then waits for the key in every edge's snapshot.
func learnOn(t *testing.T, edges []*harness, kid string, public bool) string {
	t.Helper()
	if !public {
		return learn(t, edges, kid)
	}
	k := edges[0].addKey("key1.pem", kid, "media")
	for i, h := range edges {
		eventually(t, propagation, fmt.Sprintf("edge %d learns %s", i, kid), func() bool {
			_, ok := h.e.snap.Load().keys[kid]
			return ok
		})
	}
	return "/v/abc/seg0.ts?auth=" + sign(t, k, signer.Claims{URI: "/v/abc"})
}
