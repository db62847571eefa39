package edge

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// benchEdge is an edge over the test files with an authenticated "media"
// bucket and key k1, and a cache of cacheSize tokens.
func benchEdge(b *testing.B, policy string, cacheSize int) (*Edge, *signer.SigningKey) {
	b.Helper()
	cfg := baseConfig(b, b.TempDir())
	cfg.APIListen = config.APIOff
	cfg.Buckets[0].Policy = policy
	cfg.CacheSize = cacheSize
	e, err := New(cfg, Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	k := testKey(b, "key1.pem")
	k.ID, k.Bucket = "k1", "media"
	if err := e.store.CreateKey(b.Context(), Key{ID: "k1", Bucket: "media", PublicKey: signer.EncodePublicKey(&k.Key.PublicKey), Created: time.Now()}); err != nil {
		b.Fatal(err)
	}
	if err := e.Refresh(b.Context()); err != nil {
		b.Fatal(err)
	}
	return e, k
}

// serve runs one request through h and checks the status.
func serve(b *testing.B, h http.Handler, target string) {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Host = mediaHost
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Errorf("status %d", w.Code)
	}
}

// BenchmarkServe compares plain file serving with a verified request
// whose token is in the cache (hit) and one whose token is not (miss: an
// RSA verification each time).
func BenchmarkServe(b *testing.B) {
	const p = "/v/abc/seg0.ts"
	b.Run("public", func(b *testing.B) {
		e, _ := benchEdge(b, "public", 1000)
		h := e.Handler()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				serve(b, h, p)
			}
		})
	})
	b.Run("verified_hit", func(b *testing.B) {
		e, k := benchEdge(b, "authenticated", 1000)
		tok := sign(b, k, signer.Claims{URI: "/v/abc", Expires: time.Now().Add(time.Hour)})
		h := e.Handler()
		serve(b, h, p+"?auth="+tok)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				serve(b, h, p+"?auth="+tok)
			}
		})
		b.StopTimer()
		if s := e.CacheStats(); s.Misses != 1 {
			b.Errorf("hit benchmark missed: %+v", s)
		}
	})
	b.Run("verified_miss", func(b *testing.B) {
		// A cache of one entry and 64 tokens taken in turn: nearly every
		// request verifies afresh.
		e, k := benchEdge(b, "authenticated", 1)
		toks := make([]string, 64)
		for i := range toks {
			toks[i] = sign(b, k, signer.Claims{URI: "/v/abc", Expires: time.Now().Add(time.Hour + time.Duration(i)*time.Second)})
		}
		h := e.Handler()
		b.ReportAllocs()
		b.ResetTimer()
		// One counter for all goroutines: two never start on the same
		// token, which the one-entry cache would then hold for the second.
		var next atomic.Uint64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				serve(b, h, p+"?auth="+toks[next.Add(1)%uint64(len(toks))])
			}
		})
		b.StopTimer()
		if s := e.CacheStats(); s.Hits > s.Misses/10 {
			b.Errorf("miss benchmark hit too often: %+v", s)
		}
	})
}

// BenchmarkCheck is the token check alone: a cache hit (SHA-256 and a
// lookup) and a miss (an RSA verification and an insert).
func BenchmarkCheck(b *testing.B) {
	b.Run("hit", func(b *testing.B) {
		e, k := benchEdge(b, "authenticated", 1000)
		tok := sign(b, k, signer.Claims{URI: "/v/abc", Expires: time.Now().Add(time.Hour)})
		bk := e.byName["media"]
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := e.check(e.snap.Load(), bk, tok, "/v/abc/seg0.ts"); err != nil {
					b.Error(err)
				}
			}
		})
	})
	b.Run("miss", func(b *testing.B) {
		e, k := benchEdge(b, "authenticated", 1)
		toks := make([]string, 64)
		for i := range toks {
			toks[i] = sign(b, k, signer.Claims{URI: "/v/abc", Expires: time.Now().Add(time.Hour + time.Duration(i)*time.Second)})
		}
		bk := e.byName["media"]
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if err := e.check(e.snap.Load(), bk, toks[i%len(toks)], "/v/abc/seg0.ts"); err != nil {
					b.Error(err)
				}
				i++
			}
		})
	})
}
