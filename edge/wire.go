package edge

import (
	"time"

	"github.com/signgate/signgate/config"
)

// KeyInfo is a signing key as the control API shows it: never the private
// key.
type KeyInfo struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Bucket    string `json:"bucket,omitempty"`
	StreamID  string `json:"stream_id,omitempty"`
	Created   string `json:"created"`
	PublicKey string `json:"public_key,omitempty"`
}

// NewKey is a key just created: KeyInfo and the private key, as PKCS#1
// PEM, which the API returns this once. Printing a NewKey shows REDACTED
// in place of the private key.
type NewKey struct {
	KeyInfo
	PrivateKey config.Secret `json:"private_key"`
}

// CreateKeyRequest is the body of POST /v1/signing-keys: exactly one of
// Bucket and StreamID, and an optional name.
type CreateKeyRequest struct {
	Bucket   string `json:"bucket,omitempty"`
	StreamID string `json:"stream_id,omitempty"`
	Name     string `json:"name,omitempty"`
}

// RenameKeyRequest is the body of PUT /v1/signing-keys/{id}.
type RenameKeyRequest struct {
	Name string `json:"name"`
}

func keyInfo(k Key) KeyInfo {
	return KeyInfo{
		ID:        k.ID,
		Name:      k.Name,
		Bucket:    k.Bucket,
		StreamID:  k.StreamID,
		Created:   k.Created.UTC().Format(time.RFC3339),
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
