package signer

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"
)

// Akamai EdgeAuth (Auth Token 2.0), the token of Akamai's published
// EdgeAuth libraries (npm akamai-edgeauth, PyPI akamai-edgeauth):
//
//	[ip=IP~][st=START~]exp=END[~acl=ACL][~id=ID][~data=DATA]~hmac=HEX
//
// hmac is the hex HMAC (SHA-256 by default, or SHA-1 or MD5) under the
// hex-decoded key of the same fields joined with '~', followed by
// "~url=URL" for a URL token (the url is signed, not written) and
// "~salt=SALT" when a salt is set. Several ACLs are joined with '!'; an
// ACL may hold '*' and '?' wildcards. With EscapeEarly, ip, id, data and
// url are percent-encoded (encodeURIComponent, with ~ ' * escaped too and
// lower-case hex) before they are written and signed.

// AkamaiTokenName is the default token name: the query parameter, cookie
// or header that carries the token.
const AkamaiTokenName = "__token__"

// EdgeAuth mints and verifies Akamai EdgeAuth 2.0 tokens.
type EdgeAuth struct {
	Key         Secret // the hex-decoded "encryption key"
	Algorithm   string // "sha256" (default), "sha1" or "md5"
	Salt        string
	EscapeEarly bool
}

// NewEdgeAuth builds an EdgeAuth from the key as Akamai's Property
// Manager shows it: an even-length string of hex digits.
func NewEdgeAuth(hexKey, algorithm string) (*EdgeAuth, error) {
	k, err := hex.DecodeString(strings.TrimSpace(hexKey))
	if err != nil || len(k) == 0 {
		return nil, fmt.Errorf("%w: an EdgeAuth key is a non-empty even-length hex string", ErrKey)
	}
	e := &EdgeAuth{Key: k, Algorithm: algorithm}
	if _, err := e.hash(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *EdgeAuth) hash() (func() hash.Hash, error) {
	switch strings.ToLower(e.Algorithm) {
	case "", "sha256":
		return sha256.New, nil
	case "sha1":
		return sha1.New, nil
	case "md5":
		return md5.New, nil
	}
	return nil, fmt.Errorf("%w: EdgeAuth algorithm is sha256, sha1 or md5", ErrAlgorithm)
}

// EdgeAuthToken is what one token says. End is required; Start is
// optional (the zero Time leaves st out).
type EdgeAuthToken struct {
	Start, End time.Time
	IP         string
	SessionID  string
	Data       string
}

// ACLToken returns a token for the access-control list acls (joined with
// '!'), each of which may hold wildcards ("/v/abc/*").
func (e *EdgeAuth) ACLToken(acls []string, t EdgeAuthToken) (string, error) {
	if len(acls) == 0 {
		return "", fmt.Errorf("%w: an ACL token needs an acl", ErrPath)
	}
	for _, a := range acls {
		if a == "" || strings.ContainsAny(a, "~!") {
			return "", fmt.Errorf("%w: an ACL is non-empty and holds no '~' or '!'", ErrPath)
		}
	}
	return e.token(strings.Join(acls, "!"), false, t)
}

// URLToken returns a token for one URL path (with its query, if the
// property signs it).
func (e *EdgeAuth) URLToken(url string, t EdgeAuthToken) (string, error) {
	if url == "" {
		return "", fmt.Errorf("%w: a URL token needs a url", ErrPath)
	}
	return e.token(url, true, t)
}

func (e *EdgeAuth) token(path string, isURL bool, t EdgeAuthToken) (string, error) {
	if t.End.IsZero() || t.End.Unix() <= 0 {
		return "", fmt.Errorf("%w: an EdgeAuth token needs an end time", ErrMalformed)
	}
	if !t.Start.IsZero() && t.End.Before(t.Start) {
		return "", fmt.Errorf("%w: the token would end before it starts", ErrMalformed)
	}
	var fields []string
	if t.IP != "" {
		fields = append(fields, "ip="+e.escape(t.IP))
	}
	if !t.Start.IsZero() {
		fields = append(fields, "st="+unix(t.Start))
	}
	fields = append(fields, "exp="+unix(t.End))
	if !isURL {
		fields = append(fields, "acl="+path)
	}
	if t.SessionID != "" {
		fields = append(fields, "id="+e.escape(t.SessionID))
	}
	if t.Data != "" {
		fields = append(fields, "data="+e.escape(t.Data))
	}
	for _, f := range fields {
		if strings.Contains(f[strings.IndexByte(f, '=')+1:], "~") {
			return "", fmt.Errorf("%w: a field holds '~'", ErrMalformed)
		}
	}
	mac, err := e.mac(fields, path, isURL)
	if err != nil {
		return "", err
	}
	return strings.Join(fields, "~") + "~hmac=" + mac, nil
}

func (e *EdgeAuth) mac(fields []string, path string, isURL bool) (string, error) {
	h, err := e.hash()
	if err != nil {
		return "", err
	}
	src := strings.Join(fields, "~")
	if isURL {
		src += "~url=" + e.escape(path)
	}
	if e.Salt != "" {
		src += "~salt=" + e.Salt
	}
	return hmacHex(h, e.Key, src), nil
}

func (e *EdgeAuth) escape(s string) string {
	if !e.EscapeEarly {
		return s
	}
	return escapeEarly(s)
}

// escapeEarly is the libraries' escape: JavaScript's encodeURIComponent
// (which keeps A-Z a-z 0-9 - _ . ! ~ * ' ( )), then ~ ' * escaped too,
// every escape in lower-case hex.
func escapeEarly(s string) string {
	const hexdig = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdig[c>>4])
		b.WriteByte(hexdig[c&15])
	}
	return b.String()
}

