package main

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSettingsDefaultsAndErrors(t *testing.T) {
	s, err := loadSettings(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Duration != 10*time.Minute || s.Rate != 200 || s.Prefill != s.CacheSize || len(s.faults) != 5 || s.goMemLimit() != "483183819" {
		t.Errorf("defaults: %+v (GOMEMLIMIT %s)", s, s.goMemLimit())
	}
	_, err = loadSettings(map[string]string{
		"SOAK_RATE": "0", "SOAK_MIX": "hit=1,bogus=2", "SOAK_FAULTS": "rotate,flood",
		"SOAK_RSS_LIMIT": "512M", "SOAK_GOMEMLIMIT": "lots", "SOAK_GATEWAY_ENV": "GOGC",
	})
	for _, name := range []string{"SOAK_RATE", "SOAK_MIX", "SOAK_FAULTS", "SOAK_RSS_LIMIT", "SOAK_GOMEMLIMIT", "SOAK_GATEWAY_ENV"} {
		if err == nil || !strings.Contains(err.Error(), name+":") {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
	s, err = loadSettings(map[string]string{"SOAK_FAULTS": "none", "SOAK_GOMEMLIMIT": "off", "SOAK_PREFILL": "0"})
	if err != nil || len(s.faults) != 0 || s.goMemLimit() != "" || s.Prefill != 0 {
		t.Errorf("no faults, no GOMEMLIMIT, no prefill: %+v, %v", s, err)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"512MiB": 512 << 20, "1GiB": 1 << 30, "100": 100, "7KiB": 7 << 10, "3B": 3} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "512M", "-1MiB", "x"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q): no error", in)
		}
	}
}

// The picker keeps to the weights of the mix.
func TestPickerWeights(t *testing.T) {
	mix, err := parseMix("hit=60,pass=30,api=10")
	if err != nil {
		t.Fatal(err)
	}
	p := newPicker(mix, 1)
	n := map[string]int{}
	for range 100_000 {
		n[p.next()]++
	}
	for c, w := range map[string]float64{"hit": 0.6, "pass": 0.3, "api": 0.1} {
		if got := float64(n[c]) / 100_000; math.Abs(got-w) > 0.01 {
			t.Errorf("%s: %.3f of the requests, want %.2f", c, got, w)
		}
	}
}

