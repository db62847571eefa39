package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/edge"
	"github.com/signgate/signgate/edge/console"
	"github.com/signgate/signgate/internal/httpx"
	"github.com/signgate/signgate/proxy"
	"github.com/signgate/signgate/proxy/auth"
	"github.com/signgate/signgate/signer"
)

// Options configures Run. The zero value listens on the usual local ports.
type Options struct {
	// Listen is the gateway's address (default 127.0.0.1:8080): the one
	// to open in a browser.
	Listen string
	// EdgeListen is the edge's address (default 127.0.0.1:8081).
	EdgeListen string
	// APIListen is the address of the edge's control API and its portal,
	// under /console/ (default 127.0.0.1:8082).
	APIListen string
	// EdgeURL is the edge's base URL as browsers reach it, the CDN base
	// the gateway signs for (default http:// + the bound EdgeListen).
	EdgeURL string
	// Log receives the servers' structured logs.
	Log *slog.Logger
	// Out receives the banner saying what to open.
	Out io.Writer
	// Ready, when set, is told each bound address: "gateway", "edge",
	// "api", "app".
	Ready func(name string, addr net.Addr)
	// TTL is the lifetime of the tokens the gateway hands out (default
	// 10m), MinValidity the least validity left on one (default TTL/2).
	// A short TTL shows renewal at work: the page renews what its
	// players hold before it expires.
	TTL, MinValidity time.Duration
	// Media is the sample media the bucket holds: progressive.webm,
	// hls/ and dash/ as media/generate.sh makes them (default: the
	// embedded 6-second samples).
	Media fs.FS
}

// Run starts the edge, the demo app and the gateway in this process and
// serves until ctx ends, then drains them all. Its files live in a
// temporary directory that Run removes.
func Run(ctx context.Context, o Options) (err error) {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8080"
	}
	if o.EdgeListen == "" {
		o.EdgeListen = "127.0.0.1:8081"
	}
	if o.APIListen == "" {
		o.APIListen = "127.0.0.1:8082"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.TTL == 0 {
		o.TTL = 10 * time.Minute
	}
	if o.Media == nil {
		o.Media = embeddedMedia()
	}
	dir, err := os.MkdirTemp("", "signgate-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	origin := filepath.Join(dir, "bucket")
	if err := extractMedia(o.Media, origin); err != nil {
		return fmt.Errorf("sample media: %w", err)
	}

	ls, err := bind(ctx, map[string]string{"gateway": o.Listen, "edge": o.EdgeListen, "api": o.APIListen, "app": "127.0.0.1:0"})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
		}
	}()
	edgeURL := o.EdgeURL
	if edgeURL == "" {
		edgeURL = "http://" + ls["edge"].Addr().String()
	}
	gwAddr := ls["gateway"].Addr().String()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)

	// The edge, and its API, come up first: the gateway's key comes from it.
	apiKey := randomHex(24)
	ecfg, err := config.LoadEdge(map[string]string{
		"SIGNGATE_EDGE_LISTEN":           ls["edge"].Addr().String(),
		"SIGNGATE_EDGE_API_LISTEN":       ls["api"].Addr().String(),
		"SIGNGATE_EDGE_METRICS_LISTEN":   config.MetricsOff, // the demo serves no metrics
		"SIGNGATE_EDGE_DB":               filepath.Join(dir, "edge.db"),
		"SIGNGATE_EDGE_SINGLE_BUCKET":    "true",
		"SIGNGATE_EDGE_BUCKETS_0_NAME":   Bucket,
		"SIGNGATE_EDGE_BUCKETS_0_ORIGIN": origin,
		"SIGNGATE_EDGE_API_KEYS":         apiKey,
		// One process, one clock: no skew to tolerate, so a token is
		// refused as soon as it expires (what --ttl lets you watch).
		"SIGNGATE_EDGE_LEEWAY": "1s",
		// The page's players (hls.js, dash.js) read the edge's answers
		// from the gateway's origin, with the signed cookie in cookie mode.
		"SIGNGATE_EDGE_CORS_ORIGINS": strings.Join(webOrigins(gwAddr), ","),
	})
	if err != nil {
		return fmt.Errorf("edge: %w", err)
	}
	ed, err := edge.New(ecfg, edge.Options{Log: o.Log.With("server", "edge")})
	if err != nil {
		return fmt.Errorf("edge: %w", err)
	}
	defer ed.Close()
	portal, err := console.New(ed, console.Options{Log: o.Log.With("server", "console")})
	if err != nil {
		return fmt.Errorf("portal: %w", err)
	}
	g.Go(func() error {
		return httpx.Serve(ctx, o.Log.With("server", "edge"), o.Ready,
			httpx.Listener{Name: "edge", Handler: ed.Handler(), Bound: ls["edge"]},
			httpx.Listener{Name: "api", Handler: console.Mount(ed.APIHandler(), portal), Bound: ls["api"]})
	})

	key, err := provision(ctx, "http://"+ls["api"].Addr().String(), config.Secret(apiKey))
	if err != nil {
		cancel()
		return errors.Join(fmt.Errorf("set up the bucket through the edge's API: %w", err), g.Wait())
	}

	links := Links()
	links.TTL, links.Renew = o.TTL, renewEvery(o.TTL, o.MinValidity)
	app := NewApp(o.Log.With("server", "app"), nil, links)
	appURL := "http://" + ls["app"].Addr().String()
	gw, err := proxy.New(ctx, gatewayConfig(appURL, edgeURL, key, o.TTL, o.MinValidity), proxy.Options{
		Log: o.Log.With("server", "gateway"),
		Auth: []auth.Link{proxy.Forward("forward", auth.ForwardOptions{
			URL:           appURL + "/auth/check",
			SubjectHeader: UserHeader,
			TTL:           30 * time.Second,
			Timeout:       5 * time.Second,
		})},
	})
	if err != nil {
		cancel()
		return errors.Join(fmt.Errorf("gateway: %w", err), g.Wait())
	}
	defer gw.Close()
	g.Go(func() error {
		return httpx.Serve(ctx, o.Log.With("server", "gateway"), o.Ready,
			httpx.Listener{Name: "gateway", Handler: gw.Handler(), Bound: ls["gateway"]},
			httpx.Listener{Name: "app", Handler: app.Handler(), Bound: ls["app"]})
	})

	gwURL := "http://" + ls["gateway"].Addr().String()
	apiURL := "http://" + ls["api"].Addr().String()
	fmt.Fprintf(o.Out, `signgate demo is running.

  Open %s/ and sign in as %q with password %q.

  gateway  %s   (in front of the demo app; media paths redirect to signed edge URLs)
  edge     %s   (bucket %q, authenticated, key %s created through the edge's API)
  portal   %s%s   (the edge's buckets and signing keys in a browser)
           sign in with the API key %s
           (or use the API: SIGNGATE_API_KEY=THAT-KEY signgate keys list --api-url %s)

  The page plays each of these in its own player, and its "Copy ffplay
  command" buttons give a command with a short-lived signed URL:
    progressive  %s%s
    HLS          %s%s      (manifests rewritten to signed URLs)
    DASH         %s%s    (manifest rewritten)
    HLS          %s%s     (Qencode-Auth-Token signed cookie, for players that keep cookies)
    DASH         %s%s   (signed cookie)

Press Ctrl-C to stop.
`, gwURL, DemoUser, DemoPassword, gwURL, edgeURL, Bucket, key.ID,
		apiURL, console.Prefix, apiKey, apiURL,
		gwURL, links.Progressive, gwURL, links.HLS, gwURL, links.DASH, gwURL, links.HLSCookie, gwURL, links.DASHCookie)
	return g.Wait()
}