// EdgeAuthClaims is what VerifyACL and VerifyURL found in a good token.
type EdgeAuthClaims struct {
	ACLs       []string
	Start, End time.Time
	IP, ID     string
	Data       string
}

// VerifyACL checks an ACL token for the request path p at now: the
// signature, the window, and that one ACL matches p ('*' any run of
// characters, '?' one). With ip set, the token's ip must equal it.
func (e *EdgeAuth) VerifyACL(token, p, ip string, now time.Time) (EdgeAuthClaims, error) {
	c, err := e.verify(token, "", false, ip, now)
	if err != nil {
		return c, err
	}
	for _, a := range c.ACLs {
		if matchGlob(a, p, true) {
			return c, nil
		}
	}
	return c, ErrScope
}

// VerifyURL checks a URL token for url (as it was signed) at now.
func (e *EdgeAuth) VerifyURL(token, url, ip string, now time.Time) (EdgeAuthClaims, error) {
	return e.verify(token, url, true, ip, now)
}

func (e *EdgeAuth) verify(token, url string, isURL bool, ip string, now time.Time) (EdgeAuthClaims, error) {
	var c EdgeAuthClaims
	if token == "" {
		return c, ErrMissing
	}
	body, mac, ok := splitLast(token, "~hmac=")
	if !ok {
		return c, fmt.Errorf("%w: no hmac field", ErrMalformed)
	}
	fields := strings.Split(body, "~")
	var acl, end, start string
	for _, f := range fields {
		name, v, _ := strings.Cut(f, "=")
		switch name {
		case "ip":
			c.IP = v
		case "st":
			start = v
		case "exp":
			end = v
		case "acl":
			acl = v
		case "id":
			c.ID = v
		case "data":
			c.Data = v
		default:
			return c, fmt.Errorf("%w: unknown field", ErrMalformed)
		}
	}
	if isURL == (acl != "") || end == "" {
		return c, fmt.Errorf("%w: wrong kind of token or no exp", ErrMalformed)
	}
	want, err := e.mac(fields, url, isURL)
	if err != nil {
		return c, err
	}
	if !hmac.Equal([]byte(want), []byte(mac)) {
		return c, ErrSignature
	}
	if err := checkExpires(end, now); err != nil {
		return c, err
	}
	exp, _ := strconv.ParseInt(end, 10, 64)
	c.End = time.Unix(exp, 0)
	if start != "" {
		st, err := strconv.ParseInt(start, 10, 64)
		if err != nil {
			return c, fmt.Errorf("%w: st is not a Unix time", ErrMalformed)
		}
		if now.Unix() < st {
			return c, ErrNotYetValid
		}
		c.Start = time.Unix(st, 0)
	}
	if c.IP != "" && ip != "" && c.IP != e.escape(ip) {
		return c, ErrScope
	}
	if acl != "" {
		c.ACLs = strings.Split(acl, "!")
	}
	return c, nil
}
