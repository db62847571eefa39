// Package signer implements signgate's token format in both directions:
// Qencode-compatible signed URLs carrying an RS256 JWT in the auth query
// parameter (or the Qencode-Auth-Token cookie).
//
// It provides key parsing (PKCS#1 and PKCS#8 PEM), minting, verification,
// canonical request paths and the scope rule that gateway and edge share,
// signed-URL building, JWKS, and a per-scope token cache.
//
// A token is a JWT with header {kid, alg: RS256, typ: JWT} and a payload of
// optional claims: uri (the granted path; empty grants the whole bucket),
// exp and nbf (Unix seconds), and any custom claims.
//
// Other CDNs' formats are Schemes (scheme.go): a route picks one by name
// (LookupScheme), and its Signer mints a cacheable Token for a Grant and
// places it in a URL or cookies. Qencode is the default scheme.
//
// Concurrency: SigningKey, PublicKey, Keys, Verifier and Base are safe for
// concurrent use once built and not mutated. Cache is safe for concurrent
// use. Functions are pure unless documented otherwise.
package signer
