package signer

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Secret is the shared key material of an HMAC-based CDN scheme (Cloud
// CDN, Media CDN's HMAC tokens, Akamai EdgeAuth, Bunny). It prints,
// formats and logs as REDACTED whatever the verb, so a key that reaches a
// log line or an error by mistake shows nothing.
type Secret []byte

// String implements fmt.Stringer.
func (Secret) String() string { return "REDACTED" }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return `"REDACTED"` }

// Format implements fmt.Formatter, so %x and %v show REDACTED too.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("REDACTED")) }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// decodeBase64Key decodes key material written in base64, URL-safe or
// standard, with or without padding, as the vendors' consoles and docs
// show it. The error never contains the input.
func decodeBase64Key(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{
		base64.URLEncoding, base64.RawURLEncoding, base64.StdEncoding, base64.RawStdEncoding,
	} {
		if b, err := enc.Strict().DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: not base64", ErrKey)
}

// unix is the decimal Unix time of t, as every CDN scheme writes it.
func unix(t time.Time) string { return fmt.Sprint(t.Unix()) }

// splitLast cuts s around the last sep; ok is false when sep is absent.
func splitLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
