package signer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// keyJSON is a signing key as the create-key API answers it: the fields
// ParseKeyJSON reads, at the top or under "signing_key".
type keyJSON struct {
	ID         string  `json:"id"`
	Bucket     *string `json:"bucket"`
	PrivateKey string  `json:"private_key"`
}

// ParseKeyJSON reads a signing key and its kid from one JSON document:
// the answer of Qencode's create-key API (POST /v1/signing-keys), which
// "signgate keys create" also writes,
//
//	{"status": "ok", "error": 0, "signing_key": {"id": "…", "bucket": "…", "private_key": "-----BEGIN RSA PRIVATE KEY-----…", …}}
//
// or the inner object alone. The private key is parsed as
// ParsePrivateKey does. Errors wrap ErrKey and never quote the document.
func ParseKeyJSON(data []byte) (*SigningKey, error) {
	var doc struct {
		keyJSON
		SigningKey *keyJSON `json:"signing_key"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			return nil, fmt.Errorf("%w: not valid JSON (at byte %d)", ErrKey, se.Offset)
		}
		if len(bytes.TrimSpace(data)) > 0 && bytes.TrimSpace(data)[0] != '{' {
			return nil, fmt.Errorf("%w: not a JSON object", ErrKey)
		}
		return nil, fmt.Errorf("%w: unexpected JSON: %w", ErrKey, err)
	}
	k := doc.keyJSON
	if doc.SigningKey != nil {
		if k.ID != "" || k.PrivateKey != "" {
			return nil, fmt.Errorf("%w: both \"signing_key\" and a key at the top level", ErrKey)
		}
		k = *doc.SigningKey
	}
	switch {
	case k.ID == "" && k.PrivateKey == "":
		return nil, fmt.Errorf("%w: no \"signing_key\" with \"id\" and \"private_key\"", ErrKey)
	case k.ID == "":
		return nil, fmt.Errorf("%w: the key has no \"id\"", ErrKey)
	case !ValidKeyID(k.ID):
		return nil, fmt.Errorf("%w: \"id\" is not one key id", ErrKey)
	case k.PrivateKey == "":
		return nil, fmt.Errorf("%w: key %q has no \"private_key\" (only the create answer holds it)", ErrKey, truncate(k.ID))
	}
	priv, err := ParsePrivateKey([]byte(k.PrivateKey))
	if err != nil {
		return nil, fmt.Errorf("key %q: private_key: %w", truncate(k.ID), err)
	}
	out := &SigningKey{ID: k.ID, Key: priv}
	if k.Bucket != nil {
		out.Bucket = *k.Bucket
	}
	return out, nil
}

// ValidKeyID reports whether kid can name a key in a token header: 1 to
// 256 bytes, no space or control character.
func ValidKeyID(kid string) bool {
	if kid == "" || len(kid) > 256 {
		return false
	}
	for _, r := range kid {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}
