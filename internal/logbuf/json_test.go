package logbuf

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/internal/testenv"
)

// TestAppendRecordMatchesSlog: over generated records, and handlers with
// generated attributes of their own, appendRecord writes exactly what
// slog's JSON handler writes, or refuses the record. The generator draws
// strings from the bytes JSON escapes (quotes, backslashes, control
// bytes, invalid UTF-8, U+2028/9, HTML's <>&) as well as plain text,
// times in any zone with any nanoseconds and years beyond four digits,
// levels between and beyond the named ones, and values of every kind
// slog has, the ones appendRecord refuses included.
func TestAppendRecordMatchesSlog(t *testing.T) {
	fast := 0
	for seed := range uint64(5000) {
		r := rand.New(rand.NewPCG(seed, 2))
		var want bytes.Buffer
		var h slog.Handler = slog.NewJSONHandler(&want, nil)
		var pre []byte
		ok := true
		if r.IntN(2) == 0 {
			as := genAttrs(r, r.IntN(3))
			h = h.WithAttrs(as)
			pre, ok = appendAttrs(nil, as)
		}
		rec := slog.NewRecord(genTime(r), slog.Level(r.IntN(20)-8), genString(r), 0)
		rec.AddAttrs(genAttrs(r, r.IntN(9))...)
		if err := h.Handle(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		if !ok {
			continue // the handler's attributes: slog's handler alone
		}
		got, ok := appendRecord(nil, rec, pre)
		if !ok {
			continue
		}
		fast++
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("seed %d:\nappendRecord %s\nslog         %s", seed, got, want.Bytes())
		}
	}
	if fast < 1200 {
		t.Fatalf("only %d of 5000 records were encoded by appendRecord: the generator misses its cases", fast)
	}
}

// TestJSONHandlerFastAndSlowAgree: the same lines, batched or not,
// through JSON's handler and through slog's own, with attributes and a
// group, come out the same.
func TestJSONHandlerFastAndSlowAgree(t *testing.T) {
	var ours, theirs bytes.Buffer
	w := New(&ours)
	a := slog.New(JSON(w, nil, "request")).With("server", "edge", "n", 3)
	b := slog.New(slog.NewJSONHandler(&theirs, nil)).With("server", "edge", "n", 3)
	for _, l := range []*slog.Logger{a, b} {
		l.Info("request", "method", "GET", "path", "/v/a\"b\x01\u2028.ts", "status", 200, "bytes", int64(1024), "duration", 1500*time.Microsecond, "ok", true)
		l.Info("request", "when", time.Unix(1, 0).UTC()) // a kind the fast path leaves to slog
		l.WithGroup("g").Info("request", "path", "/in/a/group")
		l.Info("listening", "addr", "127.0.0.1:0")
	}
	w.Close()
	strip := func(s string) string { // the times differ: cut them out
		var out []string
		for _, line := range strings.Split(s, "\n") {
			if i := strings.Index(line, `"level"`); i > 0 {
				line = line[i:]
			}
			out = append(out, line)
		}
		return strings.Join(out, "\n")
	}
	if strip(ours.String()) != strip(theirs.String()) {
		t.Fatalf("JSON's handler wrote\n%s\nslog's\n%s", ours.String(), theirs.String())
	}
}

func genAttrs(r *rand.Rand, n int) []slog.Attr {
	as := make([]slog.Attr, n)
	for i := range as {
		k := "k" + genString(r)
		if r.IntN(2) == 0 {
			k = genString(r) // empty one time in eight: refused
		}
		kind := r.IntN(8) // mostly kinds appendRecord encodes
		if r.IntN(15) == 0 {
			kind = 8 + r.IntN(4)
		}
		switch kind {
		case 0, 1:
			as[i] = slog.String(k, genString(r))
		case 3:
			as[i] = slog.Int64(k, r.Int64()-r.Int64())
		case 4:
			as[i] = slog.Uint64(k, r.Uint64())
		case 5:
			as[i] = slog.Bool(k, r.IntN(2) == 0)
		case 6:
			as[i] = slog.Duration(k, time.Duration(r.Int64()-r.Int64()))
		case 7:
			as[i] = slog.Int(k, r.IntN(600))
		case 8:
			as[i] = slog.Float64(k, r.Float64())
		case 9:
			as[i] = slog.Time(k, genTime(r))
		case 10:
			as[i] = slog.Any(k, []int{r.IntN(9)})
		default:
			as[i] = slog.Group(k, slog.String("x", genString(r)))
		}
	}
	return as
}

