package edge

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/testenv"
	"github.com/signgate/signgate/signer"
)

// Revocation confirmed by every edge (fleet.go), against a real
// PostgreSQL: once a DELETE through any edge has answered, the very next
// request on every edge is refused.

// fleetOf starts n edges on the database at dbURL, each with a store of
// its own, as n hosts would run them; their periodic refresh is an hour,
// so only notifications (and reconnections) carry changes across.
func fleetOf(t *testing.T, dbURL string, n int, mutate func(*config.Edge)) []*harness {
	t.Helper()
	clock := newClock()
	var hs []*harness
	for range n {
		c := baseConfig(t, t.TempDir())
		c.DB = config.Database(dbURL)
		c.Refresh = time.Hour
		if mutate != nil {
			mutate(&c)
		}
		hs = append(hs, startHarness(t, c, clock))
	}
	waitEdges(t, hs[0], n)
	return hs
}

// waitEdges waits until h sees n live edges registered, itself included.
func waitEdges(t *testing.T, h *harness, n int) {
	t.Helper()
	eventually(t, propagation, fmt.Sprintf("%d edges registered", n), func() bool {
		c, err := h.e.fleet.(*Postgres).look(t.Context(), h.e.id, 0, h.e.cfg.LiveFor())
		return err == nil && c.Edges == n
	})
}

// authenticate makes the "media" bucket authenticated through edges[0],
// which must answer confirmed by all of them, and checks that every edge
// then refuses a request without a token.
func authenticate(t *testing.T, edges []*harness, bearer string) {
	t.Helper()
	st, m, _ := edges[0].call(http.MethodPut, "/v1/buckets/media/policy/authenticated", bearer, "")
	if st != http.StatusOK || m["confirmed"] != true || m["edges"] != float64(len(edges)) {
		t.Fatalf("set policy: %d %v, want confirmed by %d edges", st, m, len(edges))
	}
	for i, h := range edges {
		if st, _ := h.status(mediaHost, "/v/abc/seg0.ts"); st != http.StatusUnauthorized {
			t.Errorf("edge %d right after the policy change: %d, want 401", i, st)
		}
	}
}

// round is one revocation: a key made and learnt by every edge, deleted
// through edges[via], then a request with a token of it on every edge.
type round struct {
	call    time.Duration   // the DELETE, from sending to its answer
	refused []time.Duration // per edge, from sending the DELETE to the refusal
	served  int             // edges that served the token after the DELETE
	answer  map[string]any
}

// learn adds key kid through edges[0], waits until every edge serves a
// token of it, and returns the target with that token: minted once.
func learn(t *testing.T, edges []*harness, kid string) string {
	t.Helper()
	k := edges[0].addKey("key1.pem", kid, "media")
	target := "/v/abc/seg0.ts?auth=" + sign(t, k, signer.Claims{URI: "/v/abc"})
	for i, h := range edges {
		eventually(t, propagation, fmt.Sprintf("edge %d learns %s", i, kid), func() bool {
			st, _ := h.status(mediaHost, target)
			return st == http.StatusOK
		})
	}
	return target
}

func revoke(t *testing.T, edges []*harness, via int, kid, bearer string) round {
	t.Helper()
	target := learn(t, edges, kid)
	var r round
	start := time.Now()
	st, m, _ := edges[via].call(http.MethodDelete, "/v1/signing-keys/"+kid, bearer, "")
	r.call, r.answer = time.Since(start), m
	if st != http.StatusOK {
		t.Fatalf("delete %s: %d %v", kid, st, m)
	}
	for i, h := range edges {
		st, reason := h.status(mediaHost, target)
		r.refused = append(r.refused, time.Since(start))
		if st != http.StatusForbidden || reason != "unknown_key" {
			r.served++
			t.Errorf("%s: edge %d answered %d %s right after the DELETE through edge %d answered %v", kid, i, st, reason, via, m)
		}
	}
	return r
}

// quantiles are p50 and p99 of ds.
func quantiles(ds []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return at(0.50), at(0.99)
}

