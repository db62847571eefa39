package signer_test

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signgate/signgate/signer"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePrivateKey(t *testing.T) {
	tests := []struct {
		file    string
		wantErr string // "" for success
	}{
		{"rsa2048.pem", ""},
		{"rsa2048-pkcs8.pem", ""},
		{"rsa1024.pem", "1024 bits, at least 2048"},
		{"ec.pem", "ECDSA private key, RSA required"},
		{"ed25519.pem", "Ed25519 private key, RSA required"},
		{"encrypted.pem", "encrypted private keys are not supported"},
		{"rsa2048-pub.pem", "holds a public key"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			k, err := signer.ParsePrivateKey(readTestdata(t, tt.file))
			if tt.wantErr == "" {
				if err != nil || k.N.BitLen() != 2048 {
					t.Fatalf("ParsePrivateKey = %v", err)
				}
				return
			}
			if !errors.Is(err, signer.ErrKey) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ParsePrivateKey = %v, want ErrKey with %q", err, tt.wantErr)
			}
		})
	}
	for name, in := range map[string]string{
		"empty":   "",
		"garbage": "not a key at all",
		"bad DER": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
		"other":   "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := signer.ParsePrivateKey([]byte(in)); !errors.Is(err, signer.ErrKey) {
				t.Fatalf("ParsePrivateKey = %v, want ErrKey", err)
			}
		})
	}
}

func TestParsePublicKey(t *testing.T) {
	want := testKey(t, "rsa2048.pem").PublicKey
	for _, file := range []string{"rsa2048-pub.pem", "rsa2048-pub-pkcs1.pem", "rsa2048.pem", "rsa2048-pkcs8.pem"} {
		t.Run(file, func(t *testing.T) {
			k, err := signer.ParsePublicKey(readTestdata(t, file))
			if err != nil {
				t.Fatal(err)
			}
			if !k.Equal(&want) {
				t.Error("wrong key")
			}
		})
	}
	for file, msg := range map[string]string{"ec-pub.pem": "ECDSA public key", "rsa1024.pem": "1024 bits"} {
		t.Run(file, func(t *testing.T) {
			if _, err := signer.ParsePublicKey(readTestdata(t, file)); !errors.Is(err, signer.ErrKey) || !strings.Contains(err.Error(), msg) {
				t.Fatalf("ParsePublicKey = %v, want ErrKey with %q", err, msg)
			}
		})
	}
}

func TestKeyMaterialNeverPrinted(t *testing.T) {
	k := &signer.SigningKey{ID: "k1", Bucket: "b", Key: testKey(t, "rsa2048.pem")}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("loaded", "key", k)
	secret := k.Key.D.String()[:20]
	for _, out := range []string{buf.String(), k.String()} {
		if strings.Contains(out, secret) || strings.Contains(out, "PRIVATE") {
			t.Errorf("key material in output: %s", out)
		}
		if !strings.Contains(out, "k1") {
			t.Errorf("kid missing from output: %s", out)
		}
	}
	// A malformed key file's error must not quote the file.
	bad := strings.Replace(string(readTestdata(t, "rsa2048.pem")), "MII", "XII", 1)
	if _, err := signer.ParsePrivateKey([]byte(bad)); err == nil || strings.Contains(err.Error(), "XII") {
		t.Errorf("ParsePrivateKey error = %v", err)
	}
}

func TestGenerateKeyAndEncode(t *testing.T) {
	if _, err := signer.GenerateKey(1024); !errors.Is(err, signer.ErrKey) {
		t.Fatalf("GenerateKey(1024) = %v, want ErrKey", err)
	}
	k, err := signer.GenerateKey(2048)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := signer.EncodePrivateKey(k)
	if !bytes.HasPrefix(pemBytes, []byte("-----BEGIN RSA PRIVATE KEY-----")) {
		t.Errorf("private key PEM is not PKCS#1: %.40s", pemBytes)
	}
	back, err := signer.ParsePrivateKey(pemBytes)
	if err != nil || !back.Equal(k) {
		t.Fatalf("round trip: %v", err)
	}
	pub, err := signer.ParsePublicKey(signer.EncodePublicKey(&k.PublicKey))
	if err != nil || !pub.Equal(&k.PublicKey) {
		t.Fatalf("public round trip: %v", err)
	}
	a, b := signer.NewKeyID(), signer.NewKeyID()
	if len(a) != 32 || a == b {
		t.Errorf("NewKeyID: %q, %q", a, b)
	}
}
