package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// onHangup calls fn on every SIGHUP until the returned stop is called.
// The handler lives exactly as long as a server's run: the caller defers
// stop right after building what fn uses, so stop runs (and waits for a
// call of fn in progress) before that is closed, and fn is never called
// on a closed server. Without it, SIGHUP would end the process (Go's
// default).
func onHangup(ctx context.Context, fn func()) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	running, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-running.Done():
				return
			case <-hup:
				fn()
			}
		}
	}()
	return func() {
		cancel()
		<-done
		signal.Stop(hup)
	}
}
