package httpx

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// readFromSpy is a ResponseWriter with its own ReadFrom, as net/http's
// has, counting the calls that reach it.
type readFromSpy struct {
	http.ResponseWriter
	calls int
}

func (s *readFromSpy) ReadFrom(src io.Reader) (int64, error) {
	s.calls++
	return io.Copy(writerOnly{s.ResponseWriter}, src)
}

// writerOnly hides every method but Write, so io.Copy cannot loop back
// into a ReadFrom.
type writerOnly struct{ io.Writer }

func TestRecorderCountsBytes(t *testing.T) {
	body := strings.Repeat("0123456789", 1000)
	tests := []struct {
		name      string
		withSpy   bool // the wrapped writer has a ReadFrom
		write     func(w http.ResponseWriter) (int64, error)
		wantCalls int
	}{
		{"Write", true, func(w http.ResponseWriter) (int64, error) {
			n, err := w.Write([]byte(body))
			return int64(n), err
		}, 0},
		{"io.Copy reaches the wrapped ReadFrom", true, func(w http.ResponseWriter) (int64, error) {
			return io.Copy(w, struct{ io.Reader }{strings.NewReader(body)})
		}, 1},
		{"io.Copy from a WriterTo writes", true, func(w http.ResponseWriter) (int64, error) {
			return io.Copy(w, strings.NewReader(body))
		}, 0},
		{"io.Copy into a writer without ReadFrom", false, func(w http.ResponseWriter) (int64, error) {
			return io.Copy(w, struct{ io.Reader }{strings.NewReader(body)})
		}, 0},
		{"io.CopyN, as http.ServeContent", true, func(w http.ResponseWriter) (int64, error) {
			return io.CopyN(w, strings.NewReader(body), int64(len(body)))
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := httptest.NewRecorder()
			spy := &readFromSpy{ResponseWriter: out}
			var inner http.ResponseWriter = out
			if tt.withSpy {
				inner = spy
			}
			rec := &Recorder{ResponseWriter: inner}
			n, err := tt.write(rec)
			if err != nil || n != int64(len(body)) {
				t.Fatalf("wrote %d, %v; want %d, nil", n, err, len(body))
			}
			if rec.Bytes != int64(len(body)) {
				t.Errorf("Bytes = %d, want %d", rec.Bytes, len(body))
			}
			if rec.StatusCode() != http.StatusOK || out.Code != http.StatusOK {
				t.Errorf("status recorded %d, sent %d; want 200", rec.StatusCode(), out.Code)
			}
			if out.Body.String() != body {
				t.Errorf("body of %d bytes differs from the %d written", out.Body.Len(), len(body))
			}
			if spy.calls != tt.wantCalls {
				t.Errorf("wrapped ReadFrom called %d times, want %d", spy.calls, tt.wantCalls)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A file served behind the access log, by a real server, still goes out
// through net/http's own ReadFrom (sendfile), intact, and is logged with
// its size.
func TestAccessLogKeepsSendfile(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 1<<20)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(dir, "seg.ts"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	logged := AccessLog(slog.New(slog.NewJSONHandler(&logs, nil)))(http.FileServer(http.Dir(dir)))
	calls := make(chan int, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		spy := &readFromSpy{ResponseWriter: w}
		logged.ServeHTTP(spy, r)
		calls <- spy.calls // after the access log line is written
	}))
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL + "/seg.ts")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, data) {
		t.Fatalf("status %d, %d bytes, %v; want 200 and the file's %d bytes", resp.StatusCode, len(got), err, len(data))
	}
	select {
	case n := <-calls:
		if n != 1 {
			t.Errorf("the server's ReadFrom was reached %d times, want once", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not finish")
	}
	var line struct {
		Status int   `json:"status"`
		Bytes  int64 `json:"bytes"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(logs.String())), &line); err != nil {
		t.Fatalf("access log %q: %v", logs.String(), err)
	}
	if line.Status != http.StatusOK || line.Bytes != int64(len(data)) {
		t.Errorf("access log says status %d, %d bytes; want 200, %d", line.Status, line.Bytes, len(data))
	}
}

// BenchmarkServeFile serves a file over loopback HTTP/1.1 (keep-alive),
// from a bare http.FileServer and from one behind the access log (JSON,
// discarded): the access log must not take sendfile away.
func BenchmarkServeFile(b *testing.B) {
	dir := b.TempDir()
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"1MiB", 1 << 20}} {
		data := make([]byte, size.n)
		rand.Read(data)
		if err := os.WriteFile(filepath.Join(dir, size.name), data, 0o644); err != nil {
			b.Fatal(err)
		}
		fs := http.FileServer(http.Dir(dir))
		for _, h := range []struct {
			name string
			h    http.Handler
		}{
			{"bare", fs},
			{"accesslog", AccessLog(slog.New(slog.NewJSONHandler(io.Discard, nil)))(fs)},
		} {
			b.Run(size.name+"/"+h.name, func(b *testing.B) {
				srv := httptest.NewServer(h.h)
				defer srv.Close()
				c := srv.Client()
				b.SetBytes(int64(size.n))
				b.ReportAllocs()
				for b.Loop() {
					resp, err := c.Get(srv.URL + "/" + size.name)
					if err != nil {
						b.Fatal(err)
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if n != int64(size.n) {
						b.Fatalf("read %d bytes, want %d", n, size.n)
					}
				}
			})
		}
	}
}

func TestAccessLogLine(t *testing.T) {
	tests := []struct {
		name  string
		level slog.Level
		want  bool // a line is written
	}{
		{"info", slog.LevelInfo, true},
		{"warn drops access lines", slog.LevelWarn, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: tt.level}))
			h := AccessLog(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusFound)
			}))
			r := httptest.NewRequest("GET", "http://cdn.example/v/a.ts?auth=SECRET-TOKEN", nil)
			r.RemoteAddr = "192.0.2.7:4242"
			before := time.Now()
			h.ServeHTTP(httptest.NewRecorder(), r)
			out := logs.String()
			if !tt.want {
				if out != "" {
					t.Fatalf("logged %q at level %v", out, tt.level)
				}
				return
			}
			if strings.Contains(out, "SECRET-TOKEN") || strings.Contains(out, "auth=") {
				t.Fatalf("the query reached the access log: %s", out)
			}
			var line struct {
				Time     time.Time `json:"time"`
				Level    string    `json:"level"`
				Msg      string    `json:"msg"`
				Method   string    `json:"method"`
				Host     string    `json:"host"`
				Path     string    `json:"path"`
				Status   int       `json:"status"`
				Bytes    int64     `json:"bytes"`
				Duration int64     `json:"duration"`
				Peer     string    `json:"peer"`
			}
			if err := json.Unmarshal([]byte(out), &line); err != nil {
				t.Fatalf("access log %q: %v", out, err)
			}
			want := "INFO request GET cdn.example /v/a.ts 302 0 192.0.2.7:4242"
			got := strings.Join([]string{line.Level, line.Msg, line.Method, line.Host, line.Path,
				strconv.Itoa(line.Status), strconv.FormatInt(line.Bytes, 10), line.Peer}, " ")
			if got != want {
				t.Errorf("access line %q, want %q", got, want)
			}
			if line.Time.Before(before.Truncate(time.Millisecond)) || line.Time.After(time.Now()) || line.Duration < 0 {
				t.Errorf("time %v, duration %d: want the end of the request and a duration >= 0", line.Time, line.Duration)
			}
		})
	}
}

// BenchmarkAccessLog is the access log's price per request around a
// handler that only writes a status: no log, a discarding handler, and
// the JSON handler the commands use, writing to /dev/null.
func BenchmarkAccessLog(b *testing.B) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"none", next},
		{"discard", AccessLog(slog.New(slog.DiscardHandler))(next)},
		{"json", AccessLog(slog.New(slog.NewJSONHandler(devnull, nil)))(next)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/v/1k.ts", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, r)
			}
		})
	}
}
