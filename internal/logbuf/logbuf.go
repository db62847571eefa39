package logbuf

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Defaults of New.
const (
	// Interval is the longest a line waits in the buffer.
	Interval = 100 * time.Millisecond
	// Size is the buffer's size: a batch this large is written at once.
	Size = 32 << 10
)

// Writer buffers what is written to it and writes it to the underlying
// writer in batches: when Size bytes are waiting, every Interval, on
// Flush and on Close. Each Write is kept whole (a slog handler writes one
// record per Write), and writes keep their order. Safe for concurrent
// use. After Close, writes go straight through.
type Writer struct {
	mu     sync.Mutex
	out    io.Writer
	buf    []byte
	closed bool

	stop chan struct{}
	done chan struct{}
}

// New returns a Writer to out, flushing every Interval.
func New(out io.Writer) *Writer {
	w := &Writer{out: out, buf: make([]byte, 0, Size), stop: make(chan struct{}), done: make(chan struct{})}
	go w.tick(Interval)
	return w
}

func (w *Writer) tick(d time.Duration) {
	defer close(w.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.Flush()
		}
	}
}

// Write buffers p, writing the batch out first when p would not fit.
// Its error is the underlying writer's, from the batch written now.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.out.Write(p)
	}
	var err error
	if len(w.buf)+len(p) > cap(w.buf) {
		err = w.flushLocked()
	}
	if len(p) >= cap(w.buf) {
		if _, werr := w.out.Write(p); werr != nil {
			return 0, werr
		}
		return len(p), err
	}
	w.buf = append(w.buf, p...)
	return len(p), err
}

// Flush writes out what is waiting.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.out.Write(w.buf)
	w.buf = w.buf[:0]
	return err
}

// Close stops the ticker and flushes; later writes go straight through.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	err := w.flushLocked()
	w.mu.Unlock()
	close(w.stop)
	<-w.done
	return err
}

// JSON returns slog's JSON handler (slog.NewJSONHandler, with level)
// writing to w, such that only INFO and DEBUG records with one of the
// batched messages (access-log lines) wait in w's buffer: every other
// record is written out when Handle returns, with what waited before it.
// So start-up, reload and error lines show at once, as without a buffer.
// The batched lines themselves are encoded by appendRecord, in slog's
// exact format, where they hold only the kinds of value it encodes.
func JSON(w *Writer, level slog.Leveler, batched ...string) slog.Handler {
	return &handler{Handler: slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}), w: w, batched: batched, fast: true}
}

type handler struct {
	slog.Handler
	w       *Writer
	batched []string
	// pre encodes the attributes of WithAttrs for appendRecord; fast is
	// false once they could not be, or once a group was opened.
	pre  []byte
	fast bool
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	batched := h.batches(r.Level, r.Message)
	if batched && h.fast {
		p := lines.Get().(*[]byte)
		defer putLine(p)
		if b, ok := appendRecord((*p)[:0], r, h.pre); ok {
			*p = b
			_, err := h.w.Write(b)
			return err
		}
	}
	err := h.Handler.Handle(ctx, r)
	if !batched {
		h.w.Flush()
	}
	return err
}

// batches reports whether a line at level with message msg waits in the
// buffer: an access line below WARN.
func (h *handler) batches(level slog.Level, msg string) bool {
	return level < slog.LevelWarn && slices.Contains(h.batched, msg)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.Handler = h.Handler.WithAttrs(as)
	if c.fast {
		c.pre, c.fast = appendAttrs(append([]byte(nil), h.pre...), as)
	}
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	c := *h
	c.Handler, c.fast = h.Handler.WithGroup(name), false
	return &c
}
