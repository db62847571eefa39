package signer

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Google Cloud CDN signed URLs and signed cookies
// (https://cloud.google.com/cdn/docs/using-signed-urls,
// https://cloud.google.com/cdn/docs/using-signed-cookies).
//
// A signed URL appends Expires, KeyName and Signature to the URL, where
// Signature is the padded base64url HMAC-SHA1 of everything before
// "&Signature=". The URLPrefix form signs
// "URLPrefix=B64(prefix)&Expires=E&KeyName=K" instead, and then grants
// every URL that starts with the prefix. The signed cookie Cloud-CDN-Cookie
// carries the same policy with ':' for '&'.

// CloudCDNCookie is the name of Cloud CDN's signed cookie.
const CloudCDNCookie = "Cloud-CDN-Cookie"

// CloudCDNKey is a Cloud CDN signing key: the key name configured on the
// backend service or bucket, and its 16-byte secret.
type CloudCDNKey struct {
	Name   string
	Secret Secret
}

// NewCloudCDNKey builds a key from its name and its base64url value, as
// `head -c 16 /dev/urandom | base64 | tr +/ -_` makes it.
func NewCloudCDNKey(name, base64Key string) (CloudCDNKey, error) {
	if err := checkKeyName(name); err != nil {
		return CloudCDNKey{}, err
	}
	b, err := decodeBase64Key(base64Key)
	if err != nil {
		return CloudCDNKey{}, err
	}
	if len(b) != 16 {
		return CloudCDNKey{}, fmt.Errorf("%w: a Cloud CDN key is 16 bytes, this one %d", ErrKey, len(b))
	}
	return CloudCDNKey{Name: name, Secret: b}, nil
}

// checkKeyName refuses a key name that would change the meaning of a
// signed query or cookie (Google allows [a-z0-9-], 1 to 63 characters).
func checkKeyName(name string) error {
	if name == "" || len(name) > 63 {
		return fmt.Errorf("%w: key name must have 1 to 63 characters", ErrKey)
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("%w: key name may hold only letters, digits, '-' and '_'", ErrKey)
		}
	}
	return nil
}

func (k CloudCDNKey) mac(msg string) string {
	m := hmac.New(sha1.New, k.Secret)
	m.Write([]byte(msg))
	return base64.URLEncoding.EncodeToString(m.Sum(nil))
}

// querySep is the separator that appends a parameter to rawURL.
func querySep(rawURL string) string {
	if strings.Contains(rawURL, "?") {
		return "&"
	}
	return "?"
}

// SignURL signs one exact URL (scheme, host, path and query), valid until
// expires.
func (k CloudCDNKey) SignURL(rawURL string, expires time.Time) string {
	signed := rawURL + querySep(rawURL) + "Expires=" + unix(expires) + "&KeyName=" + k.Name
	return signed + "&Signature=" + k.mac(signed)
}

// PrefixPolicy returns the signed URLPrefix policy for every URL starting
// with prefix: "URLPrefix=…&Expires=…&KeyName=…&Signature=…", to append as
// a query. sep is "&" for the query form and ":" for the cookie.
func (k CloudCDNKey) prefixPolicy(prefix string, expires time.Time, sep string) string {
	policy := "URLPrefix=" + base64.URLEncoding.EncodeToString([]byte(prefix)) +
		sep + "Expires=" + unix(expires) + sep + "KeyName=" + k.Name
	return policy + sep + "Signature=" + k.mac(policy)
}

// SignURLPrefix appends to rawURL a policy that grants every URL starting
// with prefix (which must not hold a query or fragment).
func (k CloudCDNKey) SignURLPrefix(rawURL, prefix string, expires time.Time) (string, error) {
	if err := checkPrefix(prefix); err != nil {
		return "", err
	}
	return rawURL + querySep(rawURL) + k.prefixPolicy(prefix, expires, "&"), nil
}

// SignCookie returns the value of Cloud-CDN-Cookie granting every URL that
// starts with prefix.
func (k CloudCDNKey) SignCookie(prefix string, expires time.Time) (string, error) {
	if err := checkPrefix(prefix); err != nil {
		return "", err
	}
	return k.prefixPolicy(prefix, expires, ":"), nil
}

func checkPrefix(prefix string) error {
	if strings.ContainsAny(prefix, "?#") {
		return fmt.Errorf("%w: a URL prefix holds no query or fragment", ErrPath)
	}
	if !strings.HasPrefix(prefix, "http://") && !strings.HasPrefix(prefix, "https://") {
		return fmt.Errorf("%w: a URL prefix starts with http:// or https://", ErrPath)
	}
	return nil
}

// CloudCDNKeys verifies Cloud CDN signatures with the keys it holds, found
// by KeyName. It is what the CDN checks, for `signgate verify` and tests.
type CloudCDNKeys map[string]CloudCDNKey

