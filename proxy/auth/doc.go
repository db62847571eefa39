// Package auth finds the user behind an HTTP request, for signgate's
// gateway or any Go program: an Authenticator returns a Principal, or an
// error wrapping one of ErrNoCredentials, ErrUnauthenticated, ErrForbidden
// or ErrAuthBackend. A Chain tries several in order and fails closed: a
// backend that cannot decide, or a refusal, stops it.
//
// The authenticators:
//
//   - Header believes an identity header, from trusted proxies only;
//   - NewJWT checks a session JWT (Bearer or cookie) with an HMAC secret,
//     a public key (ParsePublicKey) or a JWK Set kept fresh by NewJWKS,
//     whose fetches go through the *http.Client it is given;
//   - NewForward asks the app's check URL, like nginx auth_request, and
//     caches its verdicts.
//
// The package reads no environment and knows nothing of signgate's
// configuration: the command's adapter (cmd/signgate) builds these from
// its environment variables. Every type here is safe for concurrent use; those
// with a Close hold a cache or a refresh goroutine until it is called.
package auth
