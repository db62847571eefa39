package auth

import (
	"errors"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// TestHeaderAuthRefusesOddValues: the identity header counts from a
// trusted peer only, once, short and free of control characters.
func TestHeaderAuthRefusesOddValues(t *testing.T) {
	a := &Header{Header: "X-Forwarded-User", Trusted: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32")}}
	for _, tc := range []struct {
		name, peer string
		values     []string
		want       error
	}{
		{"ok", "192.0.2.1:1234", []string{"bob"}, nil},
		{"ipv4-mapped peer", "[::ffff:192.0.2.1]:1234", []string{"bob"}, nil},
		{"other peer", "192.0.2.2:1234", []string{"bob"}, ErrNoCredentials},
		{"twice", "192.0.2.1:1234", []string{"bob", "eve"}, ErrUnauthenticated},
		{"control character", "192.0.2.1:1234", []string{"bob\x01"}, ErrUnauthenticated},
		{"too long", "192.0.2.1:1234", []string{strings.Repeat("b", 300)}, ErrUnauthenticated},
		{"empty", "192.0.2.1:1234", []string{""}, ErrNoCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/media/x", nil)
			r.RemoteAddr = tc.peer
			r.Header["X-Forwarded-User"] = tc.values
			p, err := a.Authenticate(r)
			if !errors.Is(err, tc.want) || (tc.want == nil && p.Subject != "bob") {
				t.Errorf("Authenticate = %+v, %v; want %v", p, err, tc.want)
			}
		})
	}
}
