package config

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/caarlos0/env/v11"
)

// Prefix starts every variable name.
const Prefix = "SIGNGATE_"

// Load reads a T from environ (variable names with their SIGNGATE_ prefix)
// and validates it when T has a Validate method. Tests pass their own map;
// main passes the process environment (see Environ).
func Load[T any](environ map[string]string) (T, error) {
	t, err := env.ParseAsWithOptions[T](env.Options{Environment: environ, Prefix: Prefix})
	if err != nil {
		return t, fmt.Errorf("configuration: %w", err)
	}
	if v, ok := any(&t).(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return t, fmt.Errorf("configuration:\n%w", err)
		}
	}
	return t, nil
}

// Environ turns os.Environ-style "KEY=value" pairs into a map.
func Environ(pairs []string) map[string]string {
	m := make(map[string]string, len(pairs))
	for _, kv := range pairs {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// Secret is a configured secret: an HMAC key, an API key, a password in a
// database URL. Printing or logging it shows REDACTED; Reveal gives the value.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return "REDACTED" }

// GoString implements fmt.GoStringer, for %#v.
func (s Secret) GoString() string { return `"REDACTED"` }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// MarshalText keeps the secret out of JSON and other encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte("REDACTED"), nil }
