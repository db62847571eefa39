package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/signgate/signgate/signer"
)

func runVerify(e *env, args []string) error {
	fs := newFlags(e, "verify", "(--key PUB.pem | --jwks FILE-OR-URL) [flags] SIGNED-URL", `
Check the token in SIGNED-URL's auth parameter for SIGNED-URL's path and
print the verdict and the claims; on failure, the exact reason. Exits 0 when
the URL verifies and 1 when it does not. The token itself is never printed.`)
	keyFile := fs.String("key", "", "public key `file` (PEM; a private key file works too)")
	kid := fs.String("kid", "", "with --key: the key's `id`; without it the key is tried for any kid")
	jwks := fs.String("jwks", "", "JWK Set `file or URL`")
	bucket := fs.String("bucket", "", "with --key: require the key to belong to this `bucket`")
	leeway := fs.Duration("leeway", signer.DefaultLeeway, "clock skew tolerated on exp and nbf")
	scheme := fs.String("scheme", signer.DefaultScheme, "signing `scheme` of the URL: "+strings.Join(verifyingSchemes(), ", "))
	clientIP := fs.String("ip", "", "with --scheme cloudfront: the client `address` a policy's IpAddress is checked against")
	opts := schemeOptsFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("verify: want exactly one signed URL, got %d", len(pos))
	}
	if !jwtScheme(*scheme) {
		if *keyFile == "" || *jwks != "" {
			return usagef("verify: --scheme %s takes --key", *scheme)
		}
		return verifyScheme(e, *scheme, *keyFile, *kid, *clientIP, opts, pos[0])
	}
	if len(opts) > 0 {
		return usagef("verify: scheme %s takes no --opt", *scheme)
	}
	if (*keyFile == "") == (*jwks == "") {
		return usagef("verify: give one of --key or --jwks")
	}
	if *jwks != "" && *bucket != "" {
		return usagef("verify: --bucket goes with --key only: a JWK Set does not say which bucket its keys belong to")
	}
	if *leeway < 0 {
		return usagef("verify: --leeway must not be negative")
	}
	var keys signer.KeySet
	if *keyFile != "" {
		pemBytes, err := os.ReadFile(*keyFile)
		if err != nil {
			return fmt.Errorf("verify: read key: %w", err)
		}
		pub, err := signer.ParseVerifyingKey(*kid, *bucket, pemBytes)
		if err != nil {
			return fmt.Errorf("verify: key file %s: %w", *keyFile, err)
		}
		if *kid != "" {
			keys = signer.NewKeys(pub)
		} else {
			keys = anyKid{pub: pub}
		}
	} else {
		data, err := readFileOrURL(e.ctx, *jwks)
		if err != nil {
			return fmt.Errorf("verify: JWKS: %w", err)
		}
		if keys, err = signer.ParseJWKSet(data); err != nil {
			return fmt.Errorf("verify: JWKS %s: %w", *jwks, err)
		}
	}

	u, err := url.Parse(pos[0])
	if err != nil {
		return usagef("verify: not a URL: %v", parseCause(err))
	}
	v := signer.NewVerifier(keys)
	v.Bucket = *bucket
	v.Leeway = *leeway
	c, err := verifyURL(v, u)
	if err != nil {
		fmt.Fprintf(e.stdout, "invalid: %s\n%s\n", signer.Reason(err), err)
		return errFailed
	}
	fmt.Fprintln(e.stdout, "valid")
	out := json.NewEncoder(e.stdout)
	out.SetIndent("", "  ")
	return out.Encode(describeClaims(c))
}

// verifyURL checks the auth token of u for u's canonical path, reading
// the token as the edge does.
func verifyURL(v *signer.Verifier, u *url.URL) (signer.Claims, error) {
	p, err := signer.CanonicalPath(u.EscapedPath())
	if err != nil {
		return signer.Claims{}, err
	}
	tok, err := signer.TokenFromQuery(u.RawQuery)
	if err != nil {
		return signer.Claims{}, err
	}
	return v.Verify(tok, p)
}

// parseCause is what url.Parse found wrong, without the URL, which
// *url.Error quotes whole: its query may hold a token.
func parseCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// describeClaims shows claims with readable times.
func describeClaims(c signer.Claims) map[string]any {
	m := map[string]any{"uri": c.URI}
	for k, v := range c.Extra {
		m[k] = v
	}
	if !c.Expires.IsZero() {
		m["exp"] = c.Expires.UTC().Format(time.RFC3339)
	} else {
		m["exp"] = "never"
	}
	if !c.NotBefore.IsZero() {
		m["nbf"] = c.NotBefore.UTC().Format(time.RFC3339)
	}
	return m
}

// anyKid is a one-key KeySet that answers for every kid.
type anyKid struct{ pub signer.PublicKey }

func (a anyKid) PublicKey(kid string) (signer.PublicKey, bool) {
	k := a.pub
	k.ID = kid
	return k, true
}

// readFileOrURL reads a local file, or GETs an http(s) URL with a timeout
// and a size bound.
func readFileOrURL(ctx context.Context, src string) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		return os.ReadFile(src)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", src, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}
