package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
)

// BusyError is Run's error when one of its addresses is taken by another
// program. Name says which: "gateway", "edge" or "api".
type BusyError struct {
	Name, Addr string
	Err        error
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("%s: %s is already in use", e.Name, e.Addr)
}

func (e *BusyError) Unwrap() error { return e.Err }

// bind listens on every named address, or on none. An address in use
// gives a *BusyError.
func bind(ctx context.Context, addrs map[string]string) (map[string]net.Listener, error) {
	var lc net.ListenConfig
	ls := make(map[string]net.Listener, len(addrs))
	for name, a := range addrs {
		l, err := lc.Listen(ctx, "tcp", a)
		if err != nil {
			for _, o := range ls {
				o.Close()
			}
			if errors.Is(err, syscall.EADDRINUSE) {
				return nil, &BusyError{Name: name, Addr: a, Err: err}
			}
			return nil, fmt.Errorf("%s: listen on %s: %w", name, a, err)
		}
		ls[name] = l
	}
	return ls, nil
}

// webOrigins returns the origins a browser may give the page from addr,
// a bound host:port: http://addr, and for a loopback or unspecified host
// http://127.0.0.1:PORT and http://localhost:PORT too.
func webOrigins(addr string) []string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return []string{"http://" + addr}
	}
	out := []string{(&url.URL{Scheme: "http", Host: addr}).String()}
	if ip := net.ParseIP(host); ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		for _, h := range []string{"127.0.0.1", "localhost"} {
			if o := "http://" + net.JoinHostPort(h, port); o != out[0] {
				out = append(out, o)
			}
		}
	}
	return out
}
