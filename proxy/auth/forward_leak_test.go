package auth

import (
	"runtime"
	"testing"
	"time"
)

// TestForwardAuthStartsNoGoroutine: golang-lru's expirable LRU started a
// cleanup goroutine per NewForward that nothing could stop (50
// constructions, 50 goroutines).
func TestForwardAuthStartsNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 50 {
		a := NewForward(ForwardOptions{URL: "http://127.0.0.1:1/check", TTL: time.Minute, CacheSize: 10})
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("goroutines: %d before 50 NewForward, %d after", before, after)
	}
}
