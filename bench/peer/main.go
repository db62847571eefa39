package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/signgate/signgate/internal/httpx"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, nil)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "peer: %v\n", err)
		os.Exit(1)
	}
}

// run is the whole program. ready, when set, is told the bound address of
// a server (tests listen on :0).
func run(ctx context.Context, args []string, stdout io.Writer, ready func(net.Addr)) error {
	if len(args) == 0 {
		return errors.New("usage: peer redirect|files|proxy|ports ...")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	listen := fs.String("listen", "127.0.0.1:0", "address to serve on")
	var h http.Handler
	switch args[0] {
	case "redirect":
		loc := fs.String("location", "", "Location of the 302")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *loc == "" {
			return errors.New("redirect: -location is required")
		}
		h = Redirect(*loc)
	case "files":
		dir := fs.String("dir", "", "directory to serve")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
			return fmt.Errorf("files: -dir %q is not a directory", *dir)
		}
		h = http.FileServer(http.Dir(*dir))
	case "proxy":
		up := fs.String("upstream", "", "upstream `URL`")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		u, err := url.Parse(*up)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("proxy: -upstream %q is not an http(s) URL", *up)
		}
		h = Proxy(u)
	case "ports":
		if len(args) != 2 {
			return errors.New("usage: peer ports N")
		}
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 || n > 64 {
			return fmt.Errorf("ports: %q is not a number from 1 to 64", args[1])
		}
		ps, err := FreePorts(n)
		if err != nil {
			return err
		}
		for _, p := range ps {
			fmt.Fprintln(stdout, p)
		}
		return nil
	default:
		return fmt.Errorf("unknown command %q", args[0])
	}
	return serve(ctx, *listen, h, ready)
}

// Redirect is a bare net/http handler writing the answer of a signgate
// cache hit: the same status, Location and headers, no body, nothing else.
func Redirect(loc string) http.Handler {
	l, cc, rp := []string{loc}, []string{"private, no-store"}, []string{"no-referrer"}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Location"] = l
		h["Cache-Control"] = cc
		h["Referrer-Policy"] = rp
		w.WriteHeader(http.StatusFound)
	})
}

// Proxy is a bare httputil.ReverseProxy to upstream: Rewrite with SetURL
// and SetXForwarded, a transport with the same settings as the gateway's
// and pooled 32 KiB copy buffers, and nothing else. It is the ceiling of a
// reverse proxy built on net/http, as Redirect is of a redirect.
func Proxy(upstream *url.URL) http.Handler {
	pool := &sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			pr.SetXForwarded()
		},
		Transport: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          512,
			MaxIdleConnsPerHost:   512,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
			DisableCompression:    true,
		},
		BufferPool: bufferPool{pool},
	}
}

type bufferPool struct{ p *sync.Pool }

func (bp bufferPool) Get() []byte { return *bp.p.Get().(*[]byte) }

func (bp bufferPool) Put(b []byte) {
	if cap(b) == 32<<10 {
		bp.p.Put(&b)
	}
}

// FreePorts returns n distinct TCP ports that were free on 127.0.0.1 a
// moment ago.
func FreePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ps := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ps = append(ps, l.Addr().(*net.TCPAddr).Port)
	}
	return ps, nil
}

// serve serves h on addr with the same server (httpx.NewServer: timeouts
// and header limit) as signgate's listeners, until ctx is done.
func serve(ctx context.Context, addr string, h http.Handler, ready func(net.Addr)) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := httpx.NewServer(h, slog.New(slog.DiscardHandler))
	if ready != nil {
		ready(l.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
