package signer

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// residentBytes fills a Cache of n entries the way a gateway does, with
// tokens of the real size (RS256 over RSA-2048, a 36-character kid, the
// uri and exp claims) for distinct paths of a usual length, and returns
// the heap it holds per entry: HeapAlloc after a forced collection, with
// the cache, less HeapAlloc before it. Minting n real tokens would take
// n RSA signatures; one real token, copied with its last characters made
// distinct, has the same size, which is all the heap sees.
func residentBytes(t *testing.T, n int) float64 {
	t.Helper()
	key := cacheTestKey(t, "rsa2048.pem")
	key.ID = "0b9f3c1e-6a52-4d8e-9a47-2f1c8e5b7d90" // the edge's ids are UUIDs
	uri := func(i int) string { return fmt.Sprintf("/media/v/%06d/seg-%05d.ts", i/1000, i%1000) }
	exp := time.Unix(1_800_000_000, 0)
	tok, err := key.Sign(Claims{URI: uri(0), Expires: exp})
	if err != nil {
		t.Fatal(err)
	}
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	c, err := NewCache(n, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		b := []byte(tok)
		for j, v := 0, i; j < 4; j, v = j+1, v/64 {
			b[len(b)-1-j] = b64[v%64]
		}
		c.entries.Add(cacheKey{ns: "media", signer: key, uri: uri(i), prefix: true}, cacheEntry{token: Token{Params: []Param{{Name: "auth", Value: string(b)}}}, exp: exp.Unix(), refresh: exp.Unix()})
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := c.Stats().Entries; got != n {
		t.Fatalf("the cache holds %d entries, want %d", got, n)
	}
	runtime.KeepAlive(c)
	t.Logf("%d entries: %.1f MiB of heap, %.0f bytes per entry (token %d bytes, uri %d bytes)",
		n, float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), float64(after.HeapAlloc-before.HeapAlloc)/float64(n), len(tok), len(uri(0)))
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// TestCacheBytesPerEntry measures what a token cache entry costs
// (docs/gateway.md, "Memory"): about 750 bytes for a usual path, linear
// in the entries. It fails when an entry grows past 800 bytes, so that
// the documented figure, and the memory limit the gateway derives from
// it, stay true.
func TestCacheBytesPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a 100,000-entry cache")
	}
	small, full := residentBytes(t, 10_000), residentBytes(t, 100_000)
	if full > 800 {
		t.Errorf("a full default cache costs %.0f bytes per entry, over 800", full)
	}
	if r := full / small; r < 0.8 || r > 1.25 {
		t.Errorf("bytes per entry at 100,000 entries (%.0f) and at 10,000 (%.0f) differ by more than 25%%: not linear", full, small)
	}
}
