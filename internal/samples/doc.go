// Package samples holds no code: its test runs every code sample under
// docs/samples (Python, Node.js, Go with the signer package, Go with plain
// golang-jwt, shell with openssl) against a real edge, so that a sample
// that drifts from the token contract fails the build. A sample whose
// interpreter is missing is skipped by name, or fails under CI=true (see
// internal/testenv).
package samples