func genString(r *rand.Rand) string {
	pieces := []string{"a", "/v/1k.ts", "GET", "Z", " ", "\"", "\\", "\n", "\r", "\t", "\x00", "\x1f", "\x7f", "<", ">", "&", "é", "日本", "\u2028", "\u2029", "\xff", "\xc3", "\xed\xa0\x80", "\U0001F600", "%2F"}
	s := testenv.Pieces(r, pieces, 8)
	if r.IntN(50) == 0 {
		return strings.ToValidUTF8(s, "")
	}
	return s
}

func genTime(r *rand.Rand) time.Time {
	switch r.IntN(10) {
	case 0:
		return time.Time{}
	case 1:
		return time.Date(10000+r.IntN(5), 1, 1, 0, 0, 0, 0, time.UTC) // five digits: refused
	case 2:
		return time.Date(-r.IntN(5)-1, 1, 1, 0, 0, 0, 0, time.UTC)
	case 3:
		return time.Now() // a monotonic reading, which slog strips
	}
	zone := time.FixedZone("", (r.IntN(49)-24)*1800)
	if r.IntN(3) == 0 {
		zone = time.UTC
	}
	return time.Unix(r.Int64N(1<<36)-1<<35, r.Int64N(1e9)*int64(r.IntN(2))).In(zone)
}

// BenchmarkAccessLine is an access line through JSON's handler (the
// batched encoder) against slog's JSON handler, both into a buffer, and
// through LogAccess, which builds no record.
func BenchmarkAccessLine(b *testing.B) {
	rec := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	rec.AddAttrs(slog.String("method", "GET"), slog.String("host", "media.example.com"), slog.String("path", "/media/v/clip.mp4"),
		slog.Int("status", 302), slog.Int64("bytes", 0), slog.Duration("duration", 21*time.Microsecond), slog.String("peer", "127.0.0.1:40000"))
	for _, bc := range []struct {
		name string
		h    func(w *Writer) slog.Handler
	}{
		{"slog", func(w *Writer) slog.Handler { return slog.NewJSONHandler(w, nil) }},
		{"logbuf", func(w *Writer) slog.Handler { return JSON(w, nil, "request") }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := New(discard{})
			defer w.Close()
			h := bc.h(w).WithAttrs([]slog.Attr{slog.String("server", "gateway")})
			b.ReportAllocs()
			for b.Loop() {
				if err := h.Handle(context.Background(), rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("LogAccess", func(b *testing.B) { // what httpx.AccessLog calls
		w := New(discard{})
		defer w.Close()
		h := JSON(w, nil, "request").WithAttrs([]slog.Attr{slog.String("server", "gateway")})
		a := Access{Method: "GET", Host: "media.example.com", Path: "/media/v/clip.mp4", Status: 302, Duration: 21 * time.Microsecond, Peer: "127.0.0.1:40000"}
		t := time.Now()
		b.ReportAllocs()
		for b.Loop() {
			if err := LogAccess(context.Background(), h, t, "request", &a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestAppendTimeMatchesFormat holds appendTime, which formats a second
// once for every line in it, to time's own RFC 3339 formatting over
// generated times: runs of lines in one second and location (the stamp
// reused), seconds and zones that change, zone offsets of every half
// hour and with seconds, a location's DST change, and the years 0 and
// 9999.
func TestAppendTimeMatchesFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	zones := []*time.Location{time.UTC, time.Local, time.FixedZone("", 5*3600+30*60+17), time.FixedZone("X", -12*3600)}
	if ny, err := time.LoadLocation("America/New_York"); err == nil {
		zones = append(zones, ny)
	}
	for i := 0; i < 200000; i++ {
		var tm time.Time
		switch r.IntN(4) {
		case 0: // any second, in any zone
			tm = time.Unix(r.Int64N(1<<36)-1<<35, r.Int64N(1e9))
		case 1: // year 0 or 9999
			tm = time.Date([]int{0, 9999}[r.IntN(2)], time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e9), time.UTC)
		case 2: // around a DST change, a second at a time
			tm = time.Date(2026, 3, 8, 6, 59, 58, 0, time.UTC).Add(time.Duration(r.IntN(5)) * time.Second)
		default: // the stamp's second again, or the next one
			tm = time.Unix(1796000000+int64(r.IntN(2)), r.Int64N(1e9))
		}
		switch r.IntN(4) {
		case 0:
			tm = tm.Truncate(time.Millisecond)
		case 1:
			tm = tm.Add(-time.Duration(tm.Nanosecond())) // a whole second: no fraction
		}
		tm = tm.In(zones[r.IntN(len(zones))])
		want := string(tm.AppendFormat(nil, time.RFC3339Nano))
		if got := string(appendTime([]byte("x"), tm)); got != "x"+want {
			t.Fatalf("appendTime(%v) = %q, want %q", tm, got[1:], want)
		}
	}
}
