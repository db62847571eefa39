package main

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
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/proxy"
)

// TestAdapterErrorsNameTheVariable: what proxy.New refuses comes back as a
// *config.VarError naming the SIGNGATE_* variable to fix, one per problem.
func TestAdapterErrorsNameTheVariable(t *testing.T) {
	key := filepath.Join("..", "..", "proxy", "testdata", "key1.pem")
	for _, tc := range []struct {
		name string
		cfg  func(*config.Gateway)
		want []string
	}{
		{"missing key file", func(c *config.Gateway) { c.Routes[0].KeyFile = filepath.Join(t.TempDir(), "none.pem") },
			[]string{"SIGNGATE_ROUTES_0_KEY_FILE"}},
		{"bad CDN base and login URL", func(c *config.Gateway) { c.Routes[0].CDNBase = "cdn.example.com"; c.LoginURL = "%zz" },
			[]string{"SIGNGATE_ROUTES_0_CDN_BASE", "SIGNGATE_LOGIN_URL"}},
		{"unknown authenticator", func(c *config.Gateway) { c.Auth = []string{"magic"} }, []string{"SIGNGATE_AUTH"}},
		{"jwt without a key", func(c *config.Gateway) { c.JWTSecret = "" }, []string{"SIGNGATE_JWT_SECRET"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.LoadGateway(gatewayEnviron(t, key, "http://127.0.0.1:1"))
			if err != nil {
				t.Fatal(err)
			}
			tc.cfg(&cfg)
			g, closeGateway, err := newGateway(context.Background(), cfg, proxy.Options{})
			if err == nil {
				g.Close()
				closeGateway()
				t.Fatal("the gateway started")
			}
			got := map[string]bool{}
			for _, e := range config.Leaves(err) {
				var ve *config.VarError
				if !errors.As(e, &ve) {
					t.Errorf("an error that names no variable: %v", e)
					continue
				}
				got[ve.Name] = true
			}
			for _, w := range tc.want {
				if !got[w] {
					t.Errorf("no *config.VarError for %s in %v", w, err)
				}
			}
		})
	}
}

// countingTransport counts the requests it carries.
type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// TestAdapterJWKSUsesOptionsTransport: SIGNGATE_JWT_JWKS_URL is fetched
// through proxy.Options.Transport, as the upstream is.
func TestAdapterJWKSUsesOptionsTransport(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	set := map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "k1", "alg": "RS256",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.PublicKey.E)).Bytes())}}}
	var fetched atomic.Int32
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		json.NewEncoder(w).Encode(set)
	}))
	defer jwks.Close()
	env := gatewayEnviron(t, filepath.Join("..", "..", "proxy", "testdata", "key1.pem"), "http://127.0.0.1:1")
	delete(env, "SIGNGATE_JWT_SECRET")
	env["SIGNGATE_JWT_JWKS_URL"] = jwks.URL
	cfg, err := config.LoadGateway(env)
	if err != nil {
		t.Fatal(err)
	}
	tr := &countingTransport{next: http.DefaultTransport}
	g, closeGateway, err := newGateway(context.Background(), cfg, proxy.Options{Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	defer closeGateway()
	if g == nil || fetched.Load() != 1 || tr.n.Load() != 1 {
		t.Errorf("JWKS fetched %d times, %d through Options.Transport; want 1 and 1", fetched.Load(), tr.n.Load())
	}
}
