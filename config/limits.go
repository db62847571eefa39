package config

import (
	"fmt"
	"time"
)

// Limits bounds the gateway's connections and request bodies: its
// variables are SIGNGATE_MAX_CONNS and SIGNGATE_BODY_*. Media routes
// never read a body: one announced there is not waited for, and the
// connection is closed after the answer.
type Limits struct {
	// MaxConns bounds the connections each listener serves at once;
	// further ones wait in the kernel's accept queue. 0 means no limit.
	// Pass-through holds a second descriptor per connection, upstream.
	MaxConns int `env:"MAX_CONNS" envDefault:"10000"`
	// BodyTimeout bounds the whole read of a request body to the
	// gateway's own /.signgate/ endpoints (at most 64 KiB); past it the
	// request is answered 408 and the connection closed. 0 is the
	// default.
	BodyTimeout time.Duration `env:"BODY_TIMEOUT" envDefault:"10s"`
	// BodyIdleTimeout cuts a pass-through request body that brings no
	// byte for this long (408, and the upstream request is dropped).
	// 0 turns the check off.
	BodyIdleTimeout time.Duration `env:"BODY_IDLE_TIMEOUT" envDefault:"30s"`
	// BodyMinRate is the least average rate, in bytes a second, of a
	// pass-through request body over each SIGNGATE_BODY_RATE_WINDOW; a
	// slower body is cut (408). The default, 1 KiB/s (8 kbit/s), is far
	// below any working mobile link, while a client trickling bytes to
	// hold a connection is cut within one window. 0 turns the check off.
	BodyMinRate int64 `env:"BODY_MIN_RATE" envDefault:"1024"`
	// BodyRateWindow is the window SIGNGATE_BODY_MIN_RATE is averaged
	// over: long enough to ride out a stall or a TCP back-off, short
	// enough to bound how long a trickling client holds a connection.
	BodyRateWindow time.Duration `env:"BODY_RATE_WINDOW" envDefault:"30s"`
	// UpstreamTimeout bounds the wait for the upstream app's response
	// headers on pass-through, after the request was sent; past it the
	// client gets 504. A response that has begun (a download, a stream,
	// a WebSocket) is not cut by it. 0 turns it off.
	UpstreamTimeout time.Duration `env:"UPSTREAM_TIMEOUT" envDefault:"60s"`
}

// MaxMaxConns is the largest SIGNGATE_MAX_CONNS and SIGNGATE_EDGE_MAX_CONNS.
const MaxMaxConns = 1 << 20

func (l Limits) validate() []error {
	var errs []error
	add := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: %s", Prefix, name, fmt.Sprintf(format, args...)))
	}
	if l.MaxConns < 0 || l.MaxConns > MaxMaxConns {
		add("MAX_CONNS", "%d: want 0 (no limit) to %d", l.MaxConns, MaxMaxConns)
	}
	if l.BodyTimeout < 0 || l.BodyTimeout > 10*time.Minute {
		add("BODY_TIMEOUT", "%s: want at most 10m (0 is the default)", l.BodyTimeout)
	}
	if l.BodyIdleTimeout < 0 {
		add("BODY_IDLE_TIMEOUT", "%s: must not be negative (0 turns the check off)", l.BodyIdleTimeout)
	}
	if l.BodyMinRate < 0 {
		add("BODY_MIN_RATE", "%d: must not be negative (0 turns the check off)", l.BodyMinRate)
	}
	if l.UpstreamTimeout < 0 {
		add("UPSTREAM_TIMEOUT", "%s: must not be negative (0 turns it off)", l.UpstreamTimeout)
	}
	if l.BodyMinRate > 0 && l.BodyRateWindow < 100*time.Millisecond {
		add("BODY_RATE_WINDOW", "%s: want at least 100ms while SIGNGATE_BODY_MIN_RATE is on", l.BodyRateWindow)
	}
	return errs
}

