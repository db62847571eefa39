package main

import (
	"bytes"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/signgate/signgate/config"
)

// TestGatewayTLSCookieSecure: a gateway serving TLS from certificate
// files answers over h2 with HSTS, and the cookie it sets in cookie mode
// is Secure although the CDN base is plain http; the log holds no key.
func TestGatewayTLSCookieSecure(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	environ := gatewayEnviron(t, testKeyFile, "")
	environ["SIGNGATE_ROUTES_0_CDN_BASE"] = "http://cdn.example.com"
	environ["SIGNGATE_ROUTES_0_STREAMING"] = "cookie"
	environ["SIGNGATE_TLS_CERT_FILE"] = certFile
	environ["SIGNGATE_TLS_KEY_FILE"] = keyFile
	environ["SIGNGATE_TLS_HSTS_MAX_AGE"] = "720h"
	addrs, out, stop := startCommand(t, environ, []string{"gateway"}, "gateway")
	defer stop()

	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(gatewaySecret))
	if err != nil {
		t.Fatal(err)
	}
	cl := &http.Client{Timeout: 10 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer cl.CloseIdleConnections()
	req, _ := http.NewRequest("GET", "https://"+addrs["gateway"]+"/media/v/abc/index.m3u8", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := cl.Do(req)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Proto != "HTTP/2.0" {
		t.Fatalf("status %d over %s, want 302 over HTTP/2.0", res.StatusCode, res.Proto)
	}
	if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=2592000" {
		t.Errorf("Strict-Transport-Security %q", got)
	}
	cookies := res.Cookies()
	if len(cookies) == 0 {
		t.Fatal("no cookie in cookie mode")
	}
	for _, c := range cookies {
		if !c.Secure {
			t.Errorf("cookie %s is not Secure over TLS", c.Name)
		}
	}
	if strings.Contains(out.String(), "PRIVATE KEY") {
		t.Error("the log holds a private key")
	}
}

// TestServerTLSHangupReloads: SIGHUP's reload (serverTLS.hangup) reads
// the certificate files again at once, before the watcher's quiet window
// could, and a pair that does not match is refused there, the one in
// use kept.
func TestServerTLSHangupReloads(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir)
	s, err := newServerTLS(config.TLS{CertFile: certFile, KeyFile: keyFile, MinVersion: "1.2"}, "TLS_", slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	served := func() []byte {
		t.Helper()
		c, err := s.config.GetCertificate(&tls.ClientHelloInfo{ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		return c.Certificate[0]
	}
	first := served()
	selfSigned(t, dir) // a new key and certificate under the same names
	s.hangup()
	second := served()
	if bytes.Equal(first, second) {
		t.Fatal("after hangup the old certificate is still served")
	}
	// Half a pair: a certificate whose key is not the key file's.
	other := t.TempDir()
	otherCert, _, _ := selfSigned(t, other)
	b, err := os.ReadFile(otherCert)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s.hangup()
	if !bytes.Equal(served(), second) {
		t.Error("a mismatched pair replaced the one in use")
	}
}
