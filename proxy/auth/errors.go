package auth

import "errors"

// Sentinel errors. Authenticators wrap them with %w; the gateway maps
// them to HTTP answers (proxy re-exports them under the same names).
var (
	// ErrNoCredentials: the request carries nothing this authenticator
	// reads. A Chain tries the next one.
	ErrNoCredentials = errors.New("no credentials")
	// ErrUnauthenticated: credentials were presented and are not valid,
	// or no authenticator accepted the request.
	ErrUnauthenticated = errors.New("not authenticated")
	// ErrForbidden: the principal is known and may not see this path.
	ErrForbidden = errors.New("forbidden")
	// ErrAuthBackend: an authentication backend failed or timed out.
	// Requests fail closed with 503.
	ErrAuthBackend = errors.New("authentication backend unavailable")
)

// maxCredentialBytes bounds a token, a cookie header or an identity header
// value; anything longer is refused unread.
const maxCredentialBytes = 8 << 10
