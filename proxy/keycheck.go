package proxy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/signgate/signgate/signer"
)

// keyJWKSMaxBytes bounds the answer of a route's JWKS_URL; its
// JWKS_TIMEOUT bounds the fetch.
const keyJWKSMaxBytes = 1 << 20

// checkPair decides whether k, just read, may replace old (nil at
// start-up): a pair that would sign URLs the CDN cannot verify is
// refused, so that the old pair serves on.
//
// With a JWKS_URL, the CDN's JWKS decides: it must list k's kid with k's
// public half (state mismatch when it lists another key, unverified when
// it does not list the kid or cannot be fetched). Without one, a new key
// under the old kid, or a new kid for the old key, is refused (state
// mismatch): it is half a rotation, or a mistake. Both halves new is a
// rotation.
func (rt *route) checkPair(ctx context.Context, c *http.Client, old, k *signer.SigningKey) error {
	if rt.jwksURL != "" {
		return rt.checkJWKS(ctx, c, k)
	}
	if old == nil {
		return nil
	}
	fileVar, kidVar := rt.variable(rt.keySetting()), rt.variable(rt.kidSetting())
	switch {
	case old.ID == k.ID && !old.Key.Equal(k.Key):
		switch {
		case rt.keyJSON:
			return rt.pairErr(keyMismatch, fmt.Errorf(
				"route %s: %s holds a new key under the kid %q of the old one; keeping the old key (a new key comes with a new kid)",
				rt.name, fileVar, k.ID), rt.keySetting())
		case rt.kidFile == "":
			return rt.pairErr(keyMismatch, fmt.Errorf(
				"route %s: %s holds a new key, but %s fixes the kid %q of the old one; keeping the old key (rotate with %s or %s, or restart with the new kid)",
				rt.name, fileVar, kidVar, k.ID, rt.variable("KEY_ID_FILE"), rt.variable("KEY_JSON_FILE")), "KEY_FILE", "KEY_ID")
		}
		return rt.pairErr(keyMismatch, fmt.Errorf(
			"route %s: %s holds a new key, but %s still names the kid %q of the old one; keeping the old pair until both are replaced",
			rt.name, fileVar, kidVar, k.ID), "KEY_FILE", "KEY_ID_FILE")
	case old.ID != k.ID && old.Key.Equal(k.Key):
		if rt.keyJSON {
			return rt.pairErr(keyMismatch, fmt.Errorf(
				"route %s: %s names a new kid %q for the key of %q; keeping the old pair (a new kid comes with a new key)",
				rt.name, fileVar, k.ID, old.ID), rt.keySetting())
		}
		return rt.pairErr(keyMismatch, fmt.Errorf(
			"route %s: %s names a new kid %q, but %s still holds the key of %q; keeping the old pair until both are replaced",
			rt.name, kidVar, k.ID, fileVar, old.ID), "KEY_ID_FILE", "KEY_FILE")
	}
	return nil
}

// checkJWKS fetches the route's JWKS and checks that it lists k's kid
// with k's public half.
func (rt *route) checkJWKS(ctx context.Context, c *http.Client, k *signer.SigningKey) error {
	settings := []string{rt.keySetting(), rt.kidSetting(), "JWKS_URL"}
	if rt.keyJSON {
		settings = settings[1:]
	}
	jwksVar := rt.variable("JWKS_URL")
	keys, err := fetchJWKS(ctx, c, rt.jwksURL, rt.jwksTimeout)
	if err != nil {
		return rt.pairErr(keyUnverified, fmt.Errorf("route %s: cannot check kid %q against %s: %w; keeping the old pair",
			rt.name, k.ID, jwksVar, err), settings...)
	}
	pub, ok := keys.PublicKey(k.ID)
	switch {
	case !ok:
		return rt.pairErr(keyUnverified, fmt.Errorf("route %s: the JWKS at %s does not list kid %q (yet); keeping the old pair",
			rt.name, jwksVar, k.ID), settings...)
	case !pub.Key.Equal(&k.Key.PublicKey):
		return rt.pairErr(keyMismatch, fmt.Errorf("route %s: the JWKS at %s lists kid %q with another public key than the private key in %s; keeping the old pair",
			rt.name, jwksVar, k.ID, rt.variable(rt.keySetting())), settings...)
	}
	return nil
}

// fetchJWKS fetches and parses a JWK Set, within timeout.
func fetchJWKS(ctx context.Context, c *http.Client, u string, timeout time.Duration) (signer.Keys, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the JWKS answered %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, keyJWKSMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the JWKS: %w", err)
	}
	if len(data) > keyJWKSMaxBytes {
		return nil, fmt.Errorf("the JWKS is over %d bytes", keyJWKSMaxBytes)
	}
	return signer.ParseJWKSet(data)
}

// newKeyClient returns the client of the routes' JWKS checks, with its
// own connections; each fetch is bounded by its route's JWKS_TIMEOUT.
func newKeyClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 2
	return &http.Client{Transport: t, Timeout: time.Minute}
}
