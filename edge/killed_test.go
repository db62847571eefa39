package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/testenv"
	"github.com/signgate/signgate/signer"
)

// An edge killed without a word (SIGKILL: no unregistering) must not hold
// the API past SIGNGATE_EDGE_CONFIRM_TIMEOUT: changes answer unconfirmed,
// naming it, until its heartbeat expires, then confirmed again. The killed
// edge is a process of its own: this test binary, run again as
// TestEdgeProcess.

// edgeProcessEnv, set, makes TestEdgeProcess serve an edge.
const edgeProcessEnv = config.VarTestEdgeProcess

// TestEdgeProcess is not a test: run by startEdgeProcess in a process of
// its own, it serves an edge configured by the SIGNGATE_EDGE_* variables,
// prints "edge ADDR ID", and stops when its standard input closes (or it
// is killed).
func TestEdgeProcess(t *testing.T) {
	if os.Getenv(edgeProcessEnv) == "" {
		t.Skip("run by TestEdgeKilled in a process of its own")
	}
	environ := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, config.Prefix+"EDGE_") {
			environ[k] = v
		}
	}
	cfg, err := config.LoadEdge(environ)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	fmt.Printf("edge %s %s\n", ln.Addr(), e.ID())
	io.Copy(io.Discard, os.Stdin)
}

// edgeProcess is an edge in a child process.
type edgeProcess struct {
	cmd  *exec.Cmd
	addr string // its media listener
	id   string // its name in the store
}

// startEdgeProcess runs an edge on the database at dbURL in a child
// process, serving media as baseConfig's "media" bucket, authenticated.
func startEdgeProcess(t *testing.T, dbURL string, fleet config.EdgeFleet) *edgeProcess {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	media := baseConfig(t, t.TempDir()).Buckets[0]
	cmd := exec.Command(bin, "-test.run=^TestEdgeProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		edgeProcessEnv+"=1",
		"SIGNGATE_EDGE_DB="+dbURL,
		"SIGNGATE_EDGE_LISTEN=127.0.0.1:0",
		"SIGNGATE_EDGE_API_LISTEN=off",
		"SIGNGATE_EDGE_METRICS_LISTEN=off",
		"SIGNGATE_EDGE_ACCESS_LOG=false",
		"SIGNGATE_EDGE_REFRESH=1h",
		"SIGNGATE_EDGE_MAX_STALENESS=0",
		"SIGNGATE_EDGE_BUCKETS_0_NAME=media",
		"SIGNGATE_EDGE_BUCKETS_0_ORIGIN="+media.Origin,
		"SIGNGATE_EDGE_BUCKETS_0_HOSTS="+mediaHost,
		"SIGNGATE_EDGE_BUCKETS_0_POLICY=authenticated",
		"SIGNGATE_EDGE_HEARTBEAT="+fleet.Heartbeat.String(),
		"SIGNGATE_EDGE_HEARTBEAT_EXPIRY="+fleet.HeartbeatExpiry.String(),
	)
	stdin, err := cmd.StdinPipe() // closed when the test ends: the child stops
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "edge ") {
				line <- sc.Text()
				break
			}
			fmt.Fprintln(os.Stderr, "edge process:", sc.Text())
		}
		close(line) // the process ended without serving
		io.Copy(io.Discard, stdout)
	}()
	select {
	case l, ok := <-line:
		f := strings.Fields(l)
		if !ok || len(f) != 3 {
			t.Fatal("the edge process stopped without serving")
		}
		return &edgeProcess{cmd: cmd, addr: f[1], id: f[2]}
	case <-time.After(60 * time.Second):
		t.Fatal("the edge process did not start within 60s")
		return nil
	}
}

