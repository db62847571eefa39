package proxy

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	rtmetrics "runtime/metrics"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// discardWriter is the cheapest ResponseWriter: the in-process benchmarks
// measure the handler, not a recorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }

func (d *discardWriter) reset() {
	clear(d.h)
	d.code = 0
}

// bare302 is a bare net/http handler writing the same answer as a cache
// hit: the baseline the gateway's hot path is measured against.
func bare302(loc string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Location"] = []string{loc}
		h["Cache-Control"] = []string{"private, no-store"}
		h["Referrer-Policy"] = []string{"no-referrer"}
		w.WriteHeader(http.StatusFound)
	})
}

// benchAuth are the authentication set-ups of the hot-path benchmarks.
func benchAuth() []struct {
	name string
	env  map[string]string
	hdr  func(f *fixture) map[string]string
} {
	return []struct {
		name string
		env  map[string]string
		hdr  func(f *fixture) map[string]string
	}{
		{"public", map[string]string{"SIGNGATE_ROUTES_0_PUBLIC": "true"}, func(*fixture) map[string]string { return nil }},
		{"public-nolog", map[string]string{"SIGNGATE_ROUTES_0_PUBLIC": "true", "SIGNGATE_ACCESS_LOG": "false"}, func(*fixture) map[string]string { return nil }},
		{"header", map[string]string{"SIGNGATE_AUTH": "header", "SIGNGATE_TRUSTED_PROXIES": "192.0.2.0/24"},
			func(*fixture) map[string]string { return map[string]string{"X-Forwarded-User": "alice"} }},
		{"jwt", nil, func(f *fixture) map[string]string { return bearer(f.session("alice", nil)) }},
	}
}

// BenchmarkRedirectHit is a cache-hit redirect through the whole handler
// (access log, metrics, routing, authentication, cache, URL), in process,
// against a bare handler writing the same 302 through the same harness.
func BenchmarkRedirectHit(b *testing.B) {
	for _, a := range benchAuth() {
		b.Run(a.name, func(b *testing.B) {
			f := newFixture(b, a.env)
			benchInProcess(b, f.gw.Handler(), a.hdr(f), "/media/v/clip.mp4?start=10")
		})
	}
	b.Run("bare-net/http", func(b *testing.B) {
		f := newFixture(b, map[string]string{"SIGNGATE_ROUTES_0_PUBLIC": "true"})
		loc := f.do("GET", "/media/v/clip.mp4?start=10", nil).Header.Get("Location")
		benchInProcess(b, bare302(loc), nil, "/media/v/clip.mp4?start=10")
	})
}

// cpuPerOp reports the process's CPU time (user and system, GC included)
// per operation as "cpu-ns/op", from now until the returned function runs.
// On a shared machine it is steadier than wall time, and it is what "costs
// no more CPU" means. Of it, "gc-cpu-ns/op" is the collector's share, as
// the runtime estimates it (/cpu/classes/gc/total:cpu-seconds).
func cpuPerOp(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	gc := func() float64 {
		s := []rtmetrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
		rtmetrics.Read(s)
		return s[0].Value.Float64() * 1e9
	}
	start, startGC := cpu(), gc()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op")
			b.ReportMetric((gc()-startGC)/float64(b.N), "gc-cpu-ns/op")
		}
	}
}

func benchInProcess(b *testing.B, h http.Handler, hdr map[string]string, target string) {
	b.ReportAllocs()
	defer cpuPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", target, nil)
		r.RemoteAddr = "192.0.2.1:1234"
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			w.reset()
			h.ServeHTTP(w, r)
			if w.code != http.StatusFound {
				b.Fatalf("status %d", w.code)
			}
		}
	})
}

