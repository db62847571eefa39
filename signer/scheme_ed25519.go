package signer

import "errors"

// Ed25519 is signgate's own scheme: the Qencode token contract (uri, exp
// and nbf claims, in ?auth= or the Qencode-Auth-Token cookie) signed with
// EdDSA (Ed25519) instead of RS256. Signing costs a small fraction of an
// RSA-2048 signature, so token-cache misses are cheap. Only signgate's
// edge verifies it (a bucket accepts it once it holds an Ed25519 key):
// Qencode's CDN does not. Settings: KEY_FILE (PKCS#8 PEM Ed25519 private
// key), KEY_ID (the kid).
type Ed25519 struct{}

var (
	_ Scheme          = Ed25519{}
	_ VerifyingScheme = Ed25519{}
)

// Name implements Scheme.
func (Ed25519) Name() string { return "ed25519" }

// Caps implements Scheme: those of qencode.
func (Ed25519) Caps() Caps { return Qencode{}.Caps() }

// Check implements Scheme.
func (e Ed25519) Check(s Settings) error {
	return errors.Join(CheckCaps(e.Name(), e.Caps(), s), CheckOptions(e.Name(), s))
}

// New implements Scheme: a QencodeSigner with an Ed25519 key.
func (e Ed25519) New(s Settings) (Signer, error) {
	if err := e.Check(s); err != nil {
		return nil, err
	}
	if s.KeyID == "" {
		return nil, settingErr("KEY_ID", nil, "the kid of the key is required")
	}
	priv, err := ParseEd25519PrivateKey(s.Key)
	if err != nil {
		return nil, &SettingError{Setting: "KEY_FILE", Err: err}
	}
	return NewQencodeSigner(&SigningKey{ID: s.KeyID, Bucket: s.Bucket, Ed25519: priv}, s.Base), nil
}

// NewChecker implements VerifyingScheme: s.Key is the PEM public (or
// private) Ed25519 key.
func (Ed25519) NewChecker(s Settings) (Checker, error) {
	pub, err := ParseVerifyingKey(s.KeyID, s.Bucket, s.Key)
	if err != nil || pub.Ed25519 == nil {
		if err == nil {
			err = errors.New("an RSA key: the ed25519 scheme needs an Ed25519 key")
		}
		return nil, &SettingError{Setting: "KEY_FILE", Err: err}
	}
	return QencodeChecker{Verifier: NewVerifier(NewKeys(pub))}, nil
}
