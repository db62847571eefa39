package proxy

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/signgate/signgate/signer"
)

func TestHeaderAuthTrustsOnlyConfiguredProxies(t *testing.T) {
	for _, tc := range []struct {
		name, trusted string
		hdr           map[string]string
		want          int
	}{
		{"trusted peer", "127.0.0.1/32", map[string]string{"X-Forwarded-User": "bob"}, 302},
		{"trusted peer, single address", "127.0.0.1", map[string]string{"X-Forwarded-User": "bob"}, 302},
		{"untrusted peer", "10.0.0.0/8", map[string]string{"X-Forwarded-User": "bob"}, 401},
		{"untrusted peer, other spelling", "10.0.0.0/8", map[string]string{"X_Forwarded_User": "bob"}, 401},
		{"trusted peer, other spelling is not the header", "127.0.0.1/32", map[string]string{"X_Forwarded_User": "bob"}, 401},
		{"trusted peer, no header", "127.0.0.1/32", nil, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, map[string]string{
				"SIGNGATE_AUTH":            "header",
				"SIGNGATE_TRUSTED_PROXIES": tc.trusted,
			})
			resp := f.do("GET", "/media/x.mp4", tc.hdr)
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestJWTSessionHMAC(t *testing.T) {
	f := newFixture(t, map[string]string{
		"SIGNGATE_JWT_ISSUER":   "https://id.example.com",
		"SIGNGATE_JWT_AUDIENCE": "media",
	})
	now := f.clock.Now()
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := func(extra jwt.MapClaims) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "alice", "iss": "https://id.example.com", "aud": "media", "exp": now.Add(time.Hour).Unix()}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	secret := []byte(hmacSecret)
	unsigned, _ := jwt.NewWithClaims(jwt.SigningMethodNone, good(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"bearer", bearer(sign(jwt.SigningMethodHS256, secret, good(nil))), 302},
		{"bearer, lower-case scheme", map[string]string{"Authorization": "bearer " + sign(jwt.SigningMethodHS256, secret, good(nil))}, 302},
		{"cookie", map[string]string{"Cookie": "other=1; session=" + sign(jwt.SigningMethodHS256, secret, good(nil))}, 302},
		{"expired", bearer(sign(jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"exp": now.Add(-time.Hour).Unix()}))), 401},
		{"within leeway", bearer(sign(jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"exp": now.Add(-10 * time.Second).Unix()}))), 302},
		{"no exp", bearer(sign(jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "alice", "iss": "https://id.example.com", "aud": "media"})), 401},
		{"not yet valid", bearer(sign(jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"nbf": now.Add(time.Hour).Unix()}))), 401},
		{"wrong issuer", bearer(sign(jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"iss": "https://evil.example"}))), 401},
		{"wrong audience", bearer(sign(jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"aud": "other"}))), 401},
		{"no subject", bearer(sign(jwt.SigningMethodHS256, secret, good(jwt.MapClaims{"sub": ""}))), 401},
		{"wrong secret", bearer(sign(jwt.SigningMethodHS256, []byte("another secret of at least 32 bytes!!"), good(nil))), 401},
		{"alg none", bearer(unsigned), 401},
		{"HS512 not pinned", bearer(sign(jwt.SigningMethodHS512, secret, good(nil))), 401},
		{"garbage", bearer("not.a.jwt"), 401},
		{"oversized bearer", bearer(strings.Repeat("a", 9000)), 401},
		{"oversized cookie", map[string]string{"Cookie": "session=" + strings.Repeat("a", 9000)}, 401},
		{"basic auth is not a session", map[string]string{"Authorization": "Basic YWxpY2U6cHc="}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.do("GET", "/media/x.mp4", tc.hdr)
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.want, body(t, resp))
			}
			if tc.want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
		})
	}
}

