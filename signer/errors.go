package signer

import "errors"

// Sentinel errors. Errors returned by this package wrap one of them, so
// callers test with errors.Is. Messages never contain a token or key material.
var (
	// Key parsing.
	ErrKey = errors.New("invalid key")

	// Minting.
	ErrReservedClaim = errors.New("reserved claim name among the custom claims")

	// Canonical paths and URLs.
	ErrPath  = errors.New("path is not canonical")
	ErrQuery = errors.New("query string is not validly escaped")

	// Verification, in the order the checks run.
	ErrMissing      = errors.New("token missing")
	ErrTooLarge     = errors.New("token too large")
	ErrMalformed    = errors.New("token malformed")
	ErrAlgorithm    = errors.New("algorithm not allowed")
	ErrUnknownKey   = errors.New("unknown signing key")
	ErrSignature    = errors.New("bad signature")
	ErrWrongBucket  = errors.New("signing key belongs to another bucket")
	ErrMilliseconds = errors.New("time claim is in milliseconds, not seconds")
	ErrExpired      = errors.New("token expired")
	ErrNotYetValid  = errors.New("token not yet valid")
	ErrScope        = errors.New("path outside the token's scope")
)

// Reason returns a short, stable, machine-readable reason for a
// verification error, such as "token_expired", suitable for a response
// header or a JSON body. An error this package did not produce gives
// "invalid_token"; nil gives "".
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrMissing):
		return "token_missing"
	case errors.Is(err, ErrTooLarge):
		return "token_too_large"
	case errors.Is(err, ErrMalformed):
		return "token_malformed"
	case errors.Is(err, ErrAlgorithm):
		return "algorithm_not_allowed"
	case errors.Is(err, ErrUnknownKey):
		return "unknown_key"
	case errors.Is(err, ErrSignature):
		return "bad_signature"
	case errors.Is(err, ErrWrongBucket):
		return "wrong_bucket"
	case errors.Is(err, ErrMilliseconds):
		return "time_in_milliseconds"
	case errors.Is(err, ErrExpired):
		return "token_expired"
	case errors.Is(err, ErrNotYetValid):
		return "token_not_yet_valid"
	case errors.Is(err, ErrScope):
		return "out_of_scope"
	case errors.Is(err, ErrPath):
		return "path_not_canonical"
	}
	return "invalid_token"
}
