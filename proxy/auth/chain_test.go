package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
)

// stubAuth is an authenticator that always answers err.
type stubAuth struct{ err error }

var _ Authenticator = (*stubAuth)(nil)

func (s *stubAuth) Authenticate(*http.Request) (Principal, error) { return Principal{}, s.err }

// The chain's and the header authenticator's errors are built without
// fmt, for speed: they must read and unwrap exactly as the fmt.Errorf
// forms they replace (the oracle).
func TestAuthErrorsReadAsFmt(t *testing.T) {
	header := &Header{Header: "X-Forwarded-User", Trusted: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
	denied := fmt.Errorf("%w: bad signature", ErrUnauthenticated)
	invalid := errors.New("token is malformed")
	sentinels := []error{ErrNoCredentials, ErrUnauthenticated, ErrForbidden, ErrAuthBackend, denied, invalid}

	tests := []struct {
		name   string
		peer   string
		names  []string
		auths  []Authenticator
		oracle error
	}{
		{"untrusted peer", "198.51.100.1:1", []string{"header"}, []Authenticator{header},
			fmt.Errorf("%w: %w", ErrUnauthenticated, fmt.Errorf("%s: %w", "header", fmt.Errorf("%w: peer is not a trusted proxy", ErrNoCredentials)))},
		{"no identity header", "192.0.2.1:1", []string{"header"}, []Authenticator{header},
			fmt.Errorf("%w: %w", ErrUnauthenticated, fmt.Errorf("%s: %w", "header", fmt.Errorf("%w: no %s header", ErrNoCredentials, "X-Forwarded-User")))},
		{"first decline wins over later ones", "192.0.2.1:1", []string{"header", "jwt"}, []Authenticator{header, &stubAuth{fmt.Errorf("%w: no token", ErrNoCredentials)}},
			fmt.Errorf("%w: %w", ErrUnauthenticated, fmt.Errorf("%s: %w", "header", fmt.Errorf("%w: no %s header", ErrNoCredentials, "X-Forwarded-User")))},
		{"a denial is kept as it is", "192.0.2.1:1", []string{"header", "jwt"}, []Authenticator{header, &stubAuth{denied}},
			fmt.Errorf("%s: %w", "jwt", denied)},
		{"an unclassified failure is unauthenticated", "192.0.2.1:1", []string{"jwt"}, []Authenticator{&stubAuth{invalid}},
			fmt.Errorf("%w: %w", ErrUnauthenticated, fmt.Errorf("%s: %w", "jwt", invalid))},
		{"empty chain", "192.0.2.1:1", nil, nil,
			fmt.Errorf("%w: %w", ErrUnauthenticated, ErrNoCredentials)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/media/a.ts", nil)
			r.RemoteAddr = tt.peer
			var links []Link
			for i, n := range tt.names {
				links = append(links, Link{Name: n, Authenticator: tt.auths[i]})
			}
			_, err := NewChain(links, Hooks{}).Authenticate(r)
			if err == nil {
				t.Fatal("the chain accepted the request")
			}
			if err.Error() != tt.oracle.Error() {
				t.Errorf("error %q, want %q", err, tt.oracle)
			}
			for _, s := range sentinels {
				if got, want := errors.Is(err, s), errors.Is(tt.oracle, s); got != want {
					t.Errorf("errors.Is(err, %q) = %v, want %v", s, got, want)
				}
			}
			if got, want := VerdictOf(err), VerdictOf(tt.oracle); got != want {
				t.Errorf("verdict %s, want %s", got, want)
			}
		})
	}
}

// BenchmarkChainDeclines is what pass-through pays on every request from a
// trusted proxy without an identity header: the identity chain declining.
func BenchmarkChainDeclines(b *testing.B) {
	header := &Header{Header: "X-Forwarded-User", Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	var verdicts [Verdicts]atomic.Int64 // as the gateway counts them
	c := NewChain([]Link{{Name: "header", Authenticator: header}}, Hooks{Verdict: func(_ int, v Verdict) { verdicts[v].Add(1) }})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/app/page", nil)
		r.RemoteAddr = "127.0.0.1:40000"
		for pb.Next() {
			if _, err := c.Authenticate(r); !errors.Is(err, ErrNoCredentials) {
				b.Fatalf("err = %v, want no credentials", err)
			}
		}
	})
}
