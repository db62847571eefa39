package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signgate/signgate/signer"
)

// stubAuth is an authenticator that always answers err.
type stubAuth struct{ err error }

var _ Authenticator = (*stubAuth)(nil)

func (s *stubAuth) Authenticate(*http.Request) (Principal, error) { return Principal{}, s.err }

// The chain's and the header authenticator's errors are built without
// fmt, for speed: they must read and unwrap exactly as the fmt.Errorf
// forms they replace (the oracle).
func TestAuthErrorsReadAsFmt(t *testing.T) {
	cache, err := signer.NewCache(8, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	m := newMetrics(prometheus.NewRegistry(), cache)
	header := &HeaderAuth{Header: "X-Forwarded-User", Trusted: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
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
			_, err := newChain(tt.names, tt.auths, m, nil).Authenticate(r)
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
			if got, want := status(err).Status, status(tt.oracle).Status; got != want {
				t.Errorf("status %d, want %d", got, want)
			}
		})
	}
}

// BenchmarkChainDeclines is what pass-through pays on every request from a
// trusted proxy without an identity header: the identity chain declining.
func BenchmarkChainDeclines(b *testing.B) {
	cache, err := signer.NewCache(8, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	header := &HeaderAuth{Header: "X-Forwarded-User", Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	c := newChain([]string{"header"}, []Authenticator{header}, newMetrics(prometheus.NewRegistry(), cache), nil)
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