func TestJWTVerifiedSessionsNeverOutliveExp(t *testing.T) {
	f := newFixture(t, map[string]string{"SIGNGATE_JWT_LEEWAY": "0s"})
	now := f.clock.Now()
	tok := f.session("alice", map[string]any{"exp": now.Add(90 * time.Second).Unix()})
	if resp := f.do("GET", "/media/x.mp4", bearer(tok)); resp.StatusCode != 302 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	f.clock.Advance(50 * time.Second) // remembered
	if resp := f.do("GET", "/media/x.mp4", bearer(tok)); resp.StatusCode != 302 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	f.clock.Advance(20 * time.Second) // 70s: memory expired, token still valid
	if resp := f.do("GET", "/media/x.mp4", bearer(tok)); resp.StatusCode != 302 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	f.clock.Advance(21 * time.Second) // 91s: past exp, although checked 21s ago
	if resp := f.do("GET", "/media/x.mp4", bearer(tok)); resp.StatusCode != 401 {
		t.Errorf("an expired session was honoured from memory: status %d", resp.StatusCode)
	}
	// A forged token never enters the memory: one byte off is refused.
	forged := tok[:len(tok)-2] + "xx"
	if resp := f.do("GET", "/media/x.mp4", bearer(forged)); resp.StatusCode != 401 {
		t.Errorf("forged token: status %d", resp.StatusCode)
	}
}

// writePublicKey writes pub as PKIX PEM into dir.
func writePublicKey(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "session.pub")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestJWTSessionPublicKeys(t *testing.T) {
	rsaKey := testKey(t, "key3.pem").Key
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		pub    crypto.PublicKey
		method jwt.SigningMethod
		priv   any
	}{
		{"RSA", &rsaKey.PublicKey, jwt.SigningMethodRS256, rsaKey},
		{"ECDSA", &ecKey.PublicKey, jwt.SigningMethodES256, ecKey},
		{"Ed25519", edKey.Public(), jwt.SigningMethodEdDSA, edKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writePublicKey(t, tc.pub)
			f := newFixture(t, map[string]string{
				"SIGNGATE_JWT_SECRET":          "",
				"SIGNGATE_JWT_PUBLIC_KEY_FILE": file,
			})
			claims := jwt.MapClaims{"sub": "alice", "exp": f.clock.Now().Add(time.Hour).Unix()}
			tok, err := jwt.NewWithClaims(tc.method, claims).SignedString(tc.priv)
			if err != nil {
				t.Fatal(err)
			}
			if resp := f.do("GET", "/media/x.mp4", bearer(tok)); resp.StatusCode != 302 {
				t.Errorf("valid %s token: status %d", tc.name, resp.StatusCode)
			}
			// HS/RS confusion: an HMAC token keyed with the public key's
			// PEM bytes, which an attacker can read.
			pemBytes, _ := os.ReadFile(file)
			forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(pemBytes)
			if err != nil {
				t.Fatal(err)
			}
			if resp := f.do("GET", "/media/x.mp4", bearer(forged)); resp.StatusCode != 401 {
				t.Errorf("HS256 token keyed with the public key: status %d, want 401", resp.StatusCode)
			}
		})
	}
}

// jwksServer serves a JWK Set that the test can change, counting fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []signer.PublicKey
	fetches atomic.Int32
}

func newJWKSServer(t *testing.T, keys ...signer.PublicKey) *jwksServer {
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		set := signer.NewJWKSet(s.keys...)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(keys ...signer.PublicKey) {
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
}

func TestJWTSessionJWKS(t *testing.T) {
	k3, k2 := testKey(t, "key3.pem"), testKey(t, "key2.pem")
	js := newJWKSServer(t, k3.Public())
	f := newFixture(t, map[string]string{
		"SIGNGATE_JWT_SECRET":   "",
		"SIGNGATE_JWT_JWKS_URL": js.URL,
	})
	if n := js.fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times at start, want 1", n)
	}
	tokenFor := func(k *signer.SigningKey, kid string) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "alice", "exp": f.clock.Now().Add(time.Hour).Unix()})
		tk.Header["kid"] = kid
		s, err := tk.SignedString(k.Key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if resp := f.do("GET", "/media/x.mp4", bearer(tokenFor(k3, "key3"))); resp.StatusCode != 302 {
		t.Fatalf("known kid: status %d", resp.StatusCode)
	}
	// The issuer rotates to key2: the unknown kid triggers one refresh.
	js.set(k3.Public(), k2.Public())
	if resp := f.do("GET", "/media/x.mp4", bearer(tokenFor(k2, "key2"))); resp.StatusCode != 302 {
		t.Fatalf("rotated kid: status %d", resp.StatusCode)
	}
	if n := js.fetches.Load(); n != 2 {
		t.Errorf("fetches after rotation: %d, want 2", n)
	}
	// Unknown kids beyond the rate are refused at once, without a fetch.
	for i := range 5 {
		if resp := f.do("GET", "/media/x.mp4", bearer(tokenFor(k2, "unknown"))); resp.StatusCode != 401 {
			t.Errorf("unknown kid %d: status %d, want 401", i, resp.StatusCode)
		}
	}
	if n := js.fetches.Load(); n != 2 {
		t.Errorf("fetches after unknown kids: %d, want still 2 (rate-limited)", n)
	}
	// A token whose kid is right but whose key is not is refused.
	if resp := f.do("GET", "/media/x.mp4", bearer(tokenFor(k2, "key3"))); resp.StatusCode != 401 {
		t.Errorf("wrong key for kid: status %d", resp.StatusCode)
	}
}

