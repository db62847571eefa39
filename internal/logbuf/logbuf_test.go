package logbuf

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signgate/signgate/internal/testenv"
)

// TestWriterKeepsEveryLineWholeAndInOrder is the writer's invariant, over
// generated writers and line sizes (some past the buffer): after Close,
// the output is exactly the lines written, each whole, each writer's in
// its order, nothing lost and nothing doubled.
func TestWriterKeepsEveryLineWholeAndInOrder(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		out := &testenv.Buffer{}
		w := New(out)
		writers, lines := 1+r.IntN(8), 1+r.IntN(400)
		sizes := make([][]int, writers)
		for g := range sizes {
			for range lines {
				n := r.IntN(200)
				if r.IntN(50) == 0 {
					n = Size + r.IntN(Size) // a line larger than the buffer
				}
				sizes[g] = append(sizes[g], n)
			}
		}
		var wg sync.WaitGroup
		for g := range writers {
			wg.Go(func() {
				for i, n := range sizes[g] {
					line := fmt.Sprintf("w%d l%d %s\n", g, i, strings.Repeat("x", n))
					if k, err := w.Write([]byte(line)); err != nil || k != len(line) {
						t.Errorf("Write = %d, %v", k, err)
					}
					if i%97 == 0 {
						w.Flush()
					}
				}
			})
		}
		wg.Wait()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		next := make([]int, writers)
		got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		for _, line := range got {
			var g, i int
			var xs string
			if _, err := fmt.Sscanf(line, "w%d l%d %s", &g, &i, &xs); err != nil && !strings.HasSuffix(line, " ") {
				t.Fatalf("seed %d: line %.40q is not one written: %v", seed, line, err)
			}
			if g >= writers || i != next[g] || len(line) != len(fmt.Sprintf("w%d l%d ", g, i))+sizes[g][i] {
				t.Fatalf("seed %d: line %.40q (%d bytes): want writer %d's line %d next, whole", seed, line, len(line), g, next[min(g, writers-1)])
			}
			next[g]++
		}
		for g := range writers {
			if next[g] != lines {
				t.Fatalf("seed %d: writer %d: %d lines out, %d written", seed, g, next[g], lines)
			}
		}
	}
}

// TestWriterFlushesWithinTheInterval: a line left alone is out within
// the interval (polled with a deadline: it is the ticker's job).
func TestWriterFlushesWithinTheInterval(t *testing.T) {
	out := &testenv.Buffer{}
	w := New(out)
	defer w.Close()
	start := time.Now()
	w.Write([]byte("one\n"))
	if out.String() != "" {
		t.Fatal("a small line went out at once: not buffered")
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for out.String() != "one\n" {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("after %s the output is %q", time.Since(start), out.String())
		}
		<-tick.C
	}
	t.Logf("out after %s (interval %s)", time.Since(start).Round(time.Millisecond), Interval)
}

// TestHandlerBatchesOnlyAccessLines: an INFO access line waits; any
// other INFO line, and a WARN or an ERROR even with an access line's
// message, is out (with what waited before it) when Handle returns;
// after Close, records go straight through.
func TestHandlerBatchesOnlyAccessLines(t *testing.T) {
	out := &testenv.Buffer{}
	w := New(out)
	log := slog.New(JSON(w, nil, "request")).With("server", "gateway")
	log.Info("request", "path", "/a")
	if out.String() != "" {
		t.Fatalf("an access line went out at once: %s", out)
	}
	log.Info("listening")
	if s := out.String(); !strings.Contains(s, `"path":"/a"`) || !strings.Contains(s, `"msg":"listening"`) {
		t.Fatalf("after an INFO line that is not an access line, the output is %s", s)
	}
	out.Reset()
	log.Info("request", "path", "/b")
	log.Warn("request", "path", "/c")
	if s := out.String(); !strings.Contains(s, `"path":"/b"`) || !strings.Contains(s, `"path":"/c"`) {
		t.Fatalf("after a WARN, the output is %s", s)
	}
	out.Reset()
	log.Info("request", "path", "/d")
	log.Warn("drain timeout")
	if s := out.String(); !strings.Contains(s, `"path":"/d"`) || !strings.Contains(s, `"msg":"drain timeout","server":"gateway"`) {
		t.Fatalf("after a WARN, the output is %s", s)
	}
	w.Close()
	out.Reset()
	log.Info("after close")
	if !strings.Contains(out.String(), "after close") {
		t.Fatalf("after Close, an INFO record waited: %q", out.String())
	}
}
