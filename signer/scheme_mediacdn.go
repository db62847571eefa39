package signer

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// MediaCDN is Google Media CDN's dual token (edge-cache-token), signed
// with Ed25519 (MEDIACDN_ALGORITHM=ed25519, the default) or HMAC
// (sha1, sha256). Settings: KEY_FILE (the base64 32-byte Ed25519 seed, or
// the base64 HMAC secret), KEY_ID (the keyset's key name; needed for the
// Edge-Cache-Cookie of cookie mode, optional otherwise). An exact grant
// is a FullPath token, a prefix grant PathGlobs=/dir/* (the bucket:
// "/*"). The token signs the path alone, so the client's query is kept.
type MediaCDN struct{}

var (
	_ Scheme          = MediaCDN{}
	_ VerifyingScheme = MediaCDN{}
	_ Signer          = (*MediaCDNSigner)(nil)
)

const mcdnAlgorithm = "MEDIACDN_ALGORITHM"

// Name implements Scheme.
func (MediaCDN) Name() string { return "mediacdn" }

// Caps implements Scheme.
func (MediaCDN) Caps() Caps {
	return Caps{
		Exact: true, Prefix: true, Wildcard: true, Cookies: true,
		Rides: []string{"query", "cookie"}, Drops: []string{MediaCDNTokenParam},
		KeyIDOptional: true,
	}
}

// Check implements Scheme.
func (m MediaCDN) Check(s Settings) error {
	errs := []error{CheckCaps(m.Name(), m.Caps(), s), CheckOptions(m.Name(), s, mcdnAlgorithm)}
	alg := strings.ToLower(s.Options[mcdnAlgorithm])
	switch alg {
	case "", "ed25519", "sha1", "sha256":
	default:
		errs = append(errs, settingErr(mcdnAlgorithm, nil, "%q: want ed25519, sha1 or sha256", s.Options[mcdnAlgorithm]))
	}
	if s.Streaming == "cookie" && (alg != "" && alg != "ed25519" || s.KeyID == "") {
		errs = append(errs, settingErr("STREAMING", ErrSchemeScope, "Media CDN's Edge-Cache-Cookie is signed with Ed25519 under a key name: set %s=ed25519 and KEY_ID", mcdnAlgorithm))
	}
	return errors.Join(errs...)
}

// New implements Scheme.
func (m MediaCDN) New(s Settings) (Signer, error) {
	if err := m.Check(s); err != nil {
		return nil, err
	}
	k, err := mediaCDNKey(s)
	if err != nil {
		return nil, err
	}
	if s.Base.IsZero() {
		return nil, settingErr("CDN_BASE", nil, "the Media CDN URL is required")
	}
	return &MediaCDNSigner{key: k, name: s.KeyID, base: s.Base}, nil
}

func mediaCDNKey(s Settings) (MediaCDNTokenKey, error) {
	if s.KeyID != "" {
		if err := checkKeyName(s.KeyID); err != nil {
			return MediaCDNTokenKey{}, &SettingError{Setting: "KEY_ID", Err: err}
		}
	}
	switch alg := strings.ToLower(s.Options[mcdnAlgorithm]); alg {
	case "", "ed25519":
		priv, err := parseEd25519Seed(string(s.Key))
		if err != nil {
			return MediaCDNTokenKey{}, &SettingError{Setting: "KEY_FILE", Err: err}
		}
		return MediaCDNTokenKey{Private: priv}, nil
	default:
		b, err := decodeBase64Key(string(s.Key))
		if err != nil {
			return MediaCDNTokenKey{}, &SettingError{Setting: "KEY_FILE", Err: err}
		}
		return MediaCDNTokenKey{Secret: b, Hash: alg}, nil
	}
}

// MediaCDNSigner is the mediacdn scheme's Signer.
type MediaCDNSigner struct {
	key  MediaCDNTokenKey
	name string
	base Base
}

// Mint implements Signer: the edge-cache-token, and for a prefix grant
// with an Ed25519 key and a key name the Edge-Cache-Cookie value too.
func (s *MediaCDNSigner) Mint(g Grant, exp time.Time) (Token, error) {
	if err := grantOf("mediacdn", MediaCDN{}.Caps(), g); err != nil {
		return Token{}, err
	}
	if exp.IsZero() {
		return Token{}, errors.New("signer: a Media CDN token needs an expiry")
	}
	t := MediaCDNToken{FullPath: cdnPath(s.base, g.Path), Expires: exp}
	exact := !g.Prefix && g.Path != ""
	if !exact {
		dir := cdnPath(s.base, dirOf(g))
		if strings.ContainsAny(dir, ",!~*") {
			return Token{}, fmt.Errorf("%w: a Media CDN path glob cannot hold , ! ~ or *", ErrSchemeScope)
		}
		t = MediaCDNToken{PathGlobs: dir + "*", Expires: exp}
	}
	tok, err := s.key.Sign(t)
	if err != nil {
		return Token{}, err
	}
	out := Token{Params: []Param{{MediaCDNTokenParam, tok}}}
	if !exact && s.key.Private != nil && s.name != "" {
		c, err := MediaCDNKey{Name: s.name, Private: s.key.Private}.SignCookie(cdnURL(s.base, dirOf(g)), exp)
		if err != nil {
			return Token{}, err
		}
		out.Params = append(out.Params, Param{MediaCDNCookie, c})
	}
	return out, nil
}

