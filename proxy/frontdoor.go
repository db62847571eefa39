package proxy

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/signgate/signgate/internal/httpx"
)

// This file is the one home of "which header says what a front door asks
// about, and from whom it is believed". Every check endpoint reads the
// original request through originalURI; the Envoy checks, which name it in
// their own request line or message, go through targetRequest alike.

// original is the request a front door asks about: its request URI (an
// escaped path with an optional query) and its method, "" when the door
// named none.
type original struct {
	uri    string
	method string
}

// originRule is one header by which a front door names the original
// request, and how to read its value.
type originRule struct {
	header string
	read   func(string) (string, error) // to a same-site request URI
}

// originalURI returns what a forward-auth proxy asks about, read from the
// headers of r by the rules below, one per front door:
//
//	X-Original-URI   nginx auth_request (proxy_set_header X-Original-URI $request_uri)
//	X-Original-URL   ingress-nginx auth-url ($scheme://$http_host$request_uri, absolute)
//	X-Forwarded-Uri  Traefik ForwardAuth, Caddy forward_auth
//	X-Original-Method, X-Forwarded-Method  the method, from the same doors
//
// The zero original means that none of them was sent.
//
// Threat model: those proxies copy every client header into the auth
// request and set only their own, so a client can add another door's
// header, or a second copy, naming a path with weaker requirements. The
// headers are therefore believed only from the trusted proxies, each
// at most once, and when several name the URI (or the method) they must
// agree. From any other peer they are refused rather than ignored:
// ignoring them would answer 200 for a path whose requirements were never
// checked. X-Forwarded-Host, -Proto and -For name nothing a decision
// depends on (routes match the path alone, and identity headers are
// judged by the TCP peer): they are believed from trusted proxies only, as
// on pass-through (setForwarded), and never refused.
func (g *Gateway) originalURI(r *http.Request) (original, error) {
	uriRules := [...]originRule{
		{"X-Original-URI", relativeURI},
		{"X-Original-URL", absoluteURL},
		{"X-Forwarded-Uri", relativeURI},
	}
	methodRules := [...]originRule{
		{"X-Original-Method", methodToken},
		{"X-Forwarded-Method", methodToken},
	}
	var o original
	seen := false
	for _, rs := range [...][]originRule{uriRules[:], methodRules[:]} {
		for _, rule := range rs {
			if len(r.Header.Values(rule.header)) > 0 {
				seen = true
			}
		}
	}
	if !seen {
		return original{}, nil
	}
	if !g.trusted.Contains(r.RemoteAddr) {
		return original{}, httpx.Errorf(http.StatusBadRequest, "untrusted_proxy",
			"X-Original-URI, X-Original-URL, X-Forwarded-Uri and the original method are honoured only from "+g.opts.Names(-1, "TRUSTED_PROXIES"),
			fmt.Errorf("%w: original request from %s, not a trusted proxy", ErrBadRequest, r.RemoteAddr))
	}
	var err error
	if o.uri, err = agree(r, uriRules[:], "bad_original_uri", "ambiguous_original_uri"); err != nil {
		return original{}, err
	}
	if o.method, err = agree(r, methodRules[:], "bad_original_method", "ambiguous_original_method"); err != nil {
		return original{}, err
	}
	return o, nil
}

// agree reads every rule's header of r that is present: each at most
// once, readable, and all naming the same value, which it returns ("" when
// none is present).
func agree(r *http.Request, rules []originRule, bad, ambiguous string) (string, error) {
	var out, from string
	for _, rule := range rules {
		vs := r.Header.Values(rule.header)
		switch {
		case len(vs) == 0:
			continue
		case len(vs) > 1:
			return "", httpx.Errorf(http.StatusBadRequest, ambiguous, rule.header+" is given more than once", ErrBadRequest)
		}
		v, err := rule.read(vs[0])
		if err != nil {
			return "", httpx.Errorf(http.StatusBadRequest, bad, rule.header+": "+err.Error(), fmt.Errorf("%w: %w", ErrBadRequest, err))
		}
		if from != "" && v != out {
			return "", httpx.Errorf(http.StatusBadRequest, ambiguous, from+" and "+rule.header+" disagree", ErrBadRequest)
		}
		out, from = v, rule.header
	}
	return out, nil
}

// relativeURI reads a request URI as nginx's $request_uri spells it.
func relativeURI(v string) (string, error) {
	if v == "" {
		return "", fmt.Errorf("empty")
	}
	return v, nil
}

// absoluteURL reads ingress-nginx's X-Original-URL, an absolute http(s)
// URL, to its request URI, byte for byte as sent: the host is the
// client's and names nothing here (routes match the path alone).
//
// ingress-nginx writes it as $scheme://$http_host$request_uri: the host is
// the client's raw Host header, which nginx lets hold a "?" (or "#", "@"),
// and $request_uri always starts with "/". So the authority must be
// exactly the URL's host, followed by "/": "http://x?/premium/a.mp4"
// (Host "x?") would otherwise read as "/" with a query, and the check
// decide about the wrong path. Anything else is refused.
func absoluteURL(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("not an absolute http(s) URL without user or fragment")
	}
	rest := v[strings.Index(v, "://")+3:]
	i := strings.IndexByte(rest, '/')
	if i < 0 || rest[:i] != u.Host || strings.ContainsAny(rest[:i], "?#@\\") {
		return "", fmt.Errorf("not a host followed by a path")
	}
	return rest[i:], nil
}

// methodToken reads a method: an HTTP token in upper case, as proxies
// send it.
func methodToken(v string) (string, error) {
	if v == "" || len(v) > 16 {
		return "", fmt.Errorf("not a method")
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 'A' || c > 'Z' {
			return "", fmt.Errorf("not a method")
		}
	}
	return v, nil
}

// targetRequest returns a shallow copy of r that asks for target, a path
// with an optional query, with method (when not "") as its method, so
// that authenticators (forward-auth) and routing see the request in
// question. target must be a same-site path; it is canonicalized later,
// by the route lookup, exactly as a request to the gateway is.
func targetRequest(r *http.Request, target, method string) (*http.Request, error) {
	if target == "" {
		return nil, fmt.Errorf("%w: the path parameter is required", ErrBadRequest)
	}
	if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") {
		return nil, fmt.Errorf("%w: path must be an absolute path on this site", ErrBadRequest)
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Fragment != "" || strings.Contains(target, "#") {
		return nil, fmt.Errorf("%w: path must be an absolute path on this site", ErrBadRequest)
	}
	t := new(http.Request)
	*t = *r
	t.URL = u
	t.RequestURI = u.RequestURI()
	if method != "" {
		t.Method = method
	}
	return t, nil
}
