package signer

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// ParseEd25519PrivateKey reads an Ed25519 private key from PKCS#8 PEM
// ("PRIVATE KEY", as openssl genpkey -algorithm ed25519 writes it).
func ParseEd25519PrivateKey(pemBytes []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrKey)
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: unexpected PEM block %q, want PRIVATE KEY (PKCS#8 Ed25519)", ErrKey, block.Type)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: PKCS#8 private key: %w", ErrKey, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: %s private key, Ed25519 required", ErrKey, keyKind(k))
	}
	return ek, nil
}

// ParseVerifyingKey reads the public half of a signing key from PEM, with
// its kid and bucket: RSA as ParsePublicKey reads it, or Ed25519 (PKIX
// "PUBLIC KEY", or a PKCS#8 private key). The kind of key pins the
// algorithm of the tokens it verifies (PublicKey.Alg).
func ParseVerifyingKey(kid, bucket string, pemBytes []byte) (PublicKey, error) {
	rk, rerr := ParsePublicKey(pemBytes)
	if rerr == nil {
		return PublicKey{ID: kid, Bucket: bucket, Key: rk}, nil
	}
	block, _ := pem.Decode(pemBytes)
	if block != nil {
		var k any
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			k, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "PRIVATE KEY":
			if priv, perr := ParseEd25519PrivateKey(pemBytes); perr == nil {
				k = priv.Public()
			}
		}
		if ek, ok := k.(ed25519.PublicKey); ok && err == nil {
			return PublicKey{ID: kid, Bucket: bucket, Ed25519: ek}, nil
		}
	}
	return PublicKey{}, rerr
}

// GenerateEd25519Key makes a new Ed25519 key.
func GenerateEd25519Key() ed25519.PrivateKey {
	_, k, _ := ed25519.GenerateKey(rand.Reader) // crypto/rand never fails (Go 1.24+).
	return k
}

// EncodeEd25519PrivateKey returns key as PKCS#8 PEM ("PRIVATE KEY").
func EncodeEd25519PrivateKey(key ed25519.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic("signer: marshal Ed25519 private key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// EncodeVerifyingKey returns the public half k as PKIX PEM ("PUBLIC
// KEY"), RSA or Ed25519.
func EncodeVerifyingKey(k PublicKey) []byte {
	if k.Ed25519 == nil {
		return EncodePublicKey(k.Key)
	}
	der, err := x509.MarshalPKIXPublicKey(k.Ed25519)
	if err != nil {
		panic("signer: marshal Ed25519 public key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
