package logbuf

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"
)

// TestLogAccessMatchesSlog: over generated access lines, through JSON's
// handler with generated attributes of its own, a group or not, a level
// that drops INFO or not, and a batched message or not, LogAccess writes
// exactly what slog's JSON handler writes of a.Record: the same bytes or,
// when it drops INFO, nothing.
func TestLogAccessMatchesSlog(t *testing.T) {
	ctx := context.Background()
	direct := 0
	for seed := range uint64(5000) {
		r := rand.New(rand.NewPCG(seed, 3))
		a := Access{
			Method: genString(r), Host: genString(r), Path: genString(r),
			Status: r.IntN(1000) - 100, Bytes: r.Int64() - r.Int64(),
			Duration: time.Duration(r.Int64() - r.Int64()), Peer: genString(r),
		}
		level := slog.LevelInfo
		if r.IntN(8) == 0 {
			level = slog.LevelWarn
		}
		var got, want bytes.Buffer
		w := New(&got)
		var ours slog.Handler = JSON(w, level, "request")
		var theirs slog.Handler = slog.NewJSONHandler(&want, &slog.HandlerOptions{Level: level})
		if r.IntN(2) == 0 {
			as := genAttrs(r, r.IntN(3))
			ours, theirs = ours.WithAttrs(as), theirs.WithAttrs(as)
		}
		if r.IntN(10) == 0 {
			ours, theirs = ours.WithGroup("g"), theirs.WithGroup("g")
		}
		msg := "request"
		if r.IntN(10) == 0 {
			msg = genString(r)
		}
		tm := genTime(r)
		if err := LogAccess(ctx, ours, tm, msg, &a); err != nil {
			t.Fatal(err)
		}
		if theirs.Enabled(ctx, slog.LevelInfo) {
			if err := theirs.Handle(ctx, a.Record(tm, msg)); err != nil {
				t.Fatal(err)
			}
		}
		w.Close()
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("seed %d:\nLogAccess %s\nslog      %s", seed, got.Bytes(), want.Bytes())
		}
		if j := ours.(*handler); j.fast && msg == "request" && level == slog.LevelInfo {
			if _, ok := appendAccess(nil, tm, msg, j.pre, &a); ok {
				direct++
			}
		}
	}
	if direct < 1500 {
		t.Fatalf("only %d of 5000 lines were encoded straight from the Access: the generator misses its cases", direct)
	}
}
