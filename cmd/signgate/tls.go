package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/httpx"
)

// serverTLS is a server's TLS as cfg says, under the variables' prefix
// (such as "TLS_"): nil when off. The certificate comes from a pair of
// files, reloaded when they change and by reload (SIGHUP), or from ACME.
// stop ends the watcher; call it once the server has stopped.
// A nil *serverTLS is TLS off: its methods do nothing.
type serverTLS struct {
	config *tls.Config
	reload func()
	stop   func()
	hsts   func(http.Handler) http.Handler
}

func newServerTLS(cfg config.TLS, prefix string, log *slog.Logger) (*serverTLS, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	s := &serverTLS{reload: func() {}, stop: func() {}, hsts: func(h http.Handler) http.Handler { return h }}
	if cfg.HSTSMaxAge > 0 {
		s.hsts = httpx.HSTS(cfg.HSTSMaxAge)
	}
	if cfg.ACME() {
		m, err := acmeManager(cfg, prefix)
		if err != nil {
			return nil, err
		}
		s.config = httpx.TLSConfig(cfg.Version(), m.GetCertificate, acme.ALPNProto)
		log.Info("TLS from ACME", "hosts", cfg.ACMEHosts, "directory", cfg.ACMEDirectory)
		return s, nil
	}
	pair, err := httpx.LoadCertPair(cfg.CertFile, cfg.KeyFile, log)
	if err != nil {
		return nil, fmt.Errorf("%s%sCERT_FILE, %s%sKEY_FILE: %w", config.Prefix, prefix, config.Prefix, prefix, err)
	}
	stop, err := pair.Watch(nil)
	if err != nil {
		return nil, err
	}
	s.config = httpx.TLSConfig(cfg.Version(), pair.GetCertificate)
	s.reload = func() { pair.Reload() } // logs a refused pair; the old one stays
	s.stop = func() { stop() }
	return s, nil
}

// acmeManager obtains certificates for cfg.ACMEHosts through tls-alpn-01
// on the TLS listener, keeping them in cfg.ACMECacheDir.
func acmeManager(cfg config.TLS, prefix string) (*autocert.Manager, error) {
	client := &acme.Client{DirectoryURL: cfg.ACMEDirectory}
	if cfg.ACMECAFile != "" {
		pem, err := os.ReadFile(cfg.ACMECAFile)
		if err != nil {
			return nil, fmt.Errorf("%s%sACME_CA_FILE: %w", config.Prefix, prefix, err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s%sACME_CA_FILE: %s holds no PEM certificate", config.Prefix, prefix, cfg.ACMECAFile)
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		client.HTTPClient = &http.Client{Transport: t}
	}
	return &autocert.Manager{
		Prompt:     autocert.AcceptTOS, // setting ACME hosts accepts the CA's terms
		Cache:      autocert.DirCache(cfg.ACMECacheDir),
		HostPolicy: autocert.HostWhitelist(cfg.ACMEHosts...),
		Email:      cfg.ACMEEmail,
		Client:     client,
	}, nil
}

// serve returns l served over s's TLS, with HSTS when asked; l itself
// when s is nil (TLS off).
func (s *serverTLS) serve(l httpx.Listener) httpx.Listener {
	if s == nil {
		return l
	}
	l.TLS = s.config
	l.Handler = s.hsts(l.Handler)
	return l
}

// hangup re-reads the certificate files (SIGHUP).
func (s *serverTLS) hangup() {
	if s != nil {
		s.reload()
	}
}

// close stops watching the certificate files.
func (s *serverTLS) close() {
	if s != nil {
		s.stop()
	}
}
