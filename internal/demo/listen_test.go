package demo

import (
	"slices"
	"testing"
	"time"
)

func TestWebOrigins(t *testing.T) {
	for addr, want := range map[string][]string{
		"127.0.0.1:8080":    {"http://127.0.0.1:8080", "http://localhost:8080"},
		"0.0.0.0:9000":      {"http://0.0.0.0:9000", "http://127.0.0.1:9000", "http://localhost:9000"},
		"[::1]:8080":        {"http://[::1]:8080", "http://127.0.0.1:8080", "http://localhost:8080"},
		"192.0.2.7:8080":    {"http://192.0.2.7:8080"},
		"media.example:443": {"http://media.example:443"},
	} {
		if got := webOrigins(addr); !slices.Equal(got, want) {
			t.Errorf("webOrigins(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestRenewEvery: the page renews a streaming cookie at half the least
// validity a token is handed out with, so the cookie it holds keeps at
// half of it (the cache hands out tokens with all of it left), and never
// more often than each second.
func TestRenewEvery(t *testing.T) {
	for _, c := range []struct{ ttl, minValidity, want time.Duration }{
		{10 * time.Minute, 0, 150 * time.Second},
		{20 * time.Second, 10 * time.Second, 5 * time.Second},
		{12 * time.Second, 6 * time.Second, 3 * time.Second},
		{2 * time.Second, time.Second, time.Second},
	} {
		if got := renewEvery(c.ttl, c.minValidity); got != c.want {
			t.Errorf("renewEvery(%s, %s) = %s, want %s", c.ttl, c.minValidity, got, c.want)
		}
	}
}