// TestJWKSDown: when the JWKS endpoint goes down, sessions signed with
// keys already fetched still verify, and a token whose kid would need a
// refresh gets 503 (fail closed, not a login loop) without a long wait.
func TestJWKSDown(t *testing.T) {
	k3, k2 := testKey(t, "key3.pem"), testKey(t, "key2.pem")
	js := newJWKSServer(t, k3.Public())
	f := newFixture(t, map[string]string{
		"SIGNGATE_JWT_SECRET":   "",
		"SIGNGATE_JWT_JWKS_URL": js.URL,
	})
	tokenFor := func(k *signer.SigningKey, kid string) string {
		tk := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "alice", "exp": f.clock.Now().Add(time.Hour).Unix()})
		tk.Header["kid"] = kid
		s, err := tk.SignedString(k.Key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	js.Close()
	const jwksWaitMax = time.Second        // auth bounds a request's wait on an unknown kid so
	for i, want := range []int{503, 503} { // the refresh fails, then is rate-limited
		start := time.Now()
		resp := f.do("GET", "/media/x.mp4", map[string]string{"Authorization": "Bearer " + tokenFor(k2, "key2"), "Accept": "text/html"})
		if resp.StatusCode != want {
			t.Errorf("new kid, JWKS down, request %d: status %d (Location %q), want %d, not a login loop", i, resp.StatusCode, resp.Header.Get("Location"), want)
		}
		if d := time.Since(start); d > jwksWaitMax+time.Second {
			t.Errorf("request %d took %v, want at most about %v", i, d, jwksWaitMax)
		}
	}
	if resp := f.do("GET", "/media/x.mp4", bearer(tokenFor(k3, "key3"))); resp.StatusCode != 302 {
		t.Errorf("kid fetched before the JWKS went down: status %d, want 302", resp.StatusCode)
	}
	if resp := f.do("GET", "/media/x.mp4", bearer(tokenFor(k2, "key3"))); resp.StatusCode != 401 {
		t.Errorf("known kid, wrong signature: status %d, want 401", resp.StatusCode)
	}
}

func TestAuthChainOrder(t *testing.T) {
	check := newCheckApp(t)
	t.Run("jwt invalid, forward accepts", func(t *testing.T) {
		f := newFixture(t, map[string]string{"SIGNGATE_AUTH": "jwt,forward", "SIGNGATE_FORWARD_URL": check.URL})
		resp := f.do("GET", "/media/x.mp4", map[string]string{"Cookie": "session=ok-bob"})
		if resp.StatusCode != 302 {
			t.Errorf("status %d, want 302", resp.StatusCode)
		}
	})
	t.Run("a failing backend stops the chain", func(t *testing.T) {
		f := newFixture(t, map[string]string{"SIGNGATE_AUTH": "forward,jwt", "SIGNGATE_FORWARD_URL": check.URL})
		hdr := bearer(f.session("alice", nil))
		hdr["Cookie"] = "session=boom"
		if resp := f.do("GET", "/media/x.mp4", hdr); resp.StatusCode != 503 {
			t.Errorf("status %d, want 503: fail closed", resp.StatusCode)
		}
	})
	t.Run("backend unreachable", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		f := newFixture(t, map[string]string{"SIGNGATE_AUTH": "forward", "SIGNGATE_FORWARD_URL": dead.URL})
		if resp := f.do("GET", "/media/x.mp4", nil); resp.StatusCode != 503 {
			t.Errorf("status %d, want 503", resp.StatusCode)
		}
	})
}
