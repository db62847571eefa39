package signer

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Media CDN dual tokens (https://cloud.google.com/media-cdn/docs/generate-tokens):
// an edge-cache-token value of '~'-separated fields
//
//	PathGlobs=…|URLPrefix=B64|FullPath, [Starts=S], Expires=E,
//	[SessionID=…], [Data=…], [Headers=n1,n2], [IPRanges=B64],
//	Signature=B64 (Ed25519) | hmac=HEX (HMAC-SHA1 or HMAC-SHA256)
//
// The signed string is the same fields joined with '~', except that
// FullPath signs "FullPath=<request path>" and Headers signs
// "Headers=n1=v1,n2=v2". Base64 is URL-safe without padding.

// MediaCDNHeader is one request header a token binds, by name and value.
type MediaCDNHeader struct{ Name, Value string }

// MediaCDNToken is what a dual token grants. Exactly one of URLPrefix,
// FullPath and PathGlobs is set.
type MediaCDNToken struct {
	URLPrefix string // "https://host/dir/": every URL that starts with it
	FullPath  string // "/dir/file.m3u8": that path only (not written in the token)
	PathGlobs string // "/dir/*" or several joined by ',' or '!'

	Starts    time.Time // zero: valid at once
	Expires   time.Time
	SessionID string
	Data      string
	Headers   []MediaCDNHeader
	IPRanges  string // "203.0.113.0/24,2001:db8::/32", as Google's API takes it
}

// MediaCDNTokenKey signs dual tokens with Ed25519 (Private set) or with an
// HMAC secret (Secret set, Hash "sha1" or "sha256").
type MediaCDNTokenKey struct {
	Private ed25519.PrivateKey
	Secret  Secret
	Hash    string
}

// Sign returns the edge-cache-token value for t.
func (k MediaCDNTokenKey) Sign(t MediaCDNToken) (string, error) {
	var out, signed []string
	add := func(tok, sig string) { out, signed = append(out, tok), append(signed, sig) }
	switch {
	case countSet(t.URLPrefix, t.FullPath, t.PathGlobs) != 1:
		return "", fmt.Errorf("%w: a Media CDN token has exactly one of URLPrefix, FullPath, PathGlobs", ErrPath)
	case t.FullPath != "":
		add("FullPath", "FullPath="+t.FullPath)
	case t.PathGlobs != "":
		if strings.ContainsAny(t.PathGlobs, "~ ") {
			return "", fmt.Errorf("%w: PathGlobs holds no '~' or space", ErrPath)
		}
		f := "PathGlobs=" + t.PathGlobs
		add(f, f)
	default:
		f := "URLPrefix=" + base64.RawURLEncoding.EncodeToString([]byte(t.URLPrefix))
		add(f, f)
	}
	if !t.Starts.IsZero() {
		f := "Starts=" + unix(t.Starts)
		add(f, f)
	}
	f := "Expires=" + unix(t.Expires)
	add(f, f)
	for _, kv := range []struct{ name, v string }{{"SessionID", t.SessionID}, {"Data", t.Data}} {
		if strings.Contains(kv.v, "~") {
			return "", fmt.Errorf("%w: %s holds no '~'", ErrMalformed, kv.name)
		}
		if kv.v != "" {
			f := kv.name + "=" + kv.v
			add(f, f)
		}
	}
	if len(t.Headers) > 0 {
		names, pairs := make([]string, len(t.Headers)), make([]string, len(t.Headers))
		for i, h := range t.Headers {
			names[i], pairs[i] = h.Name, h.Name+"="+h.Value
		}
		add("Headers="+strings.Join(names, ","), "Headers="+strings.Join(pairs, ","))
	}
	if t.IPRanges != "" {
		f := "IPRanges=" + base64.RawURLEncoding.EncodeToString([]byte(t.IPRanges))
		add(f, f)
	}
	msg := strings.Join(signed, "~")
	switch {
	case k.Private != nil:
		out = append(out, "Signature="+base64.RawURLEncoding.EncodeToString(ed25519.Sign(k.Private, []byte(msg))))
	case k.Secret != nil:
		h, err := tokenHash(k.Hash)
		if err != nil {
			return "", err
		}
		out = append(out, "hmac="+hmacHex(h, k.Secret, msg))
	default:
		return "", fmt.Errorf("%w: no Media CDN token key", ErrKey)
	}
	return strings.Join(out, "~"), nil
}

func countSet(ss ...string) (n int) {
	for _, s := range ss {
		if s != "" {
			n++
		}
	}
	return n
}

func tokenHash(name string) (func() hash.Hash, error) {
	switch strings.ToLower(name) {
	case "sha1":
		return sha1.New, nil
	case "sha256", "":
		return sha256.New, nil
	}
	return nil, fmt.Errorf("%w: HMAC hash is sha1 or sha256", ErrAlgorithm)
}

func hmacHex(h func() hash.Hash, key []byte, msg string) string {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// MediaCDNRequest is what a dual token is checked against.
type MediaCDNRequest struct {
	URL    string // the full request URL, for URLPrefix
	Path   string // the request path, for FullPath and PathGlobs
	Header http.Header
	IP     netip.Addr
}

// MediaCDNTokenVerifier checks dual tokens with the keys Media CDN would
// hold: Ed25519 public keys, and HMAC secrets.
type MediaCDNTokenVerifier struct {
	Public  []ed25519.PublicKey
	Secrets []Secret
}

// Verify checks token for request r at time now.
func (v MediaCDNTokenVerifier) Verify(token string, r MediaCDNRequest, now time.Time) error {
	fields := strings.Split(token, "~")
	if len(fields) < 3 {
		return fmt.Errorf("%w: too few fields", ErrMalformed)
	}
	signed := make([]string, 0, len(fields)-1)
	var expires, starts, prefix, globs, ipRanges string
	var sawScope bool
	for i, f := range fields[:len(fields)-1] {
		name, value, _ := strings.Cut(f, "=")
		if (name == "FullPath" || name == "PathGlobs" || name == "URLPrefix") != (i == 0) {
			return fmt.Errorf("%w: the scope comes first, once", ErrMalformed)
		}
		switch name {
		case "FullPath":
			f, sawScope = "FullPath="+r.Path, true
		case "PathGlobs":
			globs, sawScope = value, true
		case "URLPrefix":
			prefix, sawScope = value, true
		case "Starts":
			starts = value
		case "Expires":
			expires = value
		case "IPRanges":
			ipRanges = value
		case "Headers":
			pairs := strings.Split(value, ",")
			for j, n := range pairs {
				pairs[j] = n + "=" + r.Header.Get(n)
			}
			f = "Headers=" + strings.Join(pairs, ",")
		case "SessionID", "Data":
		default:
			return fmt.Errorf("%w: unknown field", ErrMalformed)
		}
		signed = append(signed, f)
	}
	if !sawScope || expires == "" {
		return fmt.Errorf("%w: no scope or no Expires", ErrMalformed)
	}
	if err := v.checkSignature(strings.Join(signed, "~"), fields[len(fields)-1]); err != nil {
		return err
	}
	if err := checkExpires(expires, now); err != nil {
		return err
	}
	if starts != "" {
		s, err := strconv.ParseInt(starts, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: Starts is not a Unix time", ErrMalformed)
		}
		if now.Unix() < s {
			return ErrNotYetValid
		}
	}
	return checkTokenScope(prefix, globs, ipRanges, r)
}

func (v MediaCDNTokenVerifier) checkSignature(msg, last string) error {
	name, value, _ := strings.Cut(last, "=")
	switch name {
	case "Signature":
		for _, pub := range v.Public {
			if verifyEd25519(pub, msg, value) {
				return nil
			}
		}
	case "hmac":
		h := sha256.New
		if len(value) == 2*sha1.Size {
			h = sha1.New
		}
		for _, s := range v.Secrets {
			if hmac.Equal([]byte(hmacHex(h, s, msg)), []byte(value)) {
				return nil
			}
		}
	default:
		return fmt.Errorf("%w: no Signature or hmac field last", ErrMalformed)
	}
	return ErrSignature
}

func checkTokenScope(prefix, globs, ipRanges string, r MediaCDNRequest) error {
	switch {
	case prefix != "":
		p, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(prefix, "="))
		if err != nil {
			return fmt.Errorf("%w: URLPrefix is not base64url", ErrMalformed)
		}
		if !strings.HasPrefix(r.URL, string(p)) {
			return ErrScope
		}
	case globs != "":
		if !matchAnyGlob(strings.FieldsFunc(globs, func(c rune) bool { return c == ',' || c == '!' }), r.Path) {
			return ErrScope
		}
	}
	if ipRanges == "" {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(ipRanges, "="))
	if err != nil {
		return fmt.Errorf("%w: IPRanges is not base64url", ErrMalformed)
	}
	for _, s := range strings.Split(string(raw), ",") {
		if p, err := netip.ParsePrefix(s); err == nil && r.IP.IsValid() && p.Contains(r.IP.Unmap()) {
			return nil
		}
	}
	return ErrScope
}

// matchAnyGlob reports whether path matches one of the globs, where '*'
// stands for any run of characters, '/' included.
func matchAnyGlob(globs []string, path string) bool {
	for _, g := range globs {
		if matchGlob(g, path, false) {
			return true
		}
	}
	return false
}

// matchGlob matches s against pattern: '*' matches any run of bytes and,
// when question is set, '?' any one byte. It runs in O(len(pattern)·len(s)).
func matchGlob(pattern, s string, question bool) bool {
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == s[i] && pattern[p] != '*' || question && pattern[p] == '?'):
			p, i = p+1, i+1
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			mark++
			p, i = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// String describes k without its key; GoString likewise, for %#v.
func (k MediaCDNTokenKey) String() string {
	if k.Private != nil {
		return "Media CDN token key (ed25519, REDACTED)"
	}
	return "Media CDN token key (hmac-" + k.Hash + ", REDACTED)"
}

// GoString implements fmt.GoStringer.
func (k MediaCDNTokenKey) GoString() string { return k.String() }
