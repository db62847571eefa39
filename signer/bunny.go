package signer

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Bunny CDN token authentication (https://docs.bunny.net/docs/cdn-token-authentication),
// in its three generations, which Bunny's edge tells apart by themselves:
//
//   - BunnyBasic, the first ("token authentication basic"):
//     token = b64url(MD5(key + path + expires [+ ip])), in ?token=&expires=.
//   - BunnyAdvanced, the second: token = b64url(SHA256(key + signed path +
//     expires [+ ip] + params)), where the signed path is token_path when
//     set (a directory scope) and params are the other parameters
//     (token_path, token_countries, token_countries_blocked, limit), sorted
//     by name and joined as "k=v&k=v".
//   - BunnyHMAC, the current one of Bunny's libraries (v2.1): token =
//     "HS256-" ["1-"] b64url(HMAC-SHA256(key, signed path + expires +
//     packed ip + params)), "1-" when an IP is bound (its 4 bytes, or the
//     first 8 of an IPv6 address, the /64).
//
// Each rides in the query ("path?token=T&params&expires=E") or, for a
// directory, in the path ("/bcdn_token=T&params&expires=E/path"), where
// relative URLs in a manifest keep it. b64url is without padding.

// BunnyMode is a generation of Bunny's token.
type BunnyMode int

// The generations, see above.
const (
	BunnyHMAC BunnyMode = iota
	BunnyAdvanced
	BunnyBasic
)

// ParseBunnyMode reads "hmac", "advanced" or "basic".
func ParseBunnyMode(s string) (BunnyMode, error) {
	switch s {
	case "", "hmac":
		return BunnyHMAC, nil
	case "advanced":
		return BunnyAdvanced, nil
	case "basic":
		return BunnyBasic, nil
	}
	return 0, fmt.Errorf("%w: Bunny token mode is hmac, advanced or basic", ErrAlgorithm)
}

// String is the name ParseBunnyMode reads.
func (m BunnyMode) String() string { return [...]string{"hmac", "advanced", "basic"}[m] }

// BunnyToken is what a Bunny token grants.
type BunnyToken struct {
	Path      string // the URL path signed, as the request will carry it
	TokenPath string // a directory the token opens ("/v/abc/"); not in basic
	Expires   time.Time
	IP        string // bind the token to this client address
	// CountriesAllowed and CountriesBlocked are comma-separated country
	// codes ("CA,US"); Limit a speed limit in kB/s. Not in basic.
	CountriesAllowed, CountriesBlocked string
	Limit                              int
	// IgnoreParams signs no query parameters (token_ignore_params), so
	// the client may add its own; hmac only.
	IgnoreParams bool
}

// BunnySign returns the token's parameters, in the order they ride:
// token, then the signed parameters (escaped), then expires.
func BunnySign(mode BunnyMode, key Secret, t BunnyToken) ([]Param, error) {
	if len(key) == 0 {
		return nil, fmt.Errorf("%w: no Bunny security key", ErrKey)
	}
	if !strings.HasPrefix(t.Path, "/") || t.TokenPath != "" && !strings.HasPrefix(t.TokenPath, "/") {
		return nil, fmt.Errorf("%w: a Bunny path starts with /", ErrPath)
	}
	params := t.params()
	if mode == BunnyBasic && len(params) > 0 {
		return nil, fmt.Errorf("%w: basic Bunny tokens sign the path and expiry only", ErrSchemeScope)
	}
	if mode != BunnyHMAC && t.IgnoreParams {
		return nil, fmt.Errorf("%w: token_ignore_params needs the hmac mode", ErrSchemeScope)
	}
	tok, err := bunnyDigest(mode, key, t.signedPath(), unix(t.Expires), t.IP, params)
	if err != nil {
		return nil, err
	}
	out := make([]Param, 0, len(params)+2)
	out = append(out, Param{Name: "token", Value: tok})
	for _, p := range params {
		out = append(out, Param{Name: p.Name, Value: escapeAll(p.Value)})
	}
	return append(out, Param{Name: "expires", Value: unix(t.Expires)}), nil
}

func (t BunnyToken) signedPath() string {
	if t.TokenPath != "" {
		return t.TokenPath
	}
	return t.Path
}

// params are the signed parameters, sorted by name, values unescaped.
func (t BunnyToken) params() []Param {
	var ps []Param
	add := func(name, v string) {
		if v != "" {
			ps = append(ps, Param{Name: name, Value: v})
		}
	}
	add("token_path", t.TokenPath)
	add("token_countries", t.CountriesAllowed)
	add("token_countries_blocked", t.CountriesBlocked)
	if t.Limit > 0 {
		add("limit", strconv.Itoa(t.Limit))
	}
	if t.IgnoreParams {
		add("token_ignore_params", "true")
	}
	slices.SortFunc(ps, func(a, b Param) int { return strings.Compare(a.Name, b.Name) })
	return ps
}

func bunnyDigest(mode BunnyMode, key Secret, path, expires, ip string, params []Param) (string, error) {
	data := make([]string, len(params))
	for i, p := range params {
		data[i] = p.Name + "=" + p.Value
	}
	signing := strings.Join(data, "&")
	switch mode {
	case BunnyBasic:
		sum := md5.Sum([]byte(string(key) + path + expires + ip))
		return base64.RawURLEncoding.EncodeToString(sum[:]), nil
	case BunnyAdvanced:
		sum := sha256.Sum256([]byte(string(key) + path + expires + ip + signing))
		return base64.RawURLEncoding.EncodeToString(sum[:]), nil
	}
	var packed []byte
	flags := ""
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return "", fmt.Errorf("%w: the client IP is not an address", ErrMalformed)
		}
		if a.Is4() {
			b := a.As4()
			packed = b[:]
		} else {
			b := a.As16()
			clear(b[8:])
			packed = b[:]
		}
		flags = "1-"
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(path + expires))
	m.Write(packed)
	m.Write([]byte(signing))
	return "HS256-" + flags + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// BunnyURL places params (from BunnySign) on origin ("https://zone.b-cdn.net")
