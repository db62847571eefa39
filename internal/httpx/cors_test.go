package httpx

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// One rule for "*" in both servers: any origin, never with credentials; a
// list echoes the origin with credentials and varies by Origin.
func TestCORS(t *testing.T) {
	for _, tc := range []struct {
		name        string
		origins     []string
		origin      string
		allow, cred string
		vary        bool
	}{
		{"listed origin", []string{"https://app.example"}, "https://app.example", "https://app.example", "true", true},
		{"listed origin, other case", []string{"https://App.example"}, "https://app.EXAMPLE", "https://app.EXAMPLE", "true", true},
		{"unlisted origin", []string{"https://app.example"}, "https://evil.example", "", "", true},
		{"star: any origin, no credentials", []string{"*"}, "https://evil.example", "*", "", false},
		{"no origins: nothing", nil, "https://app.example", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCORS(tc.origins, []string{"Range"}, []string{"Location"}, 10*time.Minute)
			for _, preflight := range []bool{false, true} {
				r := httptest.NewRequest("GET", "/x", nil)
				if preflight {
					r.Method = http.MethodOptions
					r.Header.Set("Access-Control-Request-Method", "GET")
				}
				r.Header.Set("Origin", tc.origin)
				h := http.Header{}
				if preflight {
					if !IsPreflight(r) {
						t.Fatal("not a preflight")
					}
					if ok := c.Preflight(h, r); ok != (tc.allow != "") {
						t.Errorf("preflight allowed: %v", ok)
					}
				} else {
					c.Decorate(h, r)
					if got := h.Get("Vary") == "Origin"; got != tc.vary {
						t.Errorf("Vary %q", h.Get("Vary"))
					}
				}
				if got := h.Get("Access-Control-Allow-Origin"); got != tc.allow {
					t.Errorf("preflight %v: Allow-Origin %q, want %q", preflight, got, tc.allow)
				}
				if got := h.Get("Access-Control-Allow-Credentials"); got != tc.cred {
					t.Errorf("preflight %v: Allow-Credentials %q, want %q", preflight, got, tc.cred)
				}
			}
		})
	}
	// A preflight for anything but GET or HEAD is not allowed.
	c := NewCORS([]string{"*"}, nil, nil, time.Minute)
	r := httptest.NewRequest("OPTIONS", "/x", nil)
	r.Header.Set("Origin", "https://a.example")
	r.Header.Set("Access-Control-Request-Method", "POST")
	if h := (http.Header{}); c.Preflight(h, r) || h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a POST preflight was allowed: %v", h)
	}
}
