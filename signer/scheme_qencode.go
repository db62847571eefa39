package signer

import (
	"errors"
	"net/http"
	"time"
)

// QencodeCookie is the signed cookie of Qencode's CDN, which the edge
// reads too: a token for a directory, sent with every segment under it.
const QencodeCookie = "Qencode-Auth-Token"

// Qencode is the default scheme: Qencode's signed URLs, an RS256 JWT
// whose uri claim is the grant, in the auth query parameter or the
// Qencode-Auth-Token cookie. It expresses exact and prefix grants (the
// uri claim covers what lies below it at a "/" boundary, a file too).
// Settings: KEY_FILE (PEM RSA private key), KEY_ID (the kid).
type Qencode struct{}

var (
	_ Scheme          = Qencode{}
	_ VerifyingScheme = Qencode{}
	_ Signer          = (*QencodeSigner)(nil)
)

// Name implements Scheme.
func (Qencode) Name() string { return "qencode" }

// Caps implements Scheme.
func (Qencode) Caps() Caps {
	return Caps{Exact: true, Prefix: true, Cookies: true, Rides: []string{"query", "cookie"}, Drops: []string{"auth"}}
}

// Check implements Scheme.
func (q Qencode) Check(s Settings) error {
	return errors.Join(CheckCaps(q.Name(), q.Caps(), s), CheckOptions(q.Name(), s))
}

// New implements Scheme: s.Key is the PEM private key, s.KeyID its kid.
func (q Qencode) New(s Settings) (Signer, error) {
	if err := q.Check(s); err != nil {
		return nil, err
	}
	if s.KeyID == "" {
		return nil, settingErr("KEY_ID", nil, "the kid of the key is required")
	}
	priv, err := ParsePrivateKey(s.Key)
	if err != nil {
		return nil, &SettingError{Setting: "KEY_FILE", Err: err}
	}
	return NewQencodeSigner(&SigningKey{ID: s.KeyID, Bucket: s.Bucket, Key: priv}, s.Base), nil
}

// NewChecker implements VerifyingScheme: s.Key is a PEM public (or
// private) RSA key, s.KeyID its kid; s.Bucket, when set, the bucket.
func (Qencode) NewChecker(s Settings) (Checker, error) {
	pub, err := ParsePublicKey(s.Key)
	if err != nil {
		return nil, &SettingError{Setting: "KEY_FILE", Err: err}
	}
	v := NewVerifier(NewKeys(PublicKey{ID: s.KeyID, Bucket: s.Bucket, Key: pub}))
	return QencodeChecker{Verifier: v}, nil
}

// QencodeSigner is the Qencode scheme's Signer: a signing key on a CDN
// base.
type QencodeSigner struct {
	Key  *SigningKey
	Base Base
}

// NewQencodeSigner returns the Qencode Signer of key on base.
func NewQencodeSigner(key *SigningKey, base Base) *QencodeSigner {
	return &QencodeSigner{Key: key, Base: base}
}

// Mint implements Signer: a JWT with uri = g.Path and exp.
func (s *QencodeSigner) Mint(g Grant, exp time.Time) (Token, error) {
	if err := grantOf("qencode", Qencode{}.Caps(), g); err != nil {
		return Token{}, err
	}
	tok, err := s.Key.Sign(Claims{URI: g.URI(), Expires: exp})
	if err != nil {
		return Token{}, err
	}
	return Token{Params: []Param{{Name: "auth", Value: tok}}}, nil
}

// URL implements Signer: Base.URL with the auth parameter.
func (s *QencodeSigner) URL(p, rawQuery string, tok Token) (string, error) {
	return s.Base.URL(p, rawQuery, tok.Get("auth"))
}

// Cookies implements Signer: the Qencode-Auth-Token cookie.
func (s *QencodeSigner) Cookies(tok Token) ([]http.Cookie, error) {
	return []http.Cookie{{Name: QencodeCookie, Value: tok.Get("auth")}}, nil
}

// KeyID implements Signer.
func (s *QencodeSigner) KeyID() string { return s.Key.ID }

// SameKey reports whether o signs with the same key as s (a key file
// rewritten in another encoding is the same key).
func (s *QencodeSigner) SameKey(o Signer) bool {
	q, ok := o.(*QencodeSigner)
	return ok && q.Key.Public().Same(s.Key.Public())
}

// String describes the signer without its key.
func (s *QencodeSigner) String() string { return "qencode " + s.Key.String() }

// QencodeChecker checks Qencode tokens with a Verifier.
type QencodeChecker struct{ Verifier *Verifier }

// Check implements Checker: the auth parameter, else the
// Qencode-Auth-Token cookie.
func (c QencodeChecker) Check(req Request) (Verified, error) {
	tok, err := TokenFromQuery(req.RawQuery)
	if err != nil {
		return Verified{}, err
	}
	if tok == "" {
		for _, ck := range req.Cookies {
			if ck.Name == QencodeCookie {
				tok = ck.Value
				break
			}
		}
	}
	v := *c.Verifier
	if !req.Now.IsZero() {
		now := req.Now
		v.Now = func() time.Time { return now }
	}
	cl, err := v.Verify(tok, req.Path)
	if err != nil {
		return Verified{}, err
	}
	return Verified{Grant: Grant{Path: cl.URI, Prefix: true}, Expires: cl.Expires}, nil
}
