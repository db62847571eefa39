package signer

// Two choices the Google schemes share:
//   - Signer.Cookies gets the token only, and a Cloud CDN or Media CDN
//     cookie carries a signature of its own (Cloud CDN signs "a:b:c", the
//     query "a&b&c"): so Mint mints the cookie value too and keeps it in
//     the Token under the cookie's name, which URL leaves out.
//   - Request has no URL scheme (http or https), and both sign the whole
//     URL: their Checkers take it from Settings.Base (https when unset).

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Google is Google Cloud CDN's signed URLs and signed cookie (HMAC-SHA1).
// Settings: KEY_FILE (the base64url 16-byte key, as Google makes it),
// KEY_ID (its key name). An exact grant signs the URL of the file; a
// prefix grant signs a URLPrefix policy for "BASE/dir/" (the bucket:
// "BASE/"), and cookie mode sets Cloud-CDN-Cookie with the same prefix.
// The client's query is dropped: the exact form signs the whole URL.
type Google struct{}

var (
	_ Scheme          = Google{}
	_ VerifyingScheme = Google{}
	_ Signer          = (*GoogleSigner)(nil)
)

// Name implements Scheme.
func (Google) Name() string { return "google" }

// Caps implements Scheme.
func (Google) Caps() Caps {
	return Caps{
		Exact: true, Prefix: true, Cookies: true,
		Rides:      []string{"query", "cookie"},
		Drops:      []string{"URLPrefix", "Expires", "KeyName", "Signature"},
		DropsQuery: true,
	}
}

// Check implements Scheme.
func (g Google) Check(s Settings) error {
	return errors.Join(CheckCaps(g.Name(), g.Caps(), s), CheckOptions(g.Name(), s))
}

// New implements Scheme.
func (g Google) New(s Settings) (Signer, error) {
	if err := g.Check(s); err != nil {
		return nil, err
	}
	k, err := googleKey(s)
	if err != nil {
		return nil, err
	}
	if s.Base.IsZero() {
		return nil, settingErr("CDN_BASE", nil, "the Cloud CDN URL is required")
	}
	return &GoogleSigner{key: k, base: s.Base}, nil
}

func googleKey(s Settings) (CloudCDNKey, error) {
	if err := checkKeyName(s.KeyID); err != nil {
		return CloudCDNKey{}, &SettingError{Setting: "KEY_ID", Err: err}
	}
	k, err := NewCloudCDNKey(s.KeyID, string(s.Key))
	if err != nil {
		return CloudCDNKey{}, &SettingError{Setting: "KEY_FILE", Err: err}
	}
	return k, nil
}

// GoogleSigner is the google scheme's Signer.
type GoogleSigner struct {
	key  CloudCDNKey
	base Base
}

// cdnURL is the URL of canonical path p on base, and cdnPath its path.
func cdnURL(base Base, p string) string { return base.String() + EscapePath(slashed(p)) }

func cdnPath(base Base, p string) string { return base.PathPrefix() + EscapePath(slashed(p)) }

func slashed(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return "/" + p
}

// dirOf is what a prefix grant g opens, ending in "/": "/dir/", or "/"
// for the bucket.
func dirOf(g Grant) string {
	if g.Path == "" || g.Path == "/" {
		return "/"
	}
	return slashed(g.Path) + "/"
}

// Mint implements Signer.
func (s *GoogleSigner) Mint(g Grant, exp time.Time) (Token, error) {
	if err := grantOf("google", Google{}.Caps(), g); err != nil {
		return Token{}, err
	}
	if exp.IsZero() {
		return Token{}, errors.New("signer: a Cloud CDN signature needs an expiry")
	}
	if !g.Prefix && g.Path != "" {
		_, sig, _ := splitLast(s.key.SignURL(cdnURL(s.base, g.Path), exp), "&Signature=")
		return Token{Params: []Param{{"Expires", unix(exp)}, {"KeyName", s.key.Name}, {"Signature", sig}}}, nil
	}
	prefix := cdnURL(s.base, dirOf(g))
	q, err := s.key.SignURLPrefix("", prefix, exp)
	if err != nil {
		return Token{}, err
	}
	cookie, err := s.key.SignCookie(prefix, exp)
	if err != nil {
		return Token{}, err
	}
	return Token{Params: append(splitQuery(strings.TrimPrefix(q, "?")), Param{CloudCDNCookie, cookie})}, nil
}

// splitQuery splits "a=1&b=2" into Params, values as they stand.
func splitQuery(q string) []Param {
	var ps []Param
	for part := range strings.SplitSeq(q, "&") {
		n, v, _ := strings.Cut(part, "=")
		ps = append(ps, Param{n, v})
	}
	return ps
}