// EdgeLimits bounds the edge's connections and API request bodies. Media
// requests never read a body: one announced there is not waited for, and
// the connection is closed after the answer.
type EdgeLimits struct {
	// MaxConns bounds the connections each listener (media, API, metrics)
	// serves at once; further ones wait in the kernel's accept queue. 0
	// means no limit.
	MaxConns int `env:"EDGE_MAX_CONNS" envDefault:"10000"`
	// APIBodyTimeout bounds the whole read of a control API request body
	// (at most 64 KiB); past it the request is answered 408 and the
	// connection closed. 0 is the default.
	APIBodyTimeout time.Duration `env:"EDGE_API_BODY_TIMEOUT" envDefault:"10s"`
}

func (l EdgeLimits) validate() []error {
	var errs []error
	if l.MaxConns < 0 || l.MaxConns > MaxMaxConns {
		errs = append(errs, fmt.Errorf("%sEDGE_MAX_CONNS: %d: want 0 (no limit) to %d", Prefix, l.MaxConns, MaxMaxConns))
	}
	if l.APIBodyTimeout < 0 || l.APIBodyTimeout > 10*time.Minute {
		errs = append(errs, fmt.Errorf("%sEDGE_API_BODY_TIMEOUT: %s: want at most 10m (0 is the default)", Prefix, l.APIBodyTimeout))
	}
	return errs
}

// Shutdown says how the gateway stops on SIGTERM or SIGINT: /readyz
// answers 503 at once, the gateway serves on for ShutdownDelay (new
// requests included) while load balancers and Kubernetes endpoints catch
// up, then stops accepting and waits up to ShutdownTimeout for requests in
// flight; what is left is cut and counted in the log. A stop asked for
// exits 0 either way.
type Shutdown struct {
	// ShutdownDelay is the pre-stop delay: serving goes on this long
	// after the signal, with /readyz failing. 0: none.
	ShutdownDelay time.Duration `env:"SHUTDOWN_DELAY" envDefault:"0s"`
	// ShutdownTimeout bounds the wait for requests in flight, after the
	// delay. Kubernetes' terminationGracePeriodSeconds must exceed the
	// delay plus this. 0 is the default.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"25s"`
}

// EdgeShutdown is Shutdown for the edge (SIGNGATE_EDGE_SHUTDOWN_*).
type EdgeShutdown struct {
	// ShutdownDelay is the pre-stop delay: serving goes on this long
	// after the signal, with /readyz failing. 0: none.
	ShutdownDelay time.Duration `env:"EDGE_SHUTDOWN_DELAY" envDefault:"0s"`
	// ShutdownTimeout bounds the wait for requests in flight (a download
	// still running is cut past it), after the delay. 0 is the default.
	ShutdownTimeout time.Duration `env:"EDGE_SHUTDOWN_TIMEOUT" envDefault:"25s"`
}

// validateShutdown checks a delay and a timeout, named by their variables.
func validateShutdown(delayVar string, delay time.Duration, timeoutVar string, timeout time.Duration) []error {
	var errs []error
	if delay < 0 || delay > 10*time.Minute {
		errs = append(errs, fmt.Errorf("%s%s: %s: want 0 to 10m", Prefix, delayVar, delay))
	}
	if timeout != 0 && (timeout < time.Second || timeout > time.Hour) {
		errs = append(errs, fmt.Errorf("%s%s: %s: want 1s to 1h (0 is the default)", Prefix, timeoutVar, timeout))
	}
	return errs
}

// validGOGC reports whether v is a GC target signgate takes for
// SIGNGATE_GOGC and SIGNGATE_EDGE_GOGC: -1 (off), 0 (leave the runtime's
// own: GOGC, else Go's 100; also what a configuration built in Go
// without one says) or at least 25, below which the collector would run
// almost without pause; gogcWant says so.
func validGOGC(v int) bool { return v == -1 || v == 0 || v >= 25 }

const gogcWant = "%d: want -1 (off), 0 (the runtime's own) or at least 25"