// URL implements Signer: the file's URL, the client's query without
// edge-cache-token, then the token.
func (s *MediaCDNSigner) URL(p, rawQuery string, tok Token) (string, error) {
	q, err := DropParams(rawQuery, MediaCDNTokenParam)
	if err != nil {
		return "", err
	}
	u := cdnURL(s.base, p)
	if q != "" {
		u += "?" + q
	}
	return placeQuery(u, tok, MediaCDNCookie), nil
}

// Cookies implements Signer: Edge-Cache-Cookie, for a prefix grant.
func (s *MediaCDNSigner) Cookies(tok Token) ([]http.Cookie, error) {
	v := tok.Get(MediaCDNCookie)
	if v == "" {
		return nil, fmt.Errorf("%w: Edge-Cache-Cookie needs a prefix grant, an Ed25519 key and KEY_ID", ErrNoCookies)
	}
	return []http.Cookie{{Name: MediaCDNCookie, Value: v}}, nil
}

// KeyID implements Signer.
func (s *MediaCDNSigner) KeyID() string { return s.name }

// String describes the signer without its key.
func (s *MediaCDNSigner) String() string {
	return fmt.Sprintf("mediacdn key %q on %s", s.name, s.base)
}

// NewChecker implements VerifyingScheme: s.Key is the base64 Ed25519
// public key (32 bytes) or seed, or the HMAC secret
// (MEDIACDN_ALGORITHM), s.KeyID the key name of cookies.
func (MediaCDN) NewChecker(s Settings) (Checker, error) {
	c := mediaCDNChecker{base: s.Base, name: s.KeyID}
	alg := strings.ToLower(s.Options[mcdnAlgorithm])
	b, err := decodeBase64Key(string(s.Key))
	switch {
	case err != nil:
		return nil, &SettingError{Setting: "KEY_FILE", Err: err}
	case alg == "sha1" || alg == "sha256":
		c.v.Secrets = []Secret{b}
	case len(b) == ed25519.SeedSize:
		// A seed and a public key are both 32 bytes: try both.
		c.v.Public = []ed25519.PublicKey{b, ed25519.NewKeyFromSeed(b).Public().(ed25519.PublicKey)}
	default:
		return nil, settingErr("KEY_FILE", ErrKey, "an Ed25519 key is 32 bytes")
	}
	return c, nil
}

type mediaCDNChecker struct {
	v    MediaCDNTokenVerifier
	name string
	base Base
}

// Check implements Checker: edge-cache-token, else Edge-Cache-Cookie.
func (c mediaCDNChecker) Check(req Request) (Verified, error) {
	now := nowOf(req)
	u := requestURL(c.base, req)
	vals, err := url.ParseQuery(req.RawQuery)
	if err != nil {
		return Verified{}, fmt.Errorf("%w: %w", ErrQuery, err)
	}
	if tok := vals.Get(MediaCDNTokenParam); tok != "" {
		ip, _ := netip.ParseAddr(req.ClientIP)
		r := MediaCDNRequest{URL: u, Path: requestPath(req), Header: req.Header, IP: ip}
		if err := c.v.Verify(tok, r, now); err != nil {
			return Verified{}, err
		}
		v := Verified{Grant: Grant{Path: req.Path}}
		if glob, ok := strings.CutPrefix(tok, "PathGlobs="); ok {
			g, _, _ := strings.Cut(glob, "~")
			v.Grant = Grant{Path: strings.TrimSuffix(strings.TrimSuffix(g, "*"), "/"), Prefix: true}
		}
		return v, nil
	}
	for _, ck := range req.Cookies {
		if ck.Name == MediaCDNCookie && c.name != "" && len(c.v.Public) > 0 {
			var last error
			for _, pub := range c.v.Public {
				if last = (MediaCDNKeys{c.name: pub}).VerifyCookie(ck.Value, u, now); last == nil {
					break
				}
			}
			return verifiedOf(ck.Value, ":", req, last)
		}
	}
	return Verified{}, ErrMissing
}

// LogValue implements slog.LogValuer: the key never reaches a log.
func (s *MediaCDNSigner) LogValue() slog.Value { return signerLog("mediacdn", s.name) }

// GoString implements fmt.GoStringer, so %#v shows no key either.
func (s *MediaCDNSigner) GoString() string { return s.String() }