// URL implements Signer: the file's URL, then the token's parameters;
// the client's query is dropped (see Google).
func (s *GoogleSigner) URL(p, _ string, tok Token) (string, error) {
	return placeQuery(cdnURL(s.base, p), tok, CloudCDNCookie), nil
}

// placeQuery appends tok's parameters but those named in skip to u.
func placeQuery(u string, tok Token, skip ...string) string {
	var sb strings.Builder
	sb.WriteString(u)
	sep := querySep(u)
	for _, p := range tok.Params {
		if contains(skip, p.Name) {
			continue
		}
		sb.WriteString(sep)
		sb.WriteString(p.Name)
		sb.WriteByte('=')
		sb.WriteString(p.Value)
		sep = "&"
	}
	return sb.String()
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Cookies implements Signer: Cloud-CDN-Cookie, for a prefix grant.
func (s *GoogleSigner) Cookies(tok Token) ([]http.Cookie, error) {
	v := tok.Get(CloudCDNCookie)
	if v == "" {
		return nil, fmt.Errorf("%w: a Cloud CDN cookie grants a prefix, not one file", ErrNoCookies)
	}
	return []http.Cookie{{Name: CloudCDNCookie, Value: v}}, nil
}

// KeyID implements Signer.
func (s *GoogleSigner) KeyID() string { return s.key.Name }

// String describes the signer without its key.
func (s *GoogleSigner) String() string { return fmt.Sprintf("google key %q on %s", s.key.Name, s.base) }

// NewChecker implements VerifyingScheme: s.Key is the key, s.KeyID its
// name, s.Base the CDN URL the requests came to.
func (Google) NewChecker(s Settings) (Checker, error) {
	k, err := googleKey(s)
	if err != nil {
		return nil, err
	}
	return googleChecker{keys: NewCloudCDNKeys(k), base: s.Base}, nil
}

type googleChecker struct {
	keys CloudCDNKeys
	base Base
}

// requestURL rebuilds the URL a CDN request was made to, without query.
func requestURL(base Base, req Request) string {
	scheme := "https"
	if b := base.String(); strings.HasPrefix(b, "http://") {
		scheme = "http"
	}
	host := req.Host
	if host == "" {
		host = base.Host()
	}
	return scheme + "://" + host + requestPath(req)
}

// requestPath is the path of req as the client wrote it.
func requestPath(req Request) string {
	if req.EscapedPath != "" {
		return req.EscapedPath
	}
	return EscapePath(slashed(req.Path))
}

// Check implements Checker: the signed URL, else Cloud-CDN-Cookie.
func (c googleChecker) Check(req Request) (Verified, error) {
	now := nowOf(req)
	u := requestURL(c.base, req)
	if req.RawQuery != "" {
		signed := u + "?" + req.RawQuery
		if err := c.keys.VerifyURL(signed, now); !errors.Is(err, ErrMissing) {
			return verifiedOf(signed, "&", req, err)
		}
	}
	for _, ck := range req.Cookies {
		if ck.Name == CloudCDNCookie {
			return verifiedOf(ck.Value, ":", req, c.keys.VerifyCookie(ck.Value, u, now))
		}
	}
	return Verified{}, ErrMissing
}

// prefixGrant is the grant of a URL prefix "scheme://host/dir/": the
// directory, as a prefix grant ("" for the host's root).
func prefixGrant(prefix string) Grant {
	_, rest, _ := strings.Cut(prefix, "://")
	_, p, _ := strings.Cut(rest, "/")
	return Grant{Path: strings.TrimSuffix("/"+p, "/"), Prefix: true}
}

func nowOf(req Request) time.Time {
	if req.Now.IsZero() {
		return time.Now()
	}
	return req.Now
}

// verifiedOf reports a good Cloud CDN (or Media CDN) signature: its key,
// expiry and, for a URLPrefix policy, the directory it grants.
func verifiedOf(signed, sep string, req Request, err error) (Verified, error) {
	if err != nil {
		return Verified{}, err
	}
	v := Verified{Grant: Grant{Path: req.Path}}
	for _, part := range strings.Split(signed[strings.LastIndexByte(signed, '?')+1:], sep) {
		n, val, _ := strings.Cut(part, "=")
		switch n {
		case "KeyName":
			v.KeyID = val
		case "Expires":
			if t, err := strconv.ParseInt(val, 10, 64); err == nil {
				v.Expires = time.Unix(t, 0)
			}
		case "URLPrefix":
			if b, err := base64.URLEncoding.DecodeString(val); err == nil {
				v.Grant = prefixGrant(string(b))
			}
		}
	}
	return v, nil
}

// LogValue implements slog.LogValuer: the key never reaches a log.
func (s *GoogleSigner) LogValue() slog.Value { return signerLog("google", s.key.Name) }

// GoString implements fmt.GoStringer, so %#v shows no key either.
func (s *GoogleSigner) GoString() string { return s.String() }
