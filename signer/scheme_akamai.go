package signer

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Akamai is Akamai EdgeAuth 2.0 (Auth Token 2.0 Verification). Settings:
// KEY_FILE (the hex key of the property's behaviour), and the options
// AKAMAI_ALGORITHM (sha256, sha1 or md5), AKAMAI_TOKEN_NAME (__token__),
// AKAMAI_ESCAPE_EARLY (true or false, as the property's "Escape token
// input") and AKAMAI_SESSION_ID (id, the same for every token). Tokens
// are ACL tokens: acl=/file for an exact grant, acl=/dir/* for a prefix
// grant (the bucket: /*), so the client's query is kept. KEY_ID is not
// used: EdgeAuth tokens name no key.
type Akamai struct{}

var (
	_ Scheme          = Akamai{}
	_ VerifyingScheme = Akamai{}
	_ Signer          = (*AkamaiSigner)(nil)
)

const (
	akAlgorithm = "AKAMAI_ALGORITHM"
	akTokenName = "AKAMAI_TOKEN_NAME"
	akEscape    = "AKAMAI_ESCAPE_EARLY"
	akSession   = "AKAMAI_SESSION_ID"
)

// Name implements Scheme.
func (Akamai) Name() string { return "akamai" }

// Caps implements Scheme.
func (Akamai) Caps() Caps {
	return Caps{
		Exact: true, Prefix: true, Wildcard: true, Cookies: true,
		Rides: []string{"query", "cookie", "header"}, Drops: []string{AkamaiTokenName},
		KeyIDOptional: true,
	}
}

// Check implements Scheme.
func (a Akamai) Check(s Settings) error {
	_, _, err := a.options(s)
	return errors.Join(CheckCaps(a.Name(), a.Caps(), s),
		CheckOptions(a.Name(), s, akAlgorithm, akTokenName, akEscape, akSession), err)
}

// options returns the EdgeAuth (without key) and the token name of s.
func (Akamai) options(s Settings) (*EdgeAuth, string, error) {
	var errs []error
	e := &EdgeAuth{Algorithm: strings.ToLower(s.Options[akAlgorithm])}
	if _, err := e.hash(); err != nil {
		errs = append(errs, settingErr(akAlgorithm, nil, "%q: want sha256, sha1 or md5", s.Options[akAlgorithm]))
	}
	switch v := s.Options[akEscape]; v {
	case "", "false":
	case "true":
		e.EscapeEarly = true
	default:
		errs = append(errs, settingErr(akEscape, nil, "%q: want true or false", v))
	}
	name := s.Options[akTokenName]
	if name == "" {
		name = AkamaiTokenName
	} else if url.QueryEscape(name) != name || strings.ContainsAny(name, "=;, ") {
		errs = append(errs, settingErr(akTokenName, nil, "%q: a token name is a plain word", name))
	}
	if strings.Contains(s.Options[akSession], "~") {
		errs = append(errs, settingErr(akSession, nil, "holds no '~'"))
	}
	return e, name, errors.Join(errs...)
}

// New implements Scheme.
func (a Akamai) New(s Settings) (Signer, error) {
	if err := a.Check(s); err != nil {
		return nil, err
	}
	e, name, _ := a.options(s)
	k, err := NewEdgeAuth(string(s.Key), e.Algorithm)
	if err != nil {
		return nil, &SettingError{Setting: "KEY_FILE", Err: err}
	}
	k.EscapeEarly = e.EscapeEarly
	if s.Base.IsZero() {
		return nil, settingErr("CDN_BASE", nil, "the Akamai property's URL is required")
	}
	return &AkamaiSigner{ea: k, name: name, session: s.Options[akSession], base: s.Base}, nil
}

// AkamaiSigner is the akamai scheme's Signer.
type AkamaiSigner struct {
	ea      *EdgeAuth
	name    string
	session string
	base    Base
}