// status GETs target from the child's media listener.
func (p *edgeProcess) status(t *testing.T, target string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+p.addr+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = mediaHost
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestEdgeKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dbURL := testenv.PostgresSchema(t)
	fleet := config.EdgeFleet{ConfirmTimeout: 500 * time.Millisecond, Heartbeat: 50 * time.Millisecond, HeartbeatExpiry: 2 * time.Second}
	edges := fleetOf(t, dbURL, 1, func(c *config.Edge) { c.EdgeFleet = fleet })
	a := edges[0]
	bearer := a.bearer()
	authenticate(t, edges, bearer)
	child := startEdgeProcess(t, dbURL, fleet)
	waitEdges(t, a, 2)

	k := a.addKey("key1.pem", "k1", "media")
	target := "/v/abc/seg0.ts?auth=" + sign(t, k, signer.Claims{URI: "/v/abc"})
	eventually(t, propagation, "the edge process learns k1", func() bool { return child.status(t, target) == http.StatusOK })
	a.addKey("key2.pem", "k2", "media")
	if st, m, _ := a.call(http.MethodDelete, "/v1/signing-keys/k2", bearer, ""); st != http.StatusOK || m["confirmed"] != true || m["edges"] != float64(2) {
		t.Fatalf("delete with both edges up: %d %v, want confirmed by 2", st, m)
	}

	if err := child.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	child.cmd.Wait()
	killed := time.Now()
	start := time.Now()
	st, m, _ := a.call(http.MethodDelete, "/v1/signing-keys/k1", bearer, "")
	took := time.Since(start)
	t.Logf("DELETE with an edge just killed: %s: %v", took.Round(time.Millisecond), m)
	if st != http.StatusOK || m["confirmed"] != false || m["edges"] != float64(2) || fmt.Sprint(m["pending"]) != "["+child.id+"]" {
		t.Errorf("delete with an edge killed: %d %v, want unconfirmed, pending [%s]", st, m, child.id)
	}
	if bound := fleet.ConfirmTimeout + time.Second; took > bound {
		t.Errorf("the DELETE took %s with an edge killed, over the bound %s (+1s)", took, fleet.ConfirmTimeout)
	}
	if st, _ := a.status(mediaHost, target); st != http.StatusForbidden {
		t.Errorf("the live edge serves the deleted key: %d", st)
	}

	// Once its heartbeat has expired, the killed edge counts no more.
	var calls int
	var expired time.Duration
	eventually(t, 3*fleet.HeartbeatExpiry+propagation, "confirmed again once the heartbeat expired", func() bool {
		calls++
		start := time.Now()
		st, m, _ := a.call(http.MethodPut, "/v1/buckets/media/policy/authenticated", bearer, "")
		if took := time.Since(start); took > fleet.ConfirmTimeout+time.Second {
			t.Errorf("policy change %d took %s, over the bound", calls, took)
		}
		expired = time.Since(killed)
		return st == http.StatusOK && m["confirmed"] == true && m["edges"] == float64(1)
	})
	t.Logf("confirmed again %s after the kill (heartbeat expiry %s), after %d unconfirmed changes", expired.Round(time.Millisecond), fleet.HeartbeatExpiry, calls-1)
	page := scrape(t, a)
	for _, want := range []string{`signgate_edge_confirmations_total{result="unconfirmed"} ` + fmt.Sprint(calls), `signgate_edge_confirmations_total{result="confirmed"} 3`} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if expired < fleet.HeartbeatExpiry-time.Second {
		t.Errorf("confirmed again %s after the kill, before the heartbeat could expire (%s)", expired, fleet.HeartbeatExpiry)
	}
}

// scrape returns h's metrics page.
func scrape(t *testing.T, h *harness) string {
	t.Helper()
	srv := httptest.NewServer(h.e.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	return body(t, resp)
}

// TestEdgeLeaves: an edge that stops (Close, as on SIGTERM) removes
// itself from the store, so the next change is confirmed at once by the
// edges left, not held until its heartbeat expires.
func TestEdgeLeaves(t *testing.T) {
	dbURL := testenv.PostgresSchema(t)
	fleet := config.EdgeFleet{ConfirmTimeout: 10 * time.Second, HeartbeatExpiry: 30 * time.Second}
	edges := fleetOf(t, dbURL, 1, func(c *config.Edge) { c.EdgeFleet = fleet })
	a := edges[0]
	bearer := a.bearer()
	c := baseConfig(t, t.TempDir())
	c.DB, c.Refresh, c.EdgeFleet = config.Database(dbURL), time.Hour, fleet
	b, err := New(c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	waitEdges(t, a, 2)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	st, m, _ := a.call(http.MethodPut, "/v1/buckets/media/policy/authenticated", bearer, "")
	took := time.Since(start)
	if st != http.StatusOK || m["confirmed"] != true || m["edges"] != float64(1) {
		t.Errorf("policy change after an edge stopped: %d %v, want confirmed by 1 edge", st, m)
	}
	if took > fleet.ConfirmTimeout/2 {
		t.Errorf("the change took %s after an edge stopped: it waited for it", took)
	}
	page := scrape(t, a)
	for _, want := range []string{
		`signgate_edge_confirmations_total{result="confirmed"} 1`,
		`signgate_edge_confirmations_total{result="unconfirmed"} 0`,
		`signgate_edge_confirm_wait_seconds_count 1`,
		`signgate_edge_store_applied_version `,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(page, "signgate_edge_store_applied_version 0\n") {
		t.Error("applied version 0 on PostgreSQL")
	}
}
