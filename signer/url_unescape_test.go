package signer

import (
	"math/rand/v2"
	"net/url"
	"testing"

	"github.com/signgate/signgate/internal/testenv"
)

// TestQueryUnescapeMatchesURL holds queryUnescape to url.QueryUnescape,
// value and error, over generated strings of the bytes that matter to
// unescaping ('%', '+', hex digits, others, invalid UTF-8) and real
// tokens' base64url.
func TestQueryUnescapeMatchesURL(t *testing.T) {
	pieces := []string{"%", "+", "2", "B", "f", "g", "z", "%2B", "%2b", "%zz", "%4", "a", "-", "_", ".", "~", " ", "=", "&", "\xff", "é",
		"eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0"}
	r := rand.New(rand.NewPCG(11, 12))
	for range 200000 {
		s := testenv.Pieces(r, pieces, 8)
		got, gerr := queryUnescape(s)
		want, werr := url.QueryUnescape(s)
		if got != want || (gerr == nil) != (werr == nil) {
			t.Fatalf("queryUnescape(%q) = %q, %v; want %q, %v", s, got, gerr, want, werr)
		}
	}
}
