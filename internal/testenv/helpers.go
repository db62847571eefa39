package testenv

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Clock is a clock that tests move by hand. Pass its Now wherever code
// takes a clock. Safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Buffer is a bytes.Buffer safe for the concurrent writes of servers'
// loggers, for tests that read the logs afterwards.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Reset empties the buffer.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Reset()
}

// Pieces returns a generated string for a property test: fewer than max
// pieces, each drawn from pieces, joined. Pieces that matter to the code
// under test (escapes, separators, bytes of invalid UTF-8) make its
// inputs, rather than random bytes that seldom hit a rule.
func Pieces(r *rand.Rand, pieces []string, max int) string {
	var b strings.Builder
	for range r.IntN(max) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}