// gatewayConfig is the demo gateway's: the app upstream, its login page,
// and five routes to the edge, all signing with key, held in memory.
func gatewayConfig(appURL, edgeURL string, key *signer.SigningKey, ttl, minValidity time.Duration) proxy.Config {
	cfg := proxy.Config{
		Upstream:         appURL,
		UpstreamIdentity: true,
		LoginURL:         "/login",
		AuthHeader:       "X-Forwarded-User", // stripped from clients' requests
		AccessLog:        true,
		// Manifests rewritten at once: the command's default.
		ManifestConcurrency: 16,
	}
	routes := []struct {
		prefix    string
		scope     signer.Scope
		streaming string
	}{
		{"/media/", signer.ScopeFile, config.StreamingOff},
		{"/media/hls/", signer.ScopeDir, config.StreamingManifest},
		{"/media/dash/", signer.ScopeDir, config.StreamingManifest},
		{"/cookie/hls/", signer.ScopeDir, config.StreamingCookie},
		{"/cookie/dash/", signer.ScopeDir, config.StreamingCookie},
	}
	for _, r := range routes {
		cfg.Routes = append(cfg.Routes, proxy.Route{Key: key, Route: config.Route{
			Prefix:           r.prefix,
			Streaming:        r.streaming,
			CDNBase:          edgeURL,
			Scope:            r.scope,
			TTL:              ttl,
			RedirectStatus:   http.StatusFound,
			MinValidity:      minValidity,
			ManifestMaxBytes: 1 << 20,
			ManifestTimeout:  10 * time.Second,
		}})
	}
	return cfg
}

// provision sets the demo bucket to authenticated and creates its signing
// key through the edge's own API; the gateway holds it in memory.
func provision(ctx context.Context, apiURL string, apiKey config.Secret) (*signer.SigningKey, error) {
	c := &edge.Client{BaseURL: apiURL}
	tok, _, err := c.AccessToken(ctx, apiKey)
	if err != nil {
		return nil, err
	}
	c.Token = tok
	if err := c.SetPolicy(ctx, Bucket, edge.Authenticated); err != nil {
		return nil, err
	}
	k, err := c.CreateKey(ctx, edge.CreateKeyRequest{Bucket: Bucket, Name: "demo gateway"})
	if err != nil {
		return nil, err
	}
	pk, err := signer.ParsePrivateKey([]byte(k.PrivateKey.Reveal()))
	if err != nil {
		return nil, fmt.Errorf("the key the edge created: %w", err)
	}
	return &signer.SigningKey{ID: k.ID, Key: pk, Bucket: Bucket}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
