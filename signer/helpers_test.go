package signer_test

import (
	"crypto/rsa"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// testKey loads a committed throwaway key (generating 2048-bit keys per
// test would cost seconds).
func testKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	k, err := signer.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixture is a signing key, a verifier that knows it, and a fake clock.
type fixture struct {
	key *signer.SigningKey
	v   *signer.Verifier
	now time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{
		key: &signer.SigningKey{ID: "k1", Bucket: "media", Key: testKey(t, "rsa2048.pem")},
		now: time.Unix(1_800_000_000, 0),
	}
	f.v = signer.NewVerifier(signer.NewKeys(f.key.Public()))
	f.v.Bucket = "media"
	f.v.Now = func() time.Time { return f.now }
	return f
}

func (f *fixture) sign(t testing.TB, c signer.Claims) string {
	t.Helper()
	tok, err := f.key.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
