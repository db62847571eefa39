package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/edge"
)

// bucket is the edge's one bucket, authenticated.
const bucket = "soak"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], config.Environ(os.Environ()), os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: %v\n", err)
		os.Exit(1)
	}
}

// soak is one run: its settings, the processes it started and what it
// knows about them.
type soak struct {
	s       Settings
	self    string // this program, run again as the apps
	bin     string // signgate
	tmp     string
	out     string
	ps      *procs
	pg      *cluster
	t       *target
	rec     *recorder
	api     *edge.Client
	keysDir string
	keyGen  int
	kid     string
	sm      *sampler

	ports                         map[string]int
	gatewayMetrics, edgeMetrics   string
	forwardApp, upstreamURL       string
	startedAt, loadAt, loadEndsAt time.Time
}

// run is the whole program: "app ..." serves one of the apps, anything
// else is a soak with flags -signgate, -pg-bin, -tmp and -out.
func run(ctx context.Context, args []string, environ map[string]string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "app" {
		return runApp(ctx, args[1:])
	}
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	bin := fs.String("signgate", "", "the signgate binary")
	pgBin := fs.String("pg-bin", "", "directory of PostgreSQL's initdb and postgres")
	tmp := fs.String("tmp", "", "a private temporary directory (removed by the caller)")
	out := fs.String("out", "", "results directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bin == "" || *pgBin == "" || *tmp == "" || *out == "" {
		return errors.New("usage: chaos -signgate BIN -pg-bin DIR -tmp DIR -out DIR (bench/soak runs it)")
	}
	s, err := loadSettings(environ)
	if err != nil {
		return fmt.Errorf("settings:\n%w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(*out, "logs"), 0o755); err != nil {
		return err
	}
	sk := &soak{s: s, self: self, bin: *bin, tmp: *tmp, out: *out, ps: newProcs(filepath.Join(*out, "logs")), startedAt: time.Now()}
	defer sk.ps.stopAll()
	ok, err := sk.soak(ctx, environ, *pgBin)
	if sk.rec != nil {
		if werr := sk.report(stdout, environ, ok && err == nil); werr != nil && err == nil {
			err = werr
		}
	}
	if err == nil && !ok {
		err = errors.New("the soak failed: see the verdict above")
	}
	return err
}

// soak sets everything up, runs the load and the faults, and judges.
func (sk *soak) soak(ctx context.Context, environ map[string]string, pgBin string) (bool, error) {
	s := sk.s
	sk.ports = map[string]int{}
	for _, n := range []string{"gateway", "gateway-metrics", "edge", "edge-api", "edge-metrics", "upstream", "forward"} {
		p, err := freePort()
		if err != nil {
			return false, err
		}
		sk.ports[n] = p
	}
	addr := func(n string) string { return "127.0.0.1:" + strconv.Itoa(sk.ports[n]) }
	var rb [6]byte
	rand.Read(rb[:])
	sk.t = &target{gateway: "http://" + addr("gateway"), edge: "http://" + addr("edge"), api: "http://" + addr("edge-api"),
		run: hex.EncodeToString(rb[:]), client: newClient(s.Timeout, s.Workers)}
	sk.gatewayMetrics = "http://" + addr("gateway-metrics") + "/metrics"
	sk.edgeMetrics = "http://" + addr("edge-metrics") + "/metrics"
	sk.forwardApp = "http://" + addr("forward")
	sk.upstreamURL = "http://" + addr("upstream")
	// The recorder's clock restarts with the load; set-up events are
	// dated before it.
	sk.rec = newRecorder(time.Now(), s.Interval)

	if err := writeFiles(filepath.Join(sk.tmp, "www")); err != nil {
		return false, err
	}
	pg, err := newCluster(pgBin, sk.tmp, sk.ps)
	if err != nil {
		return false, err
	}
	sk.pg = pg
	if err := pg.start(ctx); err != nil {
		return false, err
	}
	if err := sk.startEdge(ctx); err != nil {
		return false, err
	}
	if err := sk.startApps(ctx); err != nil {
		return false, err
	}
	if err := sk.startGateway(ctx); err != nil {
		return false, err
	}

	rctx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go func() { // a process that dies unasked ends the soak at once
		select {
		case msg := <-sk.ps.died:
			sk.rec.fail("%s", msg)
			stopRun()
		case <-rctx.Done():
		}
	}()
	rssf, err := os.Create(filepath.Join(sk.out, "rss.tsv"))
	if err != nil {
		return false, err
	}
	defer rssf.Close()
	sctx, stopSampler := context.WithCancel(rctx)
	defer stopSampler()
	sk.sm = sk.sample(sctx, rssf, []watched{
		{"gateway", sk.gatewayMetrics, "signgate_token_cache_entries"},
		{"edge", sk.edgeMetrics, "signgate_edge_token_cache_entries"},
	})
	if s.Prefill > 0 {
		t := time.Now()
		if err := prefill(rctx, sk.t, s.Prefill); err != nil {
			return false, fmt.Errorf("prefill: %w", err)
		}
		sk.rec.event("prefill: %d distinct paths in %.1fs", s.Prefill, time.Since(t).Seconds())
	}
	sk.loadAt = time.Now()
	sk.loadEndsAt = sk.loadAt.Add(s.Duration)
	sk.rec.restart(sk.loadAt)
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		if sleep(rctx, s.Warmup) {
			sk.runFaults(rctx, sk.loadEndsAt.Add(-s.Quiet))
		}
	}()
	runLoad(rctx, sk.t, sk.rec, s.mix, s.Rate, s.Workers, s.Duration)
	if ctx.Err() != nil {
		sk.rec.fail("interrupted")
	}
	stopRun()
	<-faultsDone
	stopSampler()
	sk.judge(sk.sm)
	return len(sk.rec.failures) == 0 && sk.rec.unexpected() == 0, nil
}

