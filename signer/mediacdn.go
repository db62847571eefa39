package signer

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Google Media CDN signed requests, the single-signature form
// (https://cloud.google.com/media-cdn/docs/signed-requests): Ed25519 over
// the URL ("…?Expires=E&KeyName=K"), over a URLPrefix policy, in the
// Edge-Cache-Cookie, or in a path component
// ("prefix/edge-cache-token=Expires=E&KeyName=K&Signature=S/rest").
// The dual tokens (edge-cache-token with ~-separated fields) live in
// mediacdn_token.go.

// MediaCDNCookie is the name of Media CDN's signed cookie.
const MediaCDNCookie = "Edge-Cache-Cookie"

// MediaCDNTokenParam is the query parameter, and the path-component name,
// that carries a Media CDN token.
const MediaCDNTokenParam = "edge-cache-token"

// MediaCDNKey is an Ed25519 signing key of a Media CDN keyset, under the
// key name the keyset gives its public half. Its LogValue shows the name
// only.
type MediaCDNKey struct {
	Name    string
	Private ed25519.PrivateKey
}

// NewMediaCDNKey builds a key from its name and its base64 (URL-safe or
// standard) 32-byte Ed25519 seed, the private key form of Google's samples.
func NewMediaCDNKey(name, base64Seed string) (MediaCDNKey, error) {
	if err := checkKeyName(name); err != nil {
		return MediaCDNKey{}, err
	}
	priv, err := parseEd25519Seed(base64Seed)
	if err != nil {
		return MediaCDNKey{}, err
	}
	return MediaCDNKey{Name: name, Private: priv}, nil
}

func parseEd25519Seed(base64Seed string) (ed25519.PrivateKey, error) {
	seed, err := decodeBase64Key(base64Seed)
	if err != nil {
		return nil, err
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%w: an Ed25519 seed is %d bytes, this one %d", ErrKey, ed25519.SeedSize, len(seed))
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// LogValue implements slog.LogValuer: the private key never reaches a log.
func (k MediaCDNKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key_name", k.Name), slog.String("key", "REDACTED"))
}

// Public returns the public key to put in the Media CDN keyset.
func (k MediaCDNKey) Public() ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

func (k MediaCDNKey) sign(msg string) string {
	return base64.URLEncoding.EncodeToString(ed25519.Sign(k.Private, []byte(msg)))
}

// SignURL signs one exact URL, valid until expires. Like Google's sample
// (mediacdn_sign_url), the signature is padded base64url.
func (k MediaCDNKey) SignURL(rawURL string, expires time.Time) string {
	signed := rawURL + querySep(rawURL) + "Expires=" + unix(expires) + "&KeyName=" + k.Name
	return signed + "&Signature=" + k.sign(signed)
}

func (k MediaCDNKey) prefixPolicy(prefix string, expires time.Time, sep string) string {
	policy := "URLPrefix=" + base64.URLEncoding.EncodeToString([]byte(prefix)) +
		sep + "Expires=" + unix(expires) + sep + "KeyName=" + k.Name
	return policy + sep + "Signature=" + k.sign(policy)
}

// SignURLPrefix appends to rawURL a policy granting every URL that starts
// with prefix (mediacdn_sign_url_prefix).
func (k MediaCDNKey) SignURLPrefix(rawURL, prefix string, expires time.Time) (string, error) {
	if err := checkPrefix(prefix); err != nil {
		return "", err
	}
	return rawURL + querySep(rawURL) + k.prefixPolicy(prefix, expires, "&"), nil
}

// SignCookie returns the Edge-Cache-Cookie value granting every URL that
// starts with prefix. The signature is padded base64url, as in Google's
// sample (mediacdn_sign_cookie); its older published vectors show it
// without the padding, which Media CDN accepts alike.
func (k MediaCDNKey) SignCookie(prefix string, expires time.Time) (string, error) {
	if err := checkPrefix(prefix); err != nil {
		return "", err
	}
	return k.prefixPolicy(prefix, expires, ":"), nil
}

// SignPathComponent returns prefix + "edge-cache-token=Expires=E&KeyName=K&Signature=S",
// to which the caller appends "/" and the rest of the path: every URL
// below that component is granted, and relative URLs in a manifest keep
// the token (mediacdn_dualtoken_sign_path_component). prefix ends in "/".
func (k MediaCDNKey) SignPathComponent(prefix string, expires time.Time) (string, error) {
	if err := checkPrefix(prefix); err != nil {
		return "", err
	}
	if !strings.HasSuffix(prefix, "/") {
		return "", fmt.Errorf("%w: a path-component prefix ends in /", ErrPath)
	}
	policy := prefix + MediaCDNTokenParam + "=Expires=" + unix(expires) + "&KeyName=" + k.Name
	return policy + "&Signature=" + k.sign(policy), nil
}

// MediaCDNKeys verifies Media CDN signed requests with the public keys of
// a keyset, found by KeyName.
type MediaCDNKeys map[string]ed25519.PublicKey

// VerifyURL checks a signed request URL in the exact, URLPrefix or
// path-component form, at time now.
func (ks MediaCDNKeys) VerifyURL(signedURL string, now time.Time) error {
	if i := strings.Index(signedURL, "/"+MediaCDNTokenParam+"=Expires="); i > 0 {
		return ks.verifyPathComponent(signedURL, i+1, now)
	}
	return verifyGoogleURL(signedURL, now, ks.check)
}

func (ks MediaCDNKeys) verifyPathComponent(signedURL string, at int, now time.Time) error {
	comp, _, _ := strings.Cut(signedURL[at:], "/")
	policy, sig, ok := splitLast(comp, "&Signature=")
	if !ok {
		return fmt.Errorf("%w: no Signature in the path component", ErrMissing)
	}
	fields, err := policyFields(strings.TrimPrefix(policy, MediaCDNTokenParam+"="), "&", "Expires", "KeyName")
	if err != nil {
		return err
	}
	return ks.check(fields, signedURL[:at]+policy, sig, now)
}

// VerifyCookie checks an Edge-Cache-Cookie value for requestURL at now.
func (ks MediaCDNKeys) VerifyCookie(value, requestURL string, now time.Time) error {
	return verifyGoogleCookie(value, requestURL, now, ks.check)
}

func (ks MediaCDNKeys) check(fields map[string]string, msg, sig string, now time.Time) error {
	pub, ok := ks[fields["KeyName"]]
	if !ok {
		return ErrUnknownKey
	}
	if !verifyEd25519(pub, msg, sig) {
		return ErrSignature
	}
	return checkExpires(fields["Expires"], now)
}

// verifyEd25519 checks a base64url signature, padded or not.
func verifyEd25519(pub ed25519.PublicKey, msg, sig string) bool {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(strings.TrimRight(sig, "="))
	if err != nil || len(raw) != ed25519.SignatureSize || len(pub) != ed25519.PublicKeySize {
		return false
	}
	return ed25519.Verify(pub, []byte(msg), raw)
}

// String describes k without its private key; GoString likewise, for %#v.
func (k MediaCDNKey) String() string   { return "Media CDN key " + k.Name }
func (k MediaCDNKey) GoString() string { return k.String() }
