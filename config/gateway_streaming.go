package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Manifests holds the limits of manifest mode over all routes: its
// variables are SIGNGATE_MANIFEST_*, beside the per-route
// SIGNGATE_ROUTES_<n>_MANIFEST_* ones.
type Manifests struct {
	// ManifestConcurrency is how many manifests may be fetched and
	// rewritten at once, over all routes. A request beyond it waits for
	// a turn up to its route's MANIFEST_TIMEOUT (fetching counts against
	// what is left), then gets 503 manifest_busy with Retry-After. One
	// rewrite holds up to about 20 times its route's MANIFEST_MAX_BYTES,
	// so this bounds their memory.
	ManifestConcurrency int `env:"MANIFEST_CONCURRENCY" envDefault:"16"`
}

// MaxManifestConcurrency is the largest SIGNGATE_MANIFEST_CONCURRENCY.
const MaxManifestConcurrency = 4096

func (m Manifests) validate() []error {
	if m.ManifestConcurrency < 1 || m.ManifestConcurrency > MaxManifestConcurrency {
		return []error{fmt.Errorf("%sMANIFEST_CONCURRENCY: %d: want 1 to %d", Prefix, m.ManifestConcurrency, MaxManifestConcurrency)}
	}
	return nil
}

// validateStreaming checks route i's HLS/DASH settings.
func (r Route) validateStreaming(i int) []error {
	var errs []error
	add := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%d_%s: %s", RoutesPrefix, i, name, fmt.Sprintf(format, args...)))
	}
	switch r.Streaming {
	case StreamingOff, StreamingManifest:
		if r.CookieDomain != "" {
			add("COOKIE_DOMAIN", "only used with %s%d_STREAMING=cookie (it is %q)", RoutesPrefix, i, r.Streaming)
		}
	case StreamingCookie:
		if r.CDNBase == "" && (r.Bucket != "" || r.Region != "") {
			add("STREAMING", "cookie mode needs a CDN on a domain the gateway shares: a browser never sends a cookie set by the gateway to %s.media-storage.%s.qencode.com; set %s%d_CDN_BASE to the CDN's custom domain and %s%d_COOKIE_DOMAIN to the parent domain, or use manifest mode",
				r.Bucket, r.Region, RoutesPrefix, i, RoutesPrefix, i)
			break
		}
		if r.CookieDomain == "" {
			break
		}
		domain, err := CookieDomain(r.CookieDomain)
		if err != nil {
			add("COOKIE_DOMAIN", "%v", err)
			break
		}
		if host := cdnHost(r.CDNBase); host != "" && !DomainMatch(host, domain) {
			add("COOKIE_DOMAIN", "the CDN host %q is not in the domain %q, so browsers would not send the cookie to the CDN", host, domain)
		}
	default:
		add("STREAMING", "%q: want off, cookie or manifest", r.Streaming)
	}
	if r.ManifestMaxBytes <= 0 || r.ManifestMaxBytes > MaxManifestBytes {
		add("MANIFEST_MAX_BYTES", "%d: want 1 to %d bytes", r.ManifestMaxBytes, MaxManifestBytes)
	}
	if r.ManifestTimeout <= 0 || r.ManifestTimeout > 5*time.Minute {
		add("MANIFEST_TIMEOUT", "%s: want more than 0 and at most 5m", r.ManifestTimeout)
	}
	return errs
}

// CookieDomain checks the value of SIGNGATE_ROUTES_<n>_COOKIE_DOMAIN and
// returns it lower-cased, without its optional leading dot: a host name of
// two labels at least, not an IP address and without a port.
func CookieDomain(s string) (string, error) {
	d := strings.ToLower(strings.TrimPrefix(s, "."))
	switch {
	case net.ParseIP(d) != nil:
		return "", fmt.Errorf("%q is an IP address; leave it empty for a host-only cookie", s)
	case !hostName.MatchString(d):
		return "", fmt.Errorf("%q is not a domain name such as .example.com", s)
	case !strings.Contains(d, "."):
		return "", fmt.Errorf("%q is a top-level domain; browsers refuse cookies for it", s)
	}
	return d, nil
}

// DomainMatch reports whether a cookie whose Domain is domain (lower case,
// no leading dot) is sent to host, as RFC 6265 §5.1.3 says.
func DomainMatch(host, domain string) bool {
	host = strings.ToLower(host)
	return host == domain || strings.HasSuffix(host, "."+domain) && net.ParseIP(host) == nil
}

// cdnHost returns the host name (without port) of a CDN base URL, or "".
func cdnHost(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
