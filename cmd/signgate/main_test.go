package main

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signgate/signgate/internal/testenv"
)

// lockedBuffer is testenv's Buffer: a command's output, written by its
// servers' goroutines.
type lockedBuffer = testenv.Buffer

// startCommand runs a server subcommand in the background with environ
// and waits until every listener named in listeners is bound. It returns
// the bound addresses by listener name, the command's output (stdout and
// stderr together), and stop, which cancels the command and returns its
// error. A command that fails before binding fails the test.
func startCommand(t *testing.T, environ map[string]string, listeners []string, args ...string) (addrs map[string]string, out *lockedBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &lockedBuffer{}
	var mu sync.Mutex
	addrs = map[string]string{}
	bound := make(chan struct{})
	var boundOnce sync.Once // listeners beyond those waited for come later
	e := &env{
		ctx: ctx, environ: environ, stdin: strings.NewReader(""), stdout: out, stderr: out,
		ready: func(name string, addr net.Addr) {
			mu.Lock()
			defer mu.Unlock()
			addrs[name] = addr.String()
			for _, l := range listeners {
				if _, ok := addrs[l]; !ok {
					return
				}
			}
			boundOnce.Do(func() { close(bound) })
		},
	}
	done := make(chan error, 1)
	go func() { done <- e.run(args) }()
	select {
	case <-bound:
	case err := <-done:
		cancel()
		t.Fatalf("%v exited before listening: %v\n%s", args, err, out)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("%v did not listen within 20s\n%s", args, out)
	}
	var once sync.Once
	var result error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case result = <-done:
			case <-time.After(30 * time.Second):
				t.Errorf("%v did not stop within 30s", args)
			}
		})
		return result
	}
	t.Cleanup(func() { stop() })
	mu.Lock()
	defer mu.Unlock()
	copied := make(map[string]string, len(addrs))
	for k, v := range addrs {
		copied[k] = v
	}
	return copied, out, stop
}