// BenchmarkRedirectHitHTTP is the same over real loopback HTTP/1.1 with
// keep-alive: what a client sees, net/http included.
func BenchmarkRedirectHitHTTP(b *testing.B) {
	for _, a := range benchAuth() {
		if a.name == "header" {
			continue // the peer is 127.0.0.1 here, not a trusted proxy
		}
		b.Run(a.name, func(b *testing.B) {
			f := newFixture(b, a.env)
			benchHTTP(b, f.srv.URL+"/media/v/clip.mp4?start=10", a.hdr(f), http.StatusFound)
		})
	}
	b.Run("bare-net/http", func(b *testing.B) {
		f := newFixture(b, map[string]string{"SIGNGATE_ROUTES_0_PUBLIC": "true"})
		loc := f.do("GET", "/media/v/clip.mp4?start=10", nil).Header.Get("Location")
		srv := httptest.NewServer(bare302(loc))
		defer srv.Close()
		benchHTTP(b, srv.URL+"/media/v/clip.mp4?start=10", nil, http.StatusFound)
	})
}

func benchHTTP(b *testing.B, url string, hdr map[string]string, want int) {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	b.ReportAllocs()
	b.ResetTimer()
	defer cpuPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// BenchmarkRedirectMiss is a redirect whose scope is not cached: one RSA
// signature each.
func BenchmarkRedirectMiss(b *testing.B) {
	f := newFixture(b, map[string]string{"SIGNGATE_ROUTES_0_PUBLIC": "true"})
	h := f.gw.Handler()
	var n atomic.Int64
	b.ReportAllocs()
	defer cpuPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			r := httptest.NewRequest("GET", "/media/v/"+strconv.FormatInt(n.Add(1), 10)+".mp4", nil)
			w.reset()
			h.ServeHTTP(w, r)
			if w.code != http.StatusFound {
				b.Fatalf("status %d", w.code)
			}
		}
	})
	if s := f.gw.Cache().Stats(); s.Hits != 0 {
		b.Fatalf("a miss benchmark hit the cache: %+v", s)
	}
}

// BenchmarkRedirectHitResident is the public cache hit with the
// gateway's own token cache holding 100,000 other entries of the real
// shape (a ~500-byte token for a distinct path of the route) besides:
// what a full default cache adds to a hit, the collector's work
// included. The resident tokens are minted by residentSigner (copies of
// one real token made distinct), since 100,000 RSA signatures would take
// minutes; the cache stores a token the same whoever minted it.
func BenchmarkRedirectHitResident(b *testing.B) {
	f := newFixture(b, map[string]string{"SIGNGATE_ROUTES_0_PUBLIC": "true"})
	rt := f.gw.routes[0]
	tok, _, err := f.gw.cache.Token(rt.name, rt.key.Load(), "/media/seed", rt.life)
	if err != nil {
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fill := &residentSigner{token: tok}
	for i := range 100_000 {
		if _, _, err := f.gw.cache.Mint(rt.name, fill, signer.Grant{Path: fmt.Sprintf("/media/v/%d.mp4", i)}, rt.life); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ResetTimer()
	benchInProcess(b, f.gw.Handler(), nil, "/media/v/77.mp4")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "resident-MiB")
}

// residentSigner mints copies of one token, each made distinct.
type residentSigner struct {
	signer.Signer // only Mint is called, by the cache
	token         string
	n             int
}

func (s *residentSigner) Mint(signer.Grant, time.Time) (signer.Token, error) {
	s.n++
	t := []byte(s.token)
	copy(t[len(t)-8:], fmt.Sprintf("%08d", s.n))
	return signer.Token{Params: []signer.Param{{Name: "auth", Value: string(t)}}}, nil
}

// BenchmarkPassthrough is a request proxied to the upstream app over
// loopback, against the same request sent to the app directly.
func BenchmarkPassthrough(b *testing.B) {
	page := make([]byte, 4096)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(page) }))
	defer up.Close()
	b.Run("gateway", func(b *testing.B) {
		f := newFixture(b, map[string]string{"SIGNGATE_UPSTREAM": up.URL})
		benchHTTP(b, f.srv.URL+"/app/page", nil, http.StatusOK)
	})
	b.Run("direct", func(b *testing.B) {
		benchHTTP(b, up.URL+"/app/page", nil, http.StatusOK)
	})
}
