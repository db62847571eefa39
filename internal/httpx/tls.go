package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/signgate/signgate/internal/filewatch"
)

// CertPair serves a certificate and its key read from two files, as a
// pair: Reload swaps both at once or neither, so a handshake never sees
// a certificate with another's key. Safe for concurrent use.
type CertPair struct {
	certFile, keyFile string
	log               *slog.Logger
	cur               atomic.Pointer[tls.Certificate]
	bad               atomic.Bool // the last Reload was refused
}

// LoadCertPair reads the pair once; an error here stops start-up.
func LoadCertPair(certFile, keyFile string, log *slog.Logger) (*CertPair, error) {
	c := &CertPair{certFile: certFile, keyFile: keyFile, log: log}
	cert, err := c.read()
	if err != nil {
		return nil, err
	}
	c.cur.Store(cert)
	return c, nil
}

// read loads both files. Its errors name the files, never their bytes.
func (c *CertPair) read() (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(c.certFile)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(c.keyFile)
	if err != nil {
		return nil, fmt.Errorf("read certificate key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM) // refuses a key that is not the certificate's
	if err != nil {
		return nil, fmt.Errorf("certificate %s with key %s: %w", c.certFile, c.keyFile, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("certificate %s: %w", c.certFile, err)
		}
	}
	return &cert, nil
}

// Reload reads the pair again. On an error it keeps serving the pair it
// has, and logs why.
func (c *CertPair) Reload() error {
	cert, err := c.read()
	if err != nil {
		c.bad.Store(true)
		c.log.Error("TLS certificate not reloaded; serving the previous one", "err", err.Error())
		return err
	}
	c.bad.Store(false)
	c.cur.Store(cert)
	c.log.Info("TLS certificate loaded", "file", c.certFile, "subject", cert.Leaf.Subject.String(),
		"not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

// GetCertificate is tls.Config's: the pair last loaded.
func (c *CertPair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

// Watch reloads the pair when either file changes (filewatch.Run), until
// the returned stop is called. reloaded, when set, is called after each
// reload.
func (c *CertPair) Watch(reloaded func()) (stop func() error, err error) {
	files := []string{c.certFile, c.keyFile}
	w, err := filewatch.New("certificate file", files)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		filewatch.Run(w, filewatch.Options{
			Files: files, Reload: func() { c.Reload() }, Bad: c.bad.Load, Reloaded: reloaded,
			What: "certificate file", Log: c.log,
		})
	}()
	return func() error {
		err := w.Close()
		<-done
		return err
	}, nil
}

// TLSConfig is the server side of signgate's TLS: certificates from get,
// HTTP/2 and HTTP/1.1 offered through ALPN (plus extra protocols, such as
// ACME's tls-alpn-01), nothing older than minVersion.
func TLSConfig(minVersion uint16, get func(*tls.ClientHelloInfo) (*tls.Certificate, error), extra ...string) *tls.Config {
	return &tls.Config{
		MinVersion:     minVersion,
		GetCertificate: get,
		NextProtos:     append([]string{"h2", "http/1.1"}, extra...),
	}
}

// HSTS adds Strict-Transport-Security with maxAge to every answer.
// Install it only on a TLS listener: browsers ignore the header over
// plain HTTP, and a proxy in front may not speak TLS at all.
func HSTS(maxAge time.Duration) func(http.Handler) http.Handler {
	v := "max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Strict-Transport-Security", v)
			next.ServeHTTP(w, r)
		})
	}
}

type secureKey struct{}

// withSecure marks ctx as that of a request that arrived over TLS.
func withSecure(ctx context.Context) context.Context {
	return context.WithValue(ctx, secureKey{}, true)
}

// SecureContext reports whether ctx is that of a request served by a TLS
// listener: the cookies set for it must be Secure.
func SecureContext(ctx context.Context) bool {
	v, _ := ctx.Value(secureKey{}).(bool)
	return v
}

// SecureCookie reports whether cookies set in the answer to r must be
// Secure: r came over TLS, to this server or (as X-Forwarded-Proto says)
// to a proxy in front of it. The one home of that decision.
func SecureCookie(r *http.Request) bool {
	return r.TLS != nil || SecureContext(r.Context()) || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
