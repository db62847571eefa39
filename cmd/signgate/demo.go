package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/signgate/signgate/internal/demo"
)

func runDemo(e *env, args []string) error {
	fs := newFlags(e, "demo", "[--listen ADDR] [--edge-listen ADDR] [--api-listen ADDR] [--edge-url URL] [--ttl DURATION]", `
Run the whole scheme in one process, with no configuration: a verifying edge
(SQLite in a temporary directory, an authenticated bucket holding sample
video, its signing key created through the edge's own API), a small web app
with a login form, and the gateway in front of both. Open the printed
address, sign in as demo/demo, and five players (progressive, HLS and DASH
in manifest and in cookie mode) play through signed URLs; --ttl 20s shows
the page renewing tokens as they expire. The
edge's portal (/console/ on the API address) manages the bucket and its
signing keys in a browser; sign in with the printed API key.
Ctrl-C stops everything. Logs (JSON, on stderr) default to warnings; set
SIGNGATE_LOG_LEVEL=info to see every request.`)
	listen := fs.String("listen", "127.0.0.1:8080", "the gateway's `address`, the one to open")
	edgeListen := fs.String("edge-listen", "127.0.0.1:8081", "the edge's `address`")
	apiListen := fs.String("api-listen", "127.0.0.1:8082", "the `address` of the edge's API and portal")
	edgeURL := fs.String("edge-url", "", "the edge's base `URL` as browsers reach it (default: http://EDGE-LISTEN)")
	ttl := fs.Duration("ttl", 10*time.Minute, "the `lifetime` of the tokens the gateway hands out (try 20s to watch the page renew them)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("demo: unexpected argument %q", pos[0])
	}
	if *ttl < 2*time.Second || *ttl%time.Second != 0 {
		return usagef("demo: --ttl %s: want whole seconds, at least 2s", *ttl)
	}
	if _, ok := e.environ["SIGNGATE_LOG_LEVEL"]; !ok {
		e.environ = withDefault(e.environ, "SIGNGATE_LOG_LEVEL", "warn")
	}
	log, err := e.logger()
	if err != nil {
		return err
	}
	if err := demo.Run(e.ctx, demo.Options{
		Listen: *listen, EdgeListen: *edgeListen, APIListen: *apiListen, EdgeURL: *edgeURL,
		Log: log, Out: e.stdout, Ready: e.ready, TTL: *ttl,
	}); err != nil {
		var busy *demo.BusyError
		if errors.As(err, &busy) {
			return fmt.Errorf("demo: the %s's address %s is already in use: pick another with --%s ADDR (127.0.0.1:0 takes any free port)",
				busy.Name, busy.Addr, listenFlag(busy.Name))
		}
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintln(e.stdout, "signgate demo stopped.")
	return nil
}

// listenFlag names the flag that sets demo.Run's address called name.
func listenFlag(name string) string {
	switch name {
	case "edge":
		return "edge-listen"
	case "api":
		return "api-listen"
	}
	return "listen"
}

// withDefault returns a copy of environ with key set to value.
func withDefault(environ map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(environ)+1)
	for k, v := range environ {
		out[k] = v
	}
	out[key] = value
	return out
}
