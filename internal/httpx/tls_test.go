package httpx

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testCA signs leaf certificates for 127.0.0.1, each with its own
// common name, so a handshake tells which one it saw.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signgate test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// leaf returns PEM certificate and key for 127.0.0.1 named cn.
func (ca *testCA) leaf(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// replace writes data to path atomically (a rename over it).
func replace(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// serveTLS serves h over TLS from pair on 127.0.0.1 until the test ends.
func serveTLS(t *testing.T, pair *CertPair, h http.Handler) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, slog.New(slog.DiscardHandler), func(_ string, a net.Addr) { addrc <- a.String() },
			Listener{Name: "tls", Addr: "127.0.0.1:0", Handler: h, TLS: TLSConfig(tls.VersionTLS12, pair.GetCertificate)})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return <-addrc
}

func client(roots *x509.CertPool, h2 bool) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: h2}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // HTTP/1.1 only
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// TestTLSHandshakeProtocols: a real handshake against the CA's
// certificate; ALPN picks h2 for a client that offers it, HTTP/1.1
// still works for one that does not; requests are marked secure; TLS
// 1.1 is refused.
func TestTLSHandshakeProtocols(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	c, k := ca.leaf(t, "one")
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	replace(t, certFile, c)
	replace(t, keyFile, k)
	pair, err := LoadCertPair(certFile, keyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := HSTS(24 * time.Hour)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto+" "+map[bool]string{true: "secure", false: "plain"}[SecureContext(r.Context()) && SecureCookie(r)])
	}))
	addr := serveTLS(t, pair, h)
	for _, tc := range []struct {
		name string
		h2   bool
		want string
	}{{"h2", true, "HTTP/2.0 secure"}, {"http1", false, "HTTP/1.1 secure"}} {
		t.Run(tc.name, func(t *testing.T) {
			cl := client(ca.pool, tc.h2)
			defer cl.CloseIdleConnections()
			res, err := cl.Get("https://" + addr + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if string(body) != tc.want {
				t.Errorf("body %q, want %q", body, tc.want)
			}
			if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=86400" {
				t.Errorf("Strict-Transport-Security %q, want max-age=86400", got)
			}
			if res.TLS == nil || res.TLS.PeerCertificates[0].Subject.CommonName != "one" {
				t.Errorf("want the certificate named one, got %+v", res.TLS)
			}
		})
	}
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool, MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Fatal("a TLS 1.1 handshake succeeded")
	}
}

// TestCertPairRefusesMismatch: a key that is not the certificate's, or a
// file cut short, is refused and the old pair served on; the error
// names the files and holds no key material.
func TestCertPairRefusesMismatch(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	c1, k1 := ca.leaf(t, "one")
	_, k2 := ca.leaf(t, "two")
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	replace(t, certFile, c1)
	replace(t, keyFile, k1)
	pair, err := LoadCertPair(certFile, keyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string][]byte{"other key": k2, "cut short": k2[:len(k2)/2], "empty": nil} {
		replace(t, keyFile, key)
		err := pair.Reload()
		if err == nil {
			t.Fatalf("%s: a bad pair was accepted", name)
		}
		if !strings.Contains(err.Error(), keyFile) || len(key) > 40 && strings.Contains(err.Error(), string(key[30:40])) {
			t.Errorf("%s: error %q: want the file named and no key bytes", name, err)
		}
		got, _ := pair.GetCertificate(nil)
		if got.Leaf.Subject.CommonName != "one" || !pair.bad.Load() {
			t.Errorf("%s: serving %s, want the old pair kept", name, got.Leaf.Subject.CommonName)
		}
	}
	if _, err := LoadCertPair(certFile, keyFile, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("LoadCertPair accepted a bad pair at start")
	}
}

// TestCertReloadUnderLoad: clients request in a loop over new and kept
// connections while the pair is replaced (two renames, one after the
// other) a few times; no request fails, and once the watcher has
// reloaded, new handshakes see the new certificate.
func TestCertReloadUnderLoad(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	c, k := ca.leaf(t, "gen-0")
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	replace(t, certFile, c)
	replace(t, keyFile, k)
	pair, err := LoadCertPair(certFile, keyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	reloaded := make(chan struct{}, 16)
	stop, err := pair.Watch(func() {
		select {
		case reloaded <- struct{}{}:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	addr := serveTLS(t, pair, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))

	var ok, failed atomic.Int64
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			cl := client(ca.pool, i%2 == 0)
			defer cl.CloseIdleConnections()
			for n := 0; ; n++ {
				select {
				case <-quit:
					return
				default:
				}
				if i%4 < 2 && n%5 == 0 { // half the clients also make new handshakes
					cl.CloseIdleConnections()
				}
				res, err := cl.Get("https://" + addr + "/")
				if err != nil {
					failed.Add(1)
					t.Errorf("request failed: %v", err)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					failed.Add(1)
					continue
				}
				ok.Add(1)
			}
		})
	}
	for gen := 1; gen <= 3; gen++ {
		name := "gen-" + string(rune('0'+gen))
		c, k := ca.leaf(t, name)
		replace(t, keyFile, k) // the key first: a handshake in between still gets the old pair
		replace(t, certFile, c)
		deadline := time.After(10 * time.Second)
		for seen := ""; seen != name; {
			select {
			case <-reloaded:
			case <-deadline:
				t.Fatalf("%s never served", name)
			}
			conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool})
			if err != nil {
				t.Fatalf("handshake after reload: %v", err)
			}
			seen = conn.ConnectionState().PeerCertificates[0].Subject.CommonName
			conn.Close()
		}
	}
	close(quit)
	wg.Wait()
	t.Logf("%d requests, %d failed", ok.Load(), failed.Load())
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Fatalf("%d requests failed, %d succeeded", failed.Load(), ok.Load())
	}
}
