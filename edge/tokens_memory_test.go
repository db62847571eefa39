package edge

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// verifiedBytes is the live heap, per entry, of a verified-token cache
// holding n tokens of one key for one bucket, each with its own path, as
// check caches them (the URI is the claims' own string).
func verifiedBytes(t *testing.T, n int) float64 {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key := signer.PublicKey{ID: "0b9f3c1e-6a52-4d8e-9a47-2f1c8e5b7d90", Bucket: "media", Key: &rk.PublicKey}
	b := &bucket{}
	exp, nbf := time.Unix(1_800_000_000, 0), time.Unix(1_700_000_000, 0)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	c, err := newTokenCache(n)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		uri := fmt.Sprintf("/media/v/%06d/seg-%05d.ts", i/1000, i%1000)
		c.lru.Add(sha256.Sum256([]byte(uri)), verified{key: key, kid: key.ID, space: b, uri: uri, exp: exp, nbf: nbf})
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := c.stats().Entries; got != n {
		t.Fatalf("the cache holds %d entries, want %d", got, n)
	}
	runtime.KeepAlive(c)
	per := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	t.Logf("%d verified tokens: %.0f bytes per entry", n, per)
	return per
}

// TestVerifiedBytesPerEntry bounds what edgeBudget (cmd/signgate) assumes
// of an entry of the verified-token cache, and that the cost is linear.
func TestVerifiedBytesPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a 100,000-entry cache")
	}
	small, full := verifiedBytes(t, 10_000), verifiedBytes(t, 100_000)
	if full > 512 {
		t.Errorf("a full default cache costs %.0f bytes per entry, over the 512 the edge's memory budget assumes", full)
	}
	if r := full / small; r < 0.8 || r > 1.25 {
		t.Errorf("bytes per entry at 100,000 entries (%.0f) and at 10,000 (%.0f) differ by more than 25%%: not linear", full, small)
	}
}
