package httpx

import (
	"errors"
	"io"
	"sync/atomic"
	"time"
)

// ErrBodyStalled is a response body whose next bytes did not come within
// its idle bound (IdleBody).
var ErrBodyStalled = errors.New("response body stalled")

// IdleBody bounds the progress of a response body read from an origin:
// a Read that waits longer than idle for its next bytes fails with
// ErrBodyStalled, and the body is closed, which frees its connection.
// Only time spent inside Read counts, so a slow client that the caller
// copies to is not taken for a stalled origin. idle 0 or less: body as is.
func IdleBody(body io.ReadCloser, idle time.Duration) io.ReadCloser {
	if idle <= 0 {
		return body
	}
	b := &idleBody{body: body, idle: idle}
	b.timer = time.AfterFunc(time.Hour, b.fire)
	b.timer.Stop()
	return b
}

// The states of an idleBody.
const (
	idleWaiting int32 = iota // between reads: the timer does not count
	idleReading              // inside Read
	idleCut                  // the timer fired inside Read
)

type idleBody struct {
	body  io.ReadCloser
	idle  time.Duration
	timer *time.Timer
	state atomic.Int32
}

// fire cuts the body if, and only if, a Read is still waiting.
func (b *idleBody) fire() {
	if b.state.CompareAndSwap(idleReading, idleCut) {
		b.body.Close()
	}
}

func (b *idleBody) Read(p []byte) (int, error) {
	if !b.state.CompareAndSwap(idleWaiting, idleReading) {
		return 0, ErrBodyStalled
	}
	b.timer.Reset(b.idle)
	n, err := b.body.Read(p)
	b.timer.Stop()
	if !b.state.CompareAndSwap(idleReading, idleWaiting) {
		return n, ErrBodyStalled
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	return b.body.Close()
}