// judge adds the memory verdicts to the failures.
func (sk *soak) judge(sm *sampler) {
	for _, name := range []string{"gateway", "edge"} {
		ss, _ := sm.series(name)
		first, second := growth(ss, sk.loadAt, sk.s.Duration)
		if first > 0 && second-first > sk.s.rssGrowth {
			sk.rec.fail("%s RSS grew from a peak of %s in the first half of the load to %s in the second, more than SOAK_RSS_GROWTH %s",
				name, mib(first), mib(second), mib(sk.s.rssGrowth))
		}
	}
}

// writeFiles writes the edge's bucket: the hot files of the load.
func writeFiles(dir string) error {
	d := filepath.Join(dir, "media", "v")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	body := []byte(strings.Repeat("m", hitSize))
	for i := range hotFiles {
		if err := os.WriteFile(filepath.Join(d, strconv.Itoa(i)+".ts"), body, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// baseEnv is the environment of every signgate process: nothing of the
// soak's own, the GOMEMLIMIT of SOAK_GOMEMLIMIT, then extra VAR=value.
func (sk *soak) baseEnv() []string {
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + sk.tmp}
	if v := sk.s.goMemLimit(); v != "" {
		env = append(env, "GOMEMLIMIT="+v)
	}
	return env
}

func addr(ports map[string]int, n string) string { return "127.0.0.1:" + strconv.Itoa(ports[n]) }

// startEdge starts the edge on the private PostgreSQL, gets an API token
// and creates the first signing key.
func (sk *soak) startEdge(ctx context.Context) error {
	var kb [24]byte
	rand.Read(kb[:])
	apiKey := hex.EncodeToString(kb[:])
	env := append(sk.baseEnv(),
		"SIGNGATE_EDGE_LISTEN="+addr(sk.ports, "edge"), "SIGNGATE_EDGE_API_LISTEN="+addr(sk.ports, "edge-api"),
		"SIGNGATE_EDGE_METRICS_LISTEN="+addr(sk.ports, "edge-metrics"), "SIGNGATE_EDGE_DB="+sk.pg.url(),
		"SIGNGATE_EDGE_API_KEYS="+apiKey, "SIGNGATE_EDGE_SINGLE_BUCKET=true",
		"SIGNGATE_EDGE_BUCKETS_0_NAME="+bucket, "SIGNGATE_EDGE_BUCKETS_0_ORIGIN="+filepath.Join(sk.tmp, "www"),
		"SIGNGATE_EDGE_BUCKETS_0_POLICY=authenticated", "SIGNGATE_EDGE_CACHE_SIZE="+strconv.Itoa(sk.s.CacheSize))
	env = append(env, strings.Fields(sk.s.EdgeEnv)...)
	p, err := sk.ps.start("edge", []string{sk.bin, "edge"}, env, nil)
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, p, sk.t.api+"/healthz", 200, 60*time.Second); err != nil {
		return fmt.Errorf("edge: %w\n%s", err, sk.ps.tail("edge", 10))
	}
	sk.api = &edge.Client{BaseURL: sk.t.api}
	tok, _, err := sk.api.AccessToken(ctx, config.Secret(apiKey))
	if err != nil {
		return fmt.Errorf("edge API token: %w", err)
	}
	sk.api.Token = tok
	sk.t.token = tok.Reveal()
	nk, err := sk.api.CreateKey(ctx, edge.CreateKeyRequest{Bucket: bucket, Name: "soak-1"})
	if err != nil {
		return fmt.Errorf("edge: create the first key: %w", err)
	}
	sk.keysDir = filepath.Join(sk.tmp, "keys")
	if err := os.Mkdir(sk.keysDir, 0o700); err != nil {
		return err
	}
	return sk.writeKey(nk.ID, nk.PrivateKey.Reveal())
}

func (sk *soak) startApps(ctx context.Context) error {
	if err := sk.startUpstream(ctx); err != nil {
		return err
	}
	p, err := sk.ps.start("forward", []string{sk.self, "app", "-role", "forward", "-listen", addr(sk.ports, "forward")}, nil, nil)
	if err != nil {
		return err
	}
	return waitHTTP(ctx, p, sk.forwardApp+"/healthz", 200, 20*time.Second)
}

func (sk *soak) startUpstream(ctx context.Context) error {
	p, err := sk.ps.start("upstream", []string{sk.self, "app", "-role", "upstream", "-listen", addr(sk.ports, "upstream")}, nil, nil)
	if err != nil {
		return err
	}
	return waitHTTP(ctx, p, sk.upstreamURL+"/", 200, 20*time.Second)
}

func (sk *soak) startGateway(ctx context.Context) error {
	env := append(sk.baseEnv(),
		"SIGNGATE_LISTEN="+addr(sk.ports, "gateway"), "SIGNGATE_METRICS_LISTEN="+addr(sk.ports, "gateway-metrics"),
		"SIGNGATE_UPSTREAM="+sk.upstreamURL, "SIGNGATE_AUTH=header,forward", "SIGNGATE_TRUSTED_PROXIES=127.0.0.1/32",
		"SIGNGATE_FORWARD_URL="+sk.forwardApp+"/check", "SIGNGATE_FORWARD_TTL=1s", "SIGNGATE_FORWARD_TIMEOUT="+forwardTimeout.String(),
		"SIGNGATE_CACHE_SIZE="+strconv.Itoa(sk.s.CacheSize),
		"SIGNGATE_ROUTES_0_PREFIX=/media", "SIGNGATE_ROUTES_0_CDN_BASE="+sk.t.edge,
		"SIGNGATE_ROUTES_0_KEY_FILE="+filepath.Join(sk.keysDir, "media.pem"),
		"SIGNGATE_ROUTES_0_KEY_ID_FILE="+filepath.Join(sk.keysDir, "kid"))
	env = append(env, strings.Fields(sk.s.GatewayEnv)...)
	p, err := sk.ps.start("gateway", []string{sk.bin, "gateway"}, env, nil)
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, p, "http://"+addr(sk.ports, "gateway-metrics")+"/readyz", 200, 60*time.Second); err != nil {
		return fmt.Errorf("gateway: %w\n%s", err, sk.ps.tail("gateway", 10))
	}
	return nil
}
