package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/signgate/signgate/internal/httpx"
)

// pageSize is the size of the upstream app's pages.
const pageSize = 4096

// runApp is "chaos app -role upstream|forward -listen ADDR": the app the
// gateway passes requests through to, or its forward-auth app. The soak
// runs each as its own process, so that it can kill one and start it
// again on the same port.
//
// The forward-auth app accepts a request with a "session" cookie (its
// value is the user) and refuses one without. POST /control?delay=D makes
// every check wait D first, which is how the soak slows it down.
func runApp(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	role := fs.String("role", "", "upstream or forward")
	listen := fs.String("listen", "", "address to serve on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var h http.Handler
	switch *role {
	case "upstream":
		h = upstreamApp()
	case "forward":
		h = forwardApp()
	default:
		return errors.New("app: -role must be upstream or forward")
	}
	return httpx.ServeDrain(ctx, slog.New(slog.DiscardHandler), nil, httpx.Drain{Timeout: 5 * time.Second},
		httpx.Listener{Name: "app", Addr: *listen, Handler: h})
}

func upstreamApp() http.Handler {
	page := []byte(strings.Repeat("p", pageSize))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(page)
	})
}

func forwardApp() http.Handler {
	var delay atomic.Int64 // nanoseconds
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /control", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("delay"))
		if err != nil || d < 0 {
			http.Error(w, "delay: want a duration", http.StatusBadRequest)
			return
		}
		delay.Store(int64(d))
	})
	mux.HandleFunc("GET /check", func(w http.ResponseWriter, r *http.Request) {
		if d := time.Duration(delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
		c, err := r.Cookie("session")
		if err != nil || c.Value == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Auth-User", c.Value)
	})
	return mux
}
