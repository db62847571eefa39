package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// countingTransport counts the requests it carries.
type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// jwksFor serves a JWK Set of key under kid.
func jwksFor(t *testing.T, kid string, key *rsa.PublicKey) *httptest.Server {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	set := map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestJWKSUsesTheGivenClient: every fetch of the set, the first one and
// the refresh on an unknown kid, goes through the *http.Client NewJWKS is
// given (its transport counts them), and a token signed with a listed key
// verifies through NewJWT.
func TestJWKSUsesTheGivenClient(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	srv := jwksFor(t, "k1", &key.PublicKey)
	tr := &countingTransport{next: http.DefaultTransport}
	ks, err := NewJWKS(context.Background(), srv.URL, &http.Client{Transport: tr}, JWKSUnknownKIDRate(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if n := tr.n.Load(); n != 1 {
		t.Fatalf("%d requests through the client after NewJWKS, want 1", n)
	}
	j, err := NewJWT(ks, JWTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	token := func(kid string) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()})
		tk.Header["kid"] = kid
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	r := httptest.NewRequest("GET", "/media/a.mp4", nil)
	r.Header.Set("Authorization", "Bearer "+token("k1"))
	if p, err := j.Authenticate(r); err != nil || p.Subject != "alice" {
		t.Fatalf("listed kid: %+v, %v; want alice", p, err)
	}
	r.Header.Set("Authorization", "Bearer "+token("k2"))
	if _, err := j.Authenticate(r); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("unknown kid: %v, want ErrUnauthenticated", err)
	}
	if n := tr.n.Load(); n != 2 {
		t.Errorf("%d requests through the client after an unknown kid, want 2 (one refresh)", n)
	}
}

// TestNewJWTRefusesWeakKeys: a short secret, a missing key and an
// algorithm that does not fit the key are refused at construction.
func TestNewJWTRefusesWeakKeys(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		key any
		o   JWTOptions
	}{
		"short secret":       {[]byte("short"), JWTOptions{}},
		"no key":             {nil, JWTOptions{}},
		"HS on an RSA key":   {&key.PublicKey, JWTOptions{Algorithms: []string{"HS256"}}},
		"RS on a secret":     {make([]byte, 32), JWTOptions{Algorithms: []string{"RS256"}}},
		"a private key type": {key, JWTOptions{}},
	} {
		if _, err := NewJWT(tc.key, tc.o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewJWT(&key.PublicKey, JWTOptions{}); err != nil {
		t.Errorf("an RSA public key: %v", err)
	}
}
