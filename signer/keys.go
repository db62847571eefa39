package signer

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"log/slog"
)

// MinKeyBits is the smallest RSA modulus accepted, for signing or verifying.
const MinKeyBits = 2048

// SigningKey is an RSA private key (RS256) or, instead, an Ed25519 one
// (EdDSA, signgate's own scheme "ed25519"), together with the id (kid)
// under which verifiers know its public half and, optionally, the bucket
// it belongs to.
//
// Its LogValue shows the id and bucket only, never the key.
type SigningKey struct {
	ID     string
	Bucket string
	Key    *rsa.PrivateKey
	// Ed25519, when set instead of Key, signs EdDSA tokens.
	Ed25519 ed25519.PrivateKey
}

// LogValue implements slog.LogValuer: the private key never reaches a log.
func (k *SigningKey) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("kid", k.ID),
		slog.String("bucket", k.Bucket),
		slog.String("key", "REDACTED"),
	)
}

// String describes the key without its secret half.
func (k *SigningKey) String() string {
	return fmt.Sprintf("signing key %q (bucket %q)", k.ID, k.Bucket)
}

// Public returns the verifying half of k.
func (k *SigningKey) Public() PublicKey {
	if k.Ed25519 != nil {
		return PublicKey{ID: k.ID, Bucket: k.Bucket, Ed25519: k.Ed25519.Public().(ed25519.PublicKey)}
	}
	return PublicKey{ID: k.ID, Bucket: k.Bucket, Key: &k.Key.PublicKey}
}

// PublicKey is an RSA public key, or an Ed25519 one, with its kid and,
// optionally, the bucket it belongs to. The key pins the algorithm of
// the tokens it verifies: RS256 for Key, EdDSA for Ed25519.
type PublicKey struct {
	ID     string
	Bucket string
	Key    *rsa.PublicKey
	// Ed25519, when set instead of Key, verifies EdDSA tokens.
	Ed25519 ed25519.PublicKey
}

// Alg returns the JWT algorithm k verifies: "RS256" or "EdDSA" ("" for
// a key with neither half).
func (k PublicKey) Alg() string {
	switch {
	case k.Ed25519 != nil:
		return "EdDSA"
	case k.Key != nil:
		return "RS256"
	}
	return ""
}

// Same reports whether k and o are the same key (of the same kind).
func (k PublicKey) Same(o PublicKey) bool {
	switch {
	case k.Key != nil:
		return o.Key != nil && (k.Key == o.Key || k.Key.Equal(o.Key))
	case k.Ed25519 != nil:
		return k.Ed25519.Equal(o.Ed25519)
	}
	return false
}

// KeySet finds verifying keys by kid. Implementations must be safe for
// concurrent use.
type KeySet interface {
	PublicKey(kid string) (PublicKey, bool)
}

// Keys is a fixed KeySet, indexed by kid.
type Keys map[string]PublicKey

var _ KeySet = Keys(nil)

// NewKeys indexes keys by their id.
func NewKeys(keys ...PublicKey) Keys {
	ks := make(Keys, len(keys))
	for _, k := range keys {
		ks[k.ID] = k
	}
	return ks
}

// PublicKey implements KeySet.
func (ks Keys) PublicKey(kid string) (PublicKey, bool) {
	k, ok := ks[kid]
	return k, ok
}

// ParsePrivateKey reads an RSA private key from PEM, in PKCS#1
// ("RSA PRIVATE KEY", the form Qencode's key API hands out) or PKCS#8
// ("PRIVATE KEY"). Keys under MinKeyBits, non-RSA keys, encrypted keys and
// anything else are refused with an error wrapping ErrKey.
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrKey)
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PKCS#1 private key: %w", ErrKey, err)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PKCS#8 private key: %w", ErrKey, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: %s private key, RSA required", ErrKey, keyKind(k))
		}
		key = rk
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("%w: encrypted private keys are not supported; decrypt it first", ErrKey)
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, fmt.Errorf("%w: PEM block %q holds a public key, a private key is required", ErrKey, block.Type)
	default:
		return nil, fmt.Errorf("%w: unexpected PEM block %q, want RSA PRIVATE KEY or PRIVATE KEY", ErrKey, block.Type)
	}
	if err := checkSize(&key.PublicKey); err != nil {
		return nil, err
	}
	return key, nil
}

// ParsePublicKey reads an RSA public key from PEM: PKIX ("PUBLIC KEY"),
// PKCS#1 ("RSA PUBLIC KEY") or an X.509 certificate. Private-key PEM is
// accepted too, and yields its public half.
func ParsePublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrKey)
	}
	var pub any
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PKIX public key: %w", ErrKey, err)
		}
		pub = k
	case "RSA PUBLIC KEY":
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PKCS#1 public key: %w", ErrKey, err)
		}
		pub = k
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate: %w", ErrKey, err)
		}
		pub = c.PublicKey
	case "RSA PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		k, err := ParsePrivateKey(pemBytes)
		if err != nil {
			return nil, err
		}
		return &k.PublicKey, nil
	default:
		return nil, fmt.Errorf("%w: unexpected PEM block %q, want PUBLIC KEY or RSA PUBLIC KEY", ErrKey, block.Type)
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s public key, RSA required", ErrKey, keyKind(pub))
	}
	if err := checkSize(rk); err != nil {
		return nil, err
	}
	return rk, nil
}

func checkSize(k *rsa.PublicKey) error {
	if bits := k.N.BitLen(); bits < MinKeyBits {
		return fmt.Errorf("%w: RSA key of %d bits, at least %d required", ErrKey, bits, MinKeyBits)
	}
	return nil
}

func keyKind(k any) string {
	switch k.(type) {
	case *ecdsa.PrivateKey, *ecdsa.PublicKey:
		return "ECDSA"
	case ed25519.PrivateKey, ed25519.PublicKey:
		return "Ed25519"
	default:
		return fmt.Sprintf("%T", k)
	}
}

// GenerateKey makes a new RSA key of the given size (at least MinKeyBits).
func GenerateKey(bits int) (*rsa.PrivateKey, error) {
	if bits < MinKeyBits {
		return nil, fmt.Errorf("%w: %d bits requested, at least %d required", ErrKey, bits, MinKeyBits)
	}
	if bits > 8192 {
		return nil, fmt.Errorf("%w: %d bits requested, at most 8192 supported", ErrKey, bits)
	}
	return rsa.GenerateKey(rand.Reader, bits)
}

// NewKeyID returns a fresh random key id: 32 lowercase hex digits.
func NewKeyID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return hex.EncodeToString(b[:])
}

// EncodePrivateKey returns key as PKCS#1 PEM ("RSA PRIVATE KEY"), the
// form Qencode's key API hands out.
func EncodePrivateKey(key *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

// EncodePublicKey returns key as PKIX PEM ("PUBLIC KEY").
func EncodePublicKey(key *rsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		// MarshalPKIXPublicKey fails only for unsupported key types.
		panic("signer: marshal RSA public key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