// NewCloudCDNKeys indexes keys by name.
func NewCloudCDNKeys(keys ...CloudCDNKey) CloudCDNKeys {
	ks := make(CloudCDNKeys, len(keys))
	for _, k := range keys {
		ks[k.Name] = k
	}
	return ks
}

// VerifyURL checks a signed URL, in the exact or the URLPrefix form, at
// time now.
func (ks CloudCDNKeys) VerifyURL(signedURL string, now time.Time) error {
	return verifyGoogleURL(signedURL, now, ks.check)
}

// VerifyCookie checks a Cloud-CDN-Cookie value for the request URL
// requestURL at time now.
func (ks CloudCDNKeys) VerifyCookie(value, requestURL string, now time.Time) error {
	return verifyGoogleCookie(value, requestURL, now, ks.check)
}

// sigCheck verifies the signature sig of msg under the key named by
// fields["KeyName"], and fields["Expires"] against now.
type sigCheck func(fields map[string]string, msg, sig string, now time.Time) error

// verifyGoogleURL checks the signed-URL forms that Cloud CDN and Media
// CDN share: "URL?…&Expires=E&KeyName=K&Signature=S" over everything
// before "&Signature=", or "URL?URLPrefix=P&Expires=E&KeyName=K&Signature=S"
// over the policy, which must then prefix the URL.
func verifyGoogleURL(signedURL string, now time.Time, check sigCheck) error {
	signed, sig, ok := splitLast(signedURL, "&Signature=")
	if !ok {
		return fmt.Errorf("%w: no Signature parameter", ErrMissing)
	}
	if i := strings.Index(signed, "URLPrefix="); i > 0 && (signed[i-1] == '?' || signed[i-1] == '&') {
		return verifyGooglePolicy(signed[i:], sig, "&", signed[:i-1], now, check)
	}
	fields, err := policyFields(signed[strings.LastIndexByte(signed, '?')+1:], "&", "Expires", "KeyName")
	if err != nil {
		return err
	}
	return check(fields, signed, sig, now)
}

// verifyGoogleCookie checks a "URLPrefix=P:Expires=E:KeyName=K:Signature=S"
// cookie value for requestURL.
func verifyGoogleCookie(value, requestURL string, now time.Time, check sigCheck) error {
	policy, sig, ok := splitLast(value, ":Signature=")
	if !ok {
		return fmt.Errorf("%w: no Signature field", ErrMissing)
	}
	return verifyGooglePolicy(policy, sig, ":", requestURL, now, check)
}

func verifyGooglePolicy(policy, sig, sep, requestURL string, now time.Time, check sigCheck) error {
	fields, err := policyFields(policy, sep, "URLPrefix", "Expires", "KeyName")
	if err != nil {
		return err
	}
	if err := check(fields, policy, sig, now); err != nil {
		return err
	}
	prefix, err := base64.URLEncoding.DecodeString(fields["URLPrefix"])
	if err != nil {
		return fmt.Errorf("%w: URLPrefix is not base64url", ErrMalformed)
	}
	if !strings.HasPrefix(requestURL, string(prefix)) {
		return ErrScope
	}
	return nil
}

// check verifies the signature over msg and the expiry.
func (ks CloudCDNKeys) check(fields map[string]string, msg, sig string, now time.Time) error {
	k, ok := ks[fields["KeyName"]]
	if !ok {
		return ErrUnknownKey
	}
	if !hmac.Equal([]byte(k.mac(msg)), []byte(sig)) {
		return ErrSignature
	}
	return checkExpires(fields["Expires"], now)
}

// checkExpires checks a decimal Unix expiry against now: the URL is good
// up to and including that second.
func checkExpires(s string, now time.Time) error {
	exp, err := strconv.ParseInt(s, 10, 64)
	if err != nil || exp < 0 {
		return fmt.Errorf("%w: Expires is not a Unix time", ErrMalformed)
	}
	if now.Unix() > exp {
		return ErrExpired
	}
	return nil
}

// policyFields splits "A=1&B=2" (or ':'-separated) into its fields and
// checks that exactly the names wanted are there, in that order, as the
// CDN requires.
func policyFields(policy, sep string, want ...string) (map[string]string, error) {
	parts := strings.Split(policy, sep)
	if len(parts) < len(want) {
		return nil, fmt.Errorf("%w: policy lacks %s", ErrMalformed, strings.Join(want, ", "))
	}
	parts = parts[len(parts)-len(want):]
	fields := make(map[string]string, len(want))
	for i, p := range parts {
		name, value, ok := strings.Cut(p, "=")
		if !ok || name != want[i] {
			return nil, fmt.Errorf("%w: expected %s", ErrMalformed, want[i])
		}
		if v, err := url.QueryUnescape(value); err == nil && name == "KeyName" {
			value = v
		}
		fields[name] = value
	}
	return fields, nil
}
