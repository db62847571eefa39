package signer

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// QencodeBase returns the CDN base of a Qencode media-storage bucket:
// https://{bucket}.media-storage.{region}.qencode.com
func QencodeBase(bucket, region string) string {
	return "https://" + bucket + ".media-storage." + region + ".qencode.com"
}

// Base is a CDN base URL that signed URLs are built on: a scheme, a host
// and optionally a path prefix, such as https://cdn.example.com/media.
// The prefix is not part of the signed path. Safe for concurrent use.
type Base struct {
	prefix string // scheme://host[/escaped/prefix], no trailing slash
}

// ParseBase reads a CDN base URL. It must be absolute http(s), with a host,
// and without query, fragment or user info.
func ParseBase(s string) (Base, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Base{}, fmt.Errorf("CDN base URL: %w", err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return Base{}, fmt.Errorf("CDN base URL %q: scheme must be https or http", s)
	case u.Host == "":
		return Base{}, fmt.Errorf("CDN base URL %q: no host", s)
	case u.User != nil:
		return Base{}, fmt.Errorf("CDN base URL: must not hold user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return Base{}, fmt.Errorf("CDN base URL %q: must not have a query or fragment", s)
	}
	prefix := strings.TrimSuffix(u.EscapedPath(), "/")
	if prefix != "" {
		if _, err := CanonicalPath(prefix); err != nil {
			return Base{}, fmt.Errorf("CDN base URL %q: path prefix: %w", s, err)
		}
	}
	return Base{prefix: strings.ToLower(u.Scheme) + "://" + u.Host + prefix}, nil
}

// String returns the base URL, without a trailing slash.
func (b Base) String() string { return b.prefix }

// Origin returns the identity of the bucket space that b names, for
// telling whether two bases reach the same objects the same way: Host,
// then the path prefix in canonical (decoded) form. The zero Base has the
// origin "".
func (b Base) Origin() string {
	if b.prefix == "" {
		return ""
	}
	prefix := b.PathPrefix()
	if prefix != "" {
		// ParseBase checked the prefix is canonical once decoded.
		if p, err := CanonicalPath(prefix); err == nil {
			prefix = p
		}
	}
	return b.Host() + prefix
}

// Host returns the host of b as one spelling of it: lower case, in its
// ASCII (punycode) form, without a trailing dot; an IP address in its
// standard form; the port as a number, left out when it is the scheme's
// default (or empty). The scheme itself is left out on purpose: a CDN
// that serves a bucket over https serves it over http too, and a token is
// bound to neither.
func (b Base) Host() string {
	if b.prefix == "" {
		return ""
	}
	u, err := url.Parse(b.prefix)
	if err != nil {
		return b.prefix
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().String()
	} else if h, err := idna.Lookup.ToASCII(host); err == nil {
		host = h
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if n, err := strconv.Atoi(port); err == nil {
		port = strconv.Itoa(n)
	}
	switch {
	case port == "", port == "443" && u.Scheme == "https", port == "80" && u.Scheme == "http":
		return host
	}
	return host + ":" + port
}

// PathPrefix returns the escaped path prefix of b: "" or "/prefix".
func (b Base) PathPrefix() string {
	if b.prefix == "" {
		return ""
	}
	rest := b.prefix[strings.Index(b.prefix, "://")+3:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return ""
}

// IsZero reports whether b is the zero Base.
func (b Base) IsZero() bool { return b.prefix == "" }

// URL returns the signed URL for canonical path p: the base (nothing, for
// the zero Base, which gives a relative URL), p escaped, then
// the original raw query with any auth parameter dropped and the others in
// their order, then auth=token. A query part that is not validly escaped is
// re-escaped; one whose name cannot be decoded is refused (ErrQuery).
func (b Base) URL(p, rawQuery, token string) (string, error) {
	q, err := StripAuth(rawQuery)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	ep := EscapePath(p)
	sb.Grow(len(b.prefix) + len(ep) + len(q) + len(token) + 7)
	sb.WriteString(b.prefix)
	sb.WriteString(ep)
	sb.WriteByte('?')
	if q != "" {
		sb.WriteString(q)
		sb.WriteByte('&')
	}
	sb.WriteString("auth=")
	sb.WriteString(token)
	return sb.String(), nil
}

// EscapePath escapes a canonical path for use in a URL; CanonicalPath of the
// result gives p back.
func EscapePath(p string) string {
	for i := 0; i < len(p); i++ {
		if !pathSafe(p[i]) {
			return (&url.URL{Path: p}).EscapedPath()
		}
	}
	return p
}

// pathSafe reports whether c stands unescaped in a path, by the same rule
// as url.URL.EscapedPath, so that both branches of EscapePath agree.
func pathSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '$', '&', '+', ',', ';', '=', ':', '@', '/':
		return true
	}
	return false
}

// TokenFromQuery returns the token in rawQuery's auth parameter, by the rule
// the edge reads it: the name may be spelled escaped; other parameters are
// not decoded, so a badly escaped one does not matter; an empty value is no
// token (""). Several auth parameters are ambiguous, and refused like a
// value that is not validly escaped, with an error wrapping ErrMalformed.
func TokenFromQuery(rawQuery string) (string, error) {
	var tok string
	n := 0
	for q := rawQuery; q != ""; {
		var part string
		part, q, _ = strings.Cut(q, "&")
		name, val, _ := strings.Cut(part, "=")
		if name != "auth" {
			if !strings.Contains(name, "%") {
				continue
			}
			if u, err := url.QueryUnescape(name); err != nil || u != "auth" {
				continue
			}
		}
		n++
		v, err := queryUnescape(val)
		if err != nil {
			return "", tokenErr(ErrMalformed, "auth parameter is not validly escaped")
		}
		tok = v
	}
	if n > 1 {
		return "", tokenErr(ErrMalformed, "more than one auth parameter")
	}
	return tok, nil
}

// queryUnescape is url.QueryUnescape (TestQueryUnescapeMatchesURL), but
// a value with neither '%' nor '+' is its own unescaping and is returned
// at once: a ~600-byte token then costs two vectorised searches rather
// than url's byte-by-byte scan, on every request the edge checks.
func queryUnescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, nil
	}
	return url.QueryUnescape(s)
}