// and path: in the query, or with pathForm as a leading path component.
func BunnyURL(origin, path string, params []Param, pathForm bool) string {
	var b strings.Builder
	b.WriteString(origin)
	if pathForm {
		b.WriteString("/bcdn_")
	} else {
		b.WriteString(path)
		b.WriteByte('?')
	}
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.Name + "=" + p.Value)
	}
	if pathForm {
		b.WriteString(path)
	}
	return b.String()
}

// BunnyFilePath returns the path of the file that an escaped path names:
// the path after a leading path-form token (BunnyURL's "/bcdn_…"
// component, whose token_path holds escaped slashes), or the path itself.
func BunnyFilePath(escaped string) string {
	if !strings.HasPrefix(escaped, "/bcdn_") {
		return escaped
	}
	if i := strings.IndexByte(escaped[1:], '/'); i >= 0 {
		return escaped[1+i:]
	}
	return "/"
}

// escapeAll percent-encodes every byte but the RFC 3986 unreserved ones
// (Python's quote(v, safe=""), as Bunny's libraries write values).
func escapeAll(s string) string {
	return strings.NewReplacer("+", "%20", "%7E", "~").Replace(url.QueryEscape(s))
}

// isBunnyParam reports whether name is a parameter a Bunny token writes.
func isBunnyParam(name string) bool {
	switch name {
	case "token", "expires", "token_path", "token_countries", "token_countries_blocked", "limit", "token_ignore_params":
		return true
	}
	return false
}

// BunnyVerify checks a Bunny-signed request URI (path and query as the
// client sent them, in either form) for the client's address ip at now.
// It returns the path asked for.
func BunnyVerify(mode BunnyMode, key Secret, requestURI, ip string, now time.Time) (string, error) {
	path, rawQuery, _ := strings.Cut(requestURI, "?")
	if rest, ok := strings.CutPrefix(path, "/bcdn_token="); ok {
		comp, tail, _ := strings.Cut(rest, "/")
		rawQuery, path = "token="+comp, "/"+tail
	}
	vals, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrQuery, err)
	}
	tok, exp := vals.Get("token"), vals.Get("expires")
	if tok == "" {
		return "", ErrMissing
	}
	t := BunnyToken{Path: path, TokenPath: vals.Get("token_path"), CountriesAllowed: vals.Get("token_countries"),
		CountriesBlocked: vals.Get("token_countries_blocked"), IgnoreParams: vals.Get("token_ignore_params") == "true"}
	if l := vals.Get("limit"); l != "" {
		if t.Limit, err = strconv.Atoi(l); err != nil || t.Limit <= 0 {
			return "", fmt.Errorf("%w: limit", ErrMalformed)
		}
	}
	if !t.IgnoreParams {
		for name := range vals {
			if !isBunnyParam(name) {
				return "", fmt.Errorf("%w: parameter %q is not signed", ErrSignature, name)
			}
		}
	}
	if t.TokenPath != "" && !strings.HasPrefix(path, t.TokenPath) {
		return "", ErrScope
	}
	ips := []string{""}
	if ip != "" && (mode != BunnyHMAC || strings.HasPrefix(tok, "HS256-1-")) {
		ips = []string{ip, ""}
		if mode == BunnyHMAC {
			ips = ips[:1]
		}
	}
	var good bool
	for _, a := range ips {
		want, err := bunnyDigest(mode, key, t.signedPath(), exp, a, t.params())
		if err == nil && hmac.Equal([]byte(want), []byte(tok)) {
			good = true
			break
		}
	}
	if !good {
		return "", ErrSignature
	}
	if err := checkExpires(exp, now); err != nil {
		return "", err
	}
	return path, nil
}