// report logs the DELETE times and the times to refusal of rounds.
func report(t *testing.T, what string, rs []round) {
	t.Helper()
	var calls []time.Duration
	for _, r := range rs {
		calls = append(calls, r.call)
	}
	p50, p99 := quantiles(calls)
	t.Logf("%s: %d rounds; DELETE answered in p50 %s, p99 %s", what, len(rs), p50.Round(time.Microsecond), p99.Round(time.Microsecond))
	for i := range rs[0].refused {
		var ds []time.Duration
		for _, r := range rs {
			ds = append(ds, r.refused[i])
		}
		p50, p99 := quantiles(ds)
		t.Logf("%s: edge %d refused the key, from the DELETE sent, in p50 %s, p99 %s", what, i, p50.Round(time.Microsecond), p99.Round(time.Microsecond))
	}
}

// TestRevocationReachesEveryEdge: one edge (the baseline), two and three
// on one schema, 100 rounds each, the DELETE through each edge in turn.
// Every DELETE answers confirmed by all the edges, and the next request
// on every edge is refused.
func TestRevocationReachesEveryEdge(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("%d edges", n), func(t *testing.T) {
			edges := fleetOf(t, testenv.PostgresSchema(t), n, nil)
			bearer := edges[0].bearer()
			authenticate(t, edges, bearer)
			var rs []round
			for i := range 100 {
				r := revoke(t, edges, i%n, fmt.Sprintf("r%d", i), bearer)
				if r.answer["confirmed"] != true || r.answer["edges"] != float64(n) || fmt.Sprint(r.answer["pending"]) != "[]" {
					t.Fatalf("round %d: answer %v, want confirmed by %d edges", i, r.answer, n)
				}
				rs = append(rs, r)
			}
			report(t, fmt.Sprintf("%d edges", n), rs)
		})
	}
}

// TestRevocationAfterRestart restarts a private PostgreSQL cluster before
// each round: every edge loses its LISTEN connection and reconnects, and
// the DELETE, made as soon as the database answers again, waits for them
// (within SIGNGATE_EDGE_CONFIRM_TIMEOUT), so that the next request on
// every edge is refused still. 10 rounds, or SIGNGATE_TEST_RESTART_ROUNDS.
func TestRevocationAfterRestart(t *testing.T) {
	pg := testenv.PrivatePostgres(t)
	const n = 3
	rounds := 10 // SIGNGATE_TEST_RESTART_ROUNDS for a longer measure
	if v, err := strconv.Atoi(os.Getenv(config.VarTestRestartRounds)); err == nil && v > 0 {
		rounds = v
	}
	edges := fleetOf(t, pg.URL, n, nil)
	bearer := edges[0].bearer()
	authenticate(t, edges, bearer)
	var rs []round
	var back []time.Duration
	var unavailable int // 503 answers, tried again
	for i := range rounds {
		kid := fmt.Sprintf("r%d", i)
		target := learn(t, edges, kid)
		pg.Restart()
		via := edges[i%n]
		// The first calls after the restart may meet a pooled connection
		// that died with it: 503, and the client tries again.
		start := time.Now()
		var st int
		var m map[string]any
		eventually(t, propagation, "the DELETE after the restart", func() bool {
			st, m, _ = via.call(http.MethodDelete, "/v1/signing-keys/"+kid, bearer, "")
			if st == http.StatusServiceUnavailable {
				unavailable++
				return false
			}
			return true
		})
		r := round{call: time.Since(start), answer: m}
		if st != http.StatusOK || m["confirmed"] != true || m["edges"] != float64(n) {
			t.Fatalf("round %d: delete after the restart: %d %v, want confirmed by %d edges", i, st, m, n)
		}
		for j, h := range edges {
			st, reason := h.status(mediaHost, target)
			r.refused = append(r.refused, time.Since(start))
			if st != http.StatusForbidden || reason != "unknown_key" {
				t.Errorf("round %d: edge %d answered %d %s right after the DELETE answered %v", i, j, st, reason, m)
			}
		}
		rs = append(rs, r)
		back = append(back, r.call)
	}
	report(t, "after a restart", rs)
	p50, p99 := quantiles(back)
	t.Logf("after a restart: from the database back to the DELETE confirmed: p50 %s, p99 %s; %d answers 503 store_unavailable (tried again) in %d rounds",
		p50.Round(time.Millisecond), p99.Round(time.Millisecond), unavailable, rounds)
}
