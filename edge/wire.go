package edge

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/signgate/signgate/config"
)

// CreatedLayout is the form of a key's "created" in the control API, as
// Qencode documents it ("2023-06-12 15:00:40"), always in UTC.
const CreatedLayout = "2006-01-02 15:04:05"

// ParseCreated reads a key's "created": Qencode's form (CreatedLayout, in
// UTC), or RFC 3339, which signgate edges answered before they matched
// Qencode's.
func ParseCreated(s string) (time.Time, error) {
	if t, err := time.Parse(CreatedLayout, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("created %q is neither %q nor RFC 3339", s, CreatedLayout)
	}
	return t.UTC(), nil
}

// NullString is a string that JSON shows as null when it is empty, and
// reads null as empty: a key's name before one is set, and the one of
// bucket and stream_id that a key does not have.
type NullString string

// MarshalJSON implements json.Marshaler: null for "".
func (s NullString) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(s))
}

// UnmarshalJSON implements json.Unmarshaler: a string, or null for "".
func (s *NullString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = ""
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = NullString(v)
	return nil
}

// KeyInfo is a signing key as the control API shows it: never the private
// key. Every answer holds the same fields: id, name, bucket, stream_id,
// created and public_key, and the create answer private_key beside them
// (NewKey). A name never set is null, and so is the one of
// bucket and stream_id the key does not belong to. Old signgate edges
// answered "" for no name and left the other field out; both read the
// same here.
type KeyInfo struct {
	ID        string     `json:"id"`
	Name      NullString `json:"name"`
	Bucket    NullString `json:"bucket"`
	StreamID  NullString `json:"stream_id"`
	Created   string     `json:"created"` // CreatedLayout, UTC; see ParseCreated
	PublicKey string     `json:"public_key,omitempty"`
}

// NewKey is a key just created: KeyInfo and the private key, as PKCS#1
// PEM, which the API returns this once. Printing a NewKey shows REDACTED
// in place of the private key.
type NewKey struct {
	KeyInfo
	PrivateKey config.Secret `json:"private_key"`
}

// CreateKeyRequest is the body of POST /v1/signing-keys: exactly one of
// Bucket and StreamID, and an optional name. A name that is null, "" or
// absent stores no name. Algorithm is RS256 (the default, Qencode's) or
// EdDSA (an Ed25519 key, for signgate's ed25519 scheme; its private key
// comes as PKCS#8 PEM).
type CreateKeyRequest struct {
	Bucket    string     `json:"bucket,omitempty"`
	StreamID  string     `json:"stream_id,omitempty"`
	Name      NullString `json:"name,omitempty"`
	Algorithm string     `json:"algorithm,omitempty"`
}

// RenameKeyRequest is the body of PUT /v1/signing-keys/{id}. A name that
// is null or "" takes the key's name away: it reads null again.
type RenameKeyRequest struct {
	Name NullString `json:"name"`
}

func keyInfo(k Key) KeyInfo {
	return KeyInfo{
		ID:        k.ID,
		Name:      NullString(k.Name),
		Bucket:    NullString(k.Bucket),
		StreamID:  NullString(k.StreamID),
		Created:   k.Created.UTC().Format(CreatedLayout),
		PublicKey: string(k.PublicKey),
	}
}

// The response bodies. Successes carry "status": "ok" and, as Qencode's
// API does, "error": 0.
type (
	okResponse struct {
		Status string `json:"status"`
		Error  int    `json:"error"`
	}
	tokenResponse struct {
		okResponse
		Token       string `json:"token"`
		AccessToken string `json:"access_token"` // the name in Qencode's docs
		Expire      string `json:"expire"`
	}
	policyResponse struct {
		okResponse
		Bucket string `json:"bucket"`
		Policy Policy `json:"policy"`
	}
	keyResponse struct {
		okResponse
		SigningKey KeyInfo `json:"signing_key"`
	}
	keysResponse struct {
		okResponse
		SigningKeys []KeyInfo `json:"signing_keys"`
	}
	// newKeyResponse holds the private key as a plain string: this is the
	// one place it is written out.
	newKeyResponse struct {
		okResponse
		SigningKey struct {
			KeyInfo
			PrivateKey string `json:"private_key"`
		} `json:"signing_key"`
	}
)

// errorResponse is every error body of the edge, on both listeners, in
// the shape of Qencode's API: "error" is non-zero (the HTTP status), beside
// a stable machine-readable "code" and a short "message". A client decodes
// successes and failures with one type: "error" an int, 0 on success.
type errorResponse struct {
	Error   int    `json:"error"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func success() okResponse { return okResponse{Status: "ok"} }