// ACL returns the acl of grant g on the signer's base.
func (s *AkamaiSigner) ACL(g Grant) (string, error) {
	if !g.Prefix && g.Path != "" {
		acl := cdnPath(s.base, g.Path)
		if strings.ContainsAny(acl, "~!*?") {
			return "", fmt.Errorf("%w: an EdgeAuth acl cannot hold ~ ! * or ?", ErrSchemeScope)
		}
		return acl, nil
	}
	dir := cdnPath(s.base, dirOf(g))
	if strings.ContainsAny(dir, "~!*?") {
		return "", fmt.Errorf("%w: an EdgeAuth acl cannot hold ~ ! * or ?", ErrSchemeScope)
	}
	return dir + "*", nil
}

// Mint implements Signer.
func (s *AkamaiSigner) Mint(g Grant, exp time.Time) (Token, error) {
	if err := grantOf("akamai", Akamai{}.Caps(), g); err != nil {
		return Token{}, err
	}
	acl, err := s.ACL(g)
	if err != nil {
		return Token{}, err
	}
	tok, err := s.ea.ACLToken([]string{acl}, EdgeAuthToken{End: exp, SessionID: s.session})
	if err != nil {
		return Token{}, err
	}
	return Token{Params: []Param{{s.name, tok}}}, nil
}

// URL implements Signer: the client's query without the token name, then
// the token.
func (s *AkamaiSigner) URL(p, rawQuery string, tok Token) (string, error) {
	q, err := DropParams(rawQuery, s.name)
	if err != nil {
		return "", err
	}
	u := cdnURL(s.base, p)
	if q != "" {
		u += "?" + q
	}
	return placeQuery(u, tok), nil
}

// Cookies implements Signer: the token under its name.
func (s *AkamaiSigner) Cookies(tok Token) ([]http.Cookie, error) {
	return []http.Cookie{{Name: s.name, Value: tok.Get(s.name)}}, nil
}

// KeyID implements Signer: EdgeAuth names no key; the token name stands
// in for logs.
func (s *AkamaiSigner) KeyID() string { return s.name }

// String describes the signer without its key.
func (s *AkamaiSigner) String() string {
	return fmt.Sprintf("akamai edgeauth %s (%s) on %s", s.name, s.ea.Algorithm, s.base)
}

// NewChecker implements VerifyingScheme: s.Key is the hex key.
func (a Akamai) NewChecker(s Settings) (Checker, error) {
	e, name, err := a.options(s)
	if err != nil {
		return nil, err
	}
	k, err := NewEdgeAuth(string(s.Key), e.Algorithm)
	if err != nil {
		return nil, &SettingError{Setting: "KEY_FILE", Err: err}
	}
	k.EscapeEarly = e.EscapeEarly
	return akamaiChecker{ea: k, name: name, base: s.Base}, nil
}

type akamaiChecker struct {
	ea   *EdgeAuth
	name string
	base Base
}

// Check implements Checker: the token from the query, the cookie or the
// header of that name, an ACL token for the request path.
func (c akamaiChecker) Check(req Request) (Verified, error) {
	tok := ""
	if vals, err := url.ParseQuery(req.RawQuery); err == nil {
		tok = vals.Get(c.name)
	}
	for _, ck := range req.Cookies {
		if tok == "" && ck.Name == c.name {
			tok = ck.Value
		}
	}
	if tok == "" {
		tok = req.Header.Get(c.name)
	}
	cl, err := c.ea.VerifyACL(tok, requestPath(req), req.ClientIP, nowOf(req))
	if err != nil {
		return Verified{}, err
	}
	v := Verified{Grant: Grant{Path: req.Path}, Expires: cl.End}
	if a := cl.ACLs[0]; strings.HasSuffix(a, "/*") {
		v.Grant = Grant{Path: strings.TrimSuffix(a, "/*"), Prefix: true}
	}
	return v, nil
}

// LogValue implements slog.LogValuer: the key never reaches a log.
func (s *AkamaiSigner) LogValue() slog.Value { return signerLog("akamai", s.name) }

// GoString implements fmt.GoStringer, so %#v shows no key either.
func (s *AkamaiSigner) GoString() string { return s.String() }
