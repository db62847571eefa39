package signer_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// TestZeroVerifier: the zero Verifier does not panic; it refuses every
// token with ErrUnknownKey, and its defaults (MaxTokenSize, time.Now,
// no leeway) apply once it has keys.
func TestZeroVerifier(t *testing.T) {
	f := newFixture(t)
	good := f.sign(t, signer.Claims{URI: "/v"})
	var v signer.Verifier
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"valid token", good, signer.ErrUnknownKey},
		{"garbage", "a.b.c", signer.ErrUnknownKey},
		{"empty", "", signer.ErrMissing},
		{"too large", strings.Repeat("a", signer.MaxTokenSize+1), signer.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := v.Verify(tt.token, "/v/x"); !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if _, err := v.Parse(tt.token); !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %v, want %v", err, tt.want)
			}
		})
	}
	if err := v.CheckTime(signer.Claims{Expires: time.Now().Add(-time.Second)}); !errors.Is(err, signer.ErrExpired) {
		t.Fatalf("CheckTime on the zero Verifier (no leeway, system clock) = %v, want %v", err, signer.ErrExpired)
	}
	v.Keys = signer.NewKeys(f.key.Public())
	if _, err := v.Verify(good, "/v/x"); err != nil {
		t.Fatalf("zero Verifier with keys: %v", err)
	}
}
