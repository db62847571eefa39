package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/signgate/signgate/internal/testenv"
)

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// selfSigned writes a certificate for 127.0.0.1 and its key to dir, for
// pebble's own HTTPS, and returns their paths and a pool trusting it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pebble test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "pebble.crt"), filepath.Join(dir, "pebble.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// startPebble runs Debian's pebble ACME server on 127.0.0.1 with every
// challenge taken as valid, until the test ends. It returns the
// directory URL, the management URL and the CA file for its HTTPS.
func startPebble(t *testing.T) (dirURL, mgmtURL, caFile string, pool *x509.CertPool) {
	t.Helper()
	bin := testenv.Program(t, "pebble")
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	acmePort, mgmtPort := freePort(t), freePort(t)
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":           "127.0.0.1:" + strconv.Itoa(acmePort),
		"managementListenAddress": "127.0.0.1:" + strconv.Itoa(mgmtPort),
		"certificate":             certFile, "privateKey": keyFile,
		"httpPort": freePort(t), "tlsPort": freePort(t),
		"ocspResponderURL": "", "externalAccountBindingRequired": false,
	}}
	data, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(dir, "pebble-config.json")
	if err := os.WriteFile(cfgFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", cfgFile)
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_VA_ALWAYS_VALID=1", "PEBBLE_WFE_NONCEREJECT=0")
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	dirURL = fmt.Sprintf("https://127.0.0.1:%d/dir", acmePort)
	mgmtURL = fmt.Sprintf("https://127.0.0.1:%d", mgmtPort)
	cl := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer cl.CloseIdleConnections()
	tick := time.NewTicker(20 * time.Millisecond) // polling pebble's start, bounded by the deadline
	defer tick.Stop()
	for deadline := time.Now().Add(20 * time.Second); ; <-tick.C {
		res, err := cl.Get(dirURL)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble did not answer within 20s: %v\n%s", err, out)
		}
	}
	return dirURL, mgmtURL, certFile, pool
}

// TestGatewayACMEPebble: the gateway obtains its certificate from a real
// ACME server (pebble) on the first handshake, and serves it: a
// handshake that trusts only pebble's root succeeds, over h2.
func TestGatewayACMEPebble(t *testing.T) {
	dirURL, mgmtURL, caFile, pebblePool := startPebble(t)
	const host = "media.signgate.test"
	environ := gatewayEnviron(t, testKeyFile, "")
	environ["SIGNGATE_TLS_ACME_HOSTS"] = host
	environ["SIGNGATE_TLS_ACME_CACHE_DIR"] = t.TempDir()
	environ["SIGNGATE_TLS_ACME_DIRECTORY"] = dirURL
	environ["SIGNGATE_TLS_ACME_CA_FILE"] = caFile
	environ["SIGNGATE_TLS_HSTS_MAX_AGE"] = "1h"
	addrs, out, stop := startCommand(t, environ, []string{"gateway"}, "gateway")
	defer stop()

	mgmt := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pebblePool}}}
	res, err := mgmt.Get(mgmtURL + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, _ := io.ReadAll(res.Body)
	res.Body.Close()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("pebble's root: no PEM in %q", rootPEM)
	}
	_, port, _ := net.SplitHostPort(addrs["gateway"])
	cl := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots, ServerName: host},
		ForceAttemptHTTP2: true,
	}}
	defer cl.CloseIdleConnections()
	res, err = cl.Get("https://127.0.0.1:" + port + "/healthz")
	if err != nil {
		t.Fatalf("request over the ACME certificate: %v\n%s", err, out)
	}
	res.Body.Close()
	if res.Proto != "HTTP/2.0" {
		t.Errorf("protocol %s, want HTTP/2.0", res.Proto)
	}
	if leaf := res.TLS.PeerCertificates[0]; leaf.VerifyHostname(host) != nil {
		t.Errorf("certificate for %v, want %s", leaf.DNSNames, host)
	}
	if got := res.Header.Get("Strict-Transport-Security"); got != "max-age=3600" {
		t.Errorf("Strict-Transport-Security %q, want max-age=3600", got)
	}
}