// StripAuth returns rawQuery without its auth parameters (in any escaped
// spelling of the name) and without empty parts, keeping the other parts in
// order. Parts that are validly escaped are kept byte for byte; others are
// re-escaped.
func StripAuth(rawQuery string) (string, error) {
	return stripParams(rawQuery, []string{"auth"})
}

// stripParams is StripAuth for the parameters named in names.
func stripParams(rawQuery string, names []string) (string, error) {
	if rawQuery == "" {
		return "", nil
	}
	// Fast path: nothing to drop (no name, no escape that could spell it,
	// no empty part) and nothing to re-escape.
	if !containsAny(rawQuery, names) && !strings.Contains(rawQuery, "%") &&
		rawQuery[0] != '&' && rawQuery[len(rawQuery)-1] != '&' && !strings.Contains(rawQuery, "&&") &&
		queryClean(rawQuery) {
		return rawQuery, nil
	}
	var sb strings.Builder
	sb.Grow(len(rawQuery))
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		rawName, rawValue, hasValue := strings.Cut(part, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return "", ErrQuery
		}
		if slices.Contains(names, name) {
			continue
		}
		if !queryClean(part) {
			value, err := queryUnescape(rawValue)
			if err != nil {
				return "", ErrQuery
			}
			part = url.QueryEscape(name)
			if hasValue {
				part += "=" + url.QueryEscape(value)
			}
		}
		if sb.Len() > 0 {
			sb.WriteByte('&')
		}
		sb.WriteString(part)
	}
	return sb.String(), nil
}

// containsAny reports whether s contains any of names.
func containsAny(s string, names []string) bool {
	for _, n := range names {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}

// queryClean reports whether s holds only characters allowed in a query
// and only valid percent-escapes.
func queryClean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
			continue
		}
		// ';' is escaped: some servers split a query on it, which would let
		// a client smuggle a second auth past StripAuth.
		if c == ';' || !pathSafe(c) && !strings.ContainsRune("?!'()*", rune(c)) {
			return false
		}
	}
	return true
}