// An error is expected only with its class and cause, from the start of
// its fault's window to the end of its grace.
func TestExpectedWindows(t *testing.T) {
	r := newRecorder(time.Now(), time.Minute)
	w := r.expect("upstream", "pass", "pass 502 bad_gateway")
	before, during := w.from.Add(-time.Second), w.from.Add(time.Millisecond)
	r.end(w, 50*time.Millisecond)
	afterGrace := w.to.Add(time.Millisecond)
	for _, tc := range []struct {
		class, cause string
		sent, done   time.Time
		want         string
	}{
		{"pass", "pass 502 bad_gateway", during, during, "upstream"},
		{"pass", "pass 502 bad_gateway", before, during, "upstream"}, // in flight when it began
		{"pass", "pass 502 bad_gateway", before, before, ""},         // over before it began
		{"pass", "pass 502 bad_gateway", afterGrace, afterGrace, ""}, // sent after the grace
		{"pass", "pass 504 gateway_timeout", during, during, ""},     // another cause
		{"hit", "pass 502 bad_gateway", during, during, ""},          // another class
		{"pass", "pass conn refused", during, during, ""},            // the gateway itself refused
	} {
		r.mu.Lock()
		got := r.expectedBy(tc.class, tc.cause, tc.sent, tc.done)
		r.mu.Unlock()
		if got != tc.want {
			t.Errorf("%s %q sent %v done %v after the start: expected by %q, want %q", tc.class, tc.cause, tc.sent.Sub(w.from), tc.done.Sub(w.from), got, tc.want)
		}
	}
	r.record("pass", during, during, "pass 502 bad_gateway")
	r.record("pass", afterGrace, afterGrace, "pass 502 bad_gateway")
	r.record("pass", during, during, "")
	if r.unexpected() != 1 || r.counts["pass"].expected != 1 || r.counts["pass"].ok != 1 {
		t.Errorf("tallies: %+v, unexpected %d", *r.counts["pass"], r.unexpected())
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if percentile(v, 50) != 5 || percentile(v, 99) != 10 || percentile(v, 10) != 1 || !math.IsNaN(percentile(nil, 50)) {
		t.Errorf("percentiles of 1..10: %v %v %v", percentile(v, 50), percentile(v, 99), percentile(v, 10))
	}
}

// Growth compares the peaks of the two halves of the load, leaving out
// the prefill before it.
func TestGrowth(t *testing.T) {
	t0 := time.Now()
	ss := []sample{
		{t: t0.Add(-10 * time.Second), rss: 900}, // prefill: ignored
		{t: t0.Add(1 * time.Second), rss: 100},
		{t: t0.Add(20 * time.Second), rss: 300},
		{t: t0.Add(40 * time.Second), rss: 250},
		{t: t0.Add(59 * time.Second), rss: 350},
		{t: t0.Add(70 * time.Second), rss: 990}, // after the load: ignored
	}
	if a, b := growth(ss, t0, time.Minute); a != 300 || b != 350 {
		t.Errorf("growth = %d, %d; want 300, 350", a, b)
	}
}

func TestReason(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":{"code":"bad_gateway","message":"x"}}`:   "bad_gateway", // the gateway's
		`{"error":403,"code":"unknown_key","message":"x"}`: "unknown_key", // the edge's
		`not json`: "from-header",
	} {
		resp := &http.Response{Header: http.Header{"X-Signgate-Reason": {"from-header"}}}
		if got := reason(resp, []byte(body)); got != want {
			t.Errorf("reason(%s) = %q, want %q", body, got, want)
		}
	}
	if got := reason(&http.Response{Header: http.Header{}}, nil); got != "(no code)" {
		t.Errorf("no code: %q", got)
	}
}

func TestConnKind(t *testing.T) {
	// A closed port: refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = http.Get("http://" + addr + "/")
	if got := connKind(err); got != "refused" {
		t.Errorf("closed port: %q (%v)", got, err)
	}
	for err, want := range map[error]string{
		syscall.ECONNRESET:       "reset",
		context.DeadlineExceeded: "timeout",
		io.ErrUnexpectedEOF:      "eof",
		errors.New("what"):       "other",
	} {
		if got := connKind(err); got != want {
			t.Errorf("connKind(%v) = %q, want %q", err, got, want)
		}
	}
}

// The load against real servers: the checks of each class, and a cause
// per failure.
func TestSendChecksAnswers(t *testing.T) {
	var edgeBase string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/app/"):
			w.Write([]byte(strings.Repeat("p", pageSize)))
		case r.URL.Path == "/media/v/1.ts":
			w.Header().Set("Location", edgeBase+r.URL.Path+"?auth=t")
			w.WriteHeader(http.StatusFound)
		case r.URL.Path == "/media/v/2.ts":
			w.Header().Set("Location", "https://elsewhere.example"+r.URL.Path+"?auth=t")
			w.WriteHeader(http.StatusFound)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":{"code":"auth_unavailable","message":"x"}}`))
		}
	}))
	defer gw.Close()
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("m", hitSize)))
	}))
	defer edge.Close()
	edgeBase = edge.URL
	tg := &target{gateway: gw.URL, edge: edge.URL, client: newClient(5*time.Second, 4)}
	ctx := context.Background()
	for _, tc := range []struct {
		class string
		seq   uint64
		want  string
	}{
		{"pass", 0, ""},
		{"hit", 1, ""},
		{"edge", 1, ""},
		{"hit", 2, "hit bad answer: Location is not the edge's URL of the path with a token"},
		{"forward", 3, "forward 503 auth_unavailable"},
		{"edge", 3, "edge gateway 503 auth_unavailable"},
	} {
		if got := tg.send(ctx, tc.class, tc.seq); got != tc.want {
			t.Errorf("%s #%d: %q, want %q", tc.class, tc.seq, got, tc.want)
		}
	}
}
