package config

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"time"
)

// TLS configures one server's TLS: the gateway's (SIGNGATE_TLS_*) or the
// edge's (SIGNGATE_EDGE_TLS_*). Off unless a certificate pair or ACME
// hosts are set.
type TLS struct {
	// CertFile and KeyFile are a PEM certificate (chain) and its key,
	// reloaded as a pair when either changes and on SIGHUP.
	CertFile string `env:"CERT_FILE"`
	KeyFile  string `env:"KEY_FILE"`
	// MinVersion is the oldest TLS version served: 1.2 or 1.3.
	MinVersion string `env:"MIN_VERSION" envDefault:"1.2"`
	// HSTSMaxAge, when positive, adds Strict-Transport-Security with this
	// max-age to every answer of a TLS listener.
	HSTSMaxAge time.Duration `env:"HSTS_MAX_AGE"`
	// ACMEHosts turns ACME on (golang.org/x/crypto/acme/autocert): the
	// host names certificates are obtained for, through tls-alpn-01 on
	// the TLS listener itself.
	ACMEHosts []string `env:"ACME_HOSTS"`
	// ACMECacheDir keeps the account key and certificates across restarts.
	ACMECacheDir string `env:"ACME_CACHE_DIR"`
	// ACMEDirectory is the ACME server's directory URL.
	ACMEDirectory string `env:"ACME_DIRECTORY" envDefault:"https://acme-v02.api.letsencrypt.org/directory"`
	// ACMECAFile, when set, holds the PEM roots trusted for the ACME
	// server's HTTPS (a private CA such as step-ca, or pebble in tests);
	// the system's roots otherwise.
	ACMECAFile string `env:"ACME_CA_FILE"`
	// ACMEEmail is the account's contact address, optional.
	ACMEEmail string `env:"ACME_EMAIL"`
}

// Enabled reports whether the server speaks TLS.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" || len(t.ACMEHosts) > 0 }

// ACME reports whether certificates come from ACME.
func (t TLS) ACME() bool { return len(t.ACMEHosts) > 0 }

// Version returns MinVersion as a crypto/tls constant (1.2 when empty).
// Validate has checked it.
func (t TLS) Version() uint16 {
	if t.MinVersion == "1.3" {
		return tls.VersionTLS13
	}
	return tls.VersionTLS12
}

// check returns every problem, each naming its variable under prefix
// (such as "TLS_" or "EDGE_TLS_").
func (t TLS) check(prefix string) []error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s%s: %s", Prefix, prefix, name, fmt.Sprintf(format, args...)))
	}
	if t.MinVersion != "" && t.MinVersion != "1.2" && t.MinVersion != "1.3" { // "": a struct built in code, 1.2
		bad("MIN_VERSION", "%q: want 1.2 or 1.3", t.MinVersion)
	}
	if t.HSTSMaxAge < 0 {
		bad("HSTS_MAX_AGE", "%s: must not be negative (0 turns it off)", t.HSTSMaxAge)
	} else if t.HSTSMaxAge > 0 && !t.Enabled() {
		bad("HSTS_MAX_AGE", "needs TLS: set %s%sCERT_FILE and KEY_FILE, or ACME_HOSTS", Prefix, prefix)
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		if t.CertFile == "" {
			bad("CERT_FILE", "must be set with %s%sKEY_FILE", Prefix, prefix)
		} else {
			bad("KEY_FILE", "must be set with %s%sCERT_FILE", Prefix, prefix)
		}
	}
	if !t.ACME() {
		return errs
	}
	if t.CertFile != "" || t.KeyFile != "" {
		bad("ACME_HOSTS", "ACME and %s%sCERT_FILE/KEY_FILE exclude each other", Prefix, prefix)
	}
	for i, h := range t.ACMEHosts {
		if !hostName.MatchString(h) {
			bad("ACME_HOSTS", "entry %d, %q: not a lower-case host name", i, h)
		}
	}
	if t.ACMECacheDir == "" {
		bad("ACME_CACHE_DIR", "required with ACME: without it every start asks the CA again, and hits its rate limits")
	}
	if u, err := url.Parse(t.ACMEDirectory); err != nil || u.Scheme != "https" || u.Host == "" {
		bad("ACME_DIRECTORY", "%q is not an https URL", t.ACMEDirectory)
	}
	return errs
}
