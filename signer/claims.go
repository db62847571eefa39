package signer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// maxSeconds is the first second of the year 3000 (UTC). A time claim above
// it can only be milliseconds written where seconds belong, and is refused
// with ErrMilliseconds rather than read as a date in the far future.
const maxSeconds = 32503680000

// Claims is a token's payload.
type Claims struct {
	// URI is the path the token grants; "" grants the whole bucket.
	URI string
	// Expires is the exp claim; the zero Time means the token never expires.
	Expires time.Time
	// NotBefore is the nbf claim; the zero Time means active at once.
	NotBefore time.Time
	// Extra holds custom claims. The names uri, exp and nbf are reserved
	// for the fields above: minting refuses them here (ErrReservedClaim).
	// Other registered names, such as iat or sub, are custom claims to
	// the contract and go out as given.
	Extra map[string]any
}

// MarshalJSON writes the payload: uri always (so that the grant is explicit),
// exp and nbf as integer seconds when set, and the custom claims. Keys come
// out sorted, so the same claims always give the same bytes. A reserved
// name in Extra is an error wrapping ErrReservedClaim.
func (c Claims) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(c.Extra)+3)
	for k, v := range c.Extra {
		switch k {
		case "uri", "exp", "nbf":
			return nil, fmt.Errorf("%w: %s (set it with the Claims field)", ErrReservedClaim, k)
		}
		m[k] = v
	}
	m["uri"] = c.URI
	if !c.Expires.IsZero() {
		m["exp"] = c.Expires.Unix()
	}
	if !c.NotBefore.IsZero() {
		m["nbf"] = c.NotBefore.Unix()
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads a payload. exp and nbf are JSON numbers of seconds; a
// string of decimal digits is read the same way, since Qencode's docs print
// them quoted; null is refused. uri, when present, is a string (not null). A value that can only be milliseconds wraps ErrMilliseconds;
// any other bad value wraps ErrMalformed.
func (c *Claims) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return tokenErr(ErrMalformed, "payload is not a JSON object")
	}
	var out Claims
	for k, raw := range m {
		switch k {
		case "uri":
			if string(raw) == "null" {
				return tokenErr(ErrMalformed, "uri is null")
			}
			if err := json.Unmarshal(raw, &out.URI); err != nil {
				return tokenErr(ErrMalformed, "uri is not a string")
			}
		case "exp":
			t, err := parseTime(k, raw)
			if err != nil {
				return err
			}
			out.Expires = t
		case "nbf":
			t, err := parseTime(k, raw)
			if err != nil {
				return err
			}
			out.NotBefore = t
		default:
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				return tokenErr(ErrMalformed, "claim %q", truncate(k))
			}
			if out.Extra == nil {
				out.Extra = make(map[string]any)
			}
			out.Extra[k] = v
		}
	}
	*c = out
	return nil
}

// parseTime reads a NumericDate: a JSON number, or a JSON string of decimal
// digits. Fractions are truncated. null, booleans and the empty string
// are refused: an absent claim is written by leaving it out.
func parseTime(name string, raw json.RawMessage) (time.Time, error) {
	s := string(raw)
	if s == "null" {
		return time.Time{}, tokenErr(ErrMalformed, "%s is null", name)
	}
	if len(s) >= 2 && s[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil || s == "" {
			return time.Time{}, tokenErr(ErrMalformed, "%s is not a number", name)
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return time.Time{}, tokenErr(ErrMalformed, "%s is not a number of seconds", name)
			}
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return time.Time{}, tokenErr(ErrMalformed, "%s is not a non-negative number of seconds", name)
	}
	if f >= maxSeconds {
		return time.Time{}, tokenErr(ErrMilliseconds, "%s is after the year 3000", name)
	}
	return time.Unix(int64(f), 0), nil
}
