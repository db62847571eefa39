package signer

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// strictCheck is the one gate every token passes before golang-jwt sees
// it (Verifier.Parse, so Verify, the edge and the CLI): three parts, each
// exactly the canonical unpadded base64url encoding of its bytes (no
// padding, whitespace or CR/LF, no non-zero trailing bits); header and
// payload JSON objects without duplicate member names at any depth; no
// crit header, since no extension is understood. The types of the claims
// are checked by Claims.UnmarshalJSON. Errors wrap ErrMalformed and never
// quote the token.
func strictCheck(token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return tokenErr(ErrMalformed, "not three dot-separated parts")
	}
	names := [3]string{"header", "payload", "signature"}
	var dec [3][]byte
	for i, p := range parts {
		b, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil || base64.RawURLEncoding.EncodeToString(b) != p {
			return tokenErr(ErrMalformed, "%s is not canonical base64url", names[i])
		}
		dec[i] = b
	}
	for i := range 2 {
		if err := checkObject(dec[i]); err != nil {
			return tokenErr(ErrMalformed, "%s: %s", names[i], err)
		}
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(dec[0], &h); err != nil {
		return tokenErr(ErrMalformed, "header is not a JSON object")
	}
	if _, ok := h["crit"]; ok {
		return tokenErr(ErrMalformed, "crit header names extensions not understood here")
	}
	return nil
}

var (
	errNotObject = errors.New("not a JSON object")
	errDuplicate = errors.New("duplicate member name")
	errTrailing  = errors.New("data after the JSON object")
)

// checkObject reports whether b is exactly one JSON object (not null, an
// array or a scalar) in which no object, at any depth, repeats a member
// name.
func checkObject(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	t, err := d.Token()
	if err != nil || t != json.Delim('{') {
		return errNotObject
	}
	if err := checkValue(d, t); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errTrailing
	}
	return nil
}

// checkValue consumes the rest of the value that began with token t.
func checkValue(d *json.Decoder, t json.Token) error {
	switch t {
	case json.Delim('{'):
		seen := make(map[string]bool)
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return errNotObject
			}
			name, ok := k.(string)
			if !ok {
				return errNotObject
			}
			if seen[name] {
				return errDuplicate
			}
			seen[name] = true
			if err := next(d); err != nil {
				return err
			}
		}
		_, err := d.Token() // '}'
		if err != nil {
			return errNotObject
		}
	case json.Delim('['):
		for d.More() {
			if err := next(d); err != nil {
				return err
			}
		}
		if _, err := d.Token(); err != nil {
			return errNotObject
		}
	}
	return nil
}

func next(d *json.Decoder) error {
	t, err := d.Token()
	if err != nil {
		return errNotObject
	}
	return checkValue(d, t)
}
