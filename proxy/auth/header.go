package auth

import (
	"fmt"
	"net/http"
	"net/netip"
)

// Header believes an identity header set by a proxy in front of the
// gateway, but only when the TCP peer is one of the trusted proxies. From
// anyone else the header is ignored (and the gateway strips it before the
// upstream). It holds no resources: there is nothing to close.
type Header struct {
	// Header is the identity header, e.g. X-Forwarded-User.
	Header string
	// Trusted are the proxies' networks; empty trusts nobody.
	Trusted []netip.Prefix
}

var _ Authenticator = (*Header)(nil)

// Authenticate implements Authenticator.
func (a *Header) Authenticate(r *http.Request) (Principal, error) {
	if !Trusted(a.Trusted).Contains(r.RemoteAddr) {
		return Principal{}, errUntrustedPeer
	}
	vs := r.Header.Values(a.Header)
	switch {
	case len(vs) == 0 || vs[0] == "":
		return Principal{}, &noHeaderError{header: a.Header}
	case len(vs) > 1:
		return Principal{}, fmt.Errorf("%w: %s header given %d times", ErrUnauthenticated, a.Header, len(vs))
	case len(vs[0]) > 256:
		return Principal{}, fmt.Errorf("%w: %s header too long", ErrUnauthenticated, a.Header)
	}
	for i := 0; i < len(vs[0]); i++ {
		if c := vs[0][i]; c < 0x20 || c == 0x7f {
			return Principal{}, fmt.Errorf("%w: %s header holds a control character", ErrUnauthenticated, a.Header)
		}
	}
	return Principal{Subject: vs[0]}, nil
}

// errUntrustedPeer and noHeaderError are the header authenticator's "no
// credentials": the common case on pass-through, so they cost no
// formatting until read.
var errUntrustedPeer = fmt.Errorf("%w: peer is not a trusted proxy", ErrNoCredentials)

// noHeaderError reads as fmt.Errorf("%w: no %s header", ErrNoCredentials, header).
type noHeaderError struct{ header string }

func (e *noHeaderError) Error() string {
	return ErrNoCredentials.Error() + ": no " + e.header + " header"
}
func (e *noHeaderError) Unwrap() error { return ErrNoCredentials }

// Trusted is a set of CIDRs: the proxies whose headers are believed.
type Trusted []netip.Prefix

// Contains reports whether remoteAddr ("ip:port", as in
// http.Request.RemoteAddr) is in the set.
func (t Trusted) Contains(remoteAddr string) bool {
	if len(t) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range t {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
