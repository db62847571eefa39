package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/signgate/signgate/signer"
)

func runSign(e *env, args []string) error {
	fs := newFlags(e, "sign", "--key key.pem --kid ID [flags] URL-OR-PATH", `
Print a signed URL for URL-OR-PATH: a full URL (its scheme and host become
the CDN base unless --base is given) or a path inside the bucket. The token
grants the file, its directory or the whole bucket (--scope), or exactly
--uri. Time values are RFC 3339 or Unix seconds.`)
	keyFile := fs.String("key", "", "private key `file` (PEM, PKCS#1 or PKCS#8)")
	kid := fs.String("kid", "", "signing key `id` (the token's kid header)")
	ttl := fs.Duration("ttl", 10*time.Minute, "token lifetime; 0 for a token that never expires")
	expFlag := fs.String("exp", "", "expiry `time`, instead of --ttl")
	nbfFlag := fs.String("nbf", "", "activation `time`")
	scopeFlag := fs.String("scope", "file", "what the token grants: file, dir or bucket")
	uri := fs.String("uri", "", "grant exactly this `path` (\"\" is the whole bucket), instead of --scope")
	base := fs.String("base", "", "CDN base `URL`, e.g. https://BUCKET.media-storage.REGION.qencode.com")
	tokenOnly := fs.Bool("token-only", false, "print the token alone")
	scheme := fs.String("scheme", signer.DefaultScheme, "signing `scheme`: "+strings.Join(signer.SchemeNames(), ", ")+" (see docs/cdn.md)")
	opts := schemeOptsFlag(fs)
	extra := map[string]any{}
	fs.Func("claim", "custom claim `name=value`, repeatable; a value that is valid JSON is read as JSON", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return fmt.Errorf("want name=value")
		}
		switch k {
		case "uri", "exp", "nbf":
			return fmt.Errorf("%s is set with --%s", k, k)
		}
		var j any
		if json.Unmarshal([]byte(v), &j) == nil {
			extra[k] = j
		} else {
			extra[k] = v
		}
		return nil
	})
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("sign: want exactly one URL or path, got %d", len(pos))
	}
	// A vendor scheme that needs a key id says so itself (its KEY_ID).
	if *keyFile == "" || *kid == "" && jwtScheme(*scheme) {
		return usagef("sign: --key and --kid are required")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["ttl"] && set["exp"] {
		return usagef("sign: give --ttl or --exp, not both")
	}
	if set["scope"] && set["uri"] {
		return usagef("sign: give --scope or --uri, not both")
	}

	target, err := url.Parse(pos[0])
	if err != nil {
		return usagef("sign: not a URL or path: %v", parseCause(err))
	}
	cdn := *base
	if target.IsAbs() && cdn == "" {
		cdn = target.Scheme + "://" + target.Host
	}
	p, err := signer.CanonicalPath(target.EscapedPath())
	if err != nil {
		return fmt.Errorf("sign: path %q: %w", target.EscapedPath(), err)
	}

	c := signer.Claims{Extra: extra}
	if set["uri"] {
		if err := checkURI(*uri); err != nil {
			return usagef("sign: --uri %q grants nothing: %v", *uri, err)
		}
		c.URI = *uri
	} else {
		scope, err := signer.ParseScope(*scopeFlag)
		if err != nil {
			return usagef("sign: --scope: %v", err)
		}
		c.URI = scope.URI(p)
	}
	now := time.Now()
	switch {
	case *expFlag != "":
		if c.Expires, err = parseTime(*expFlag); err != nil {
			return usagef("sign: --exp: %v", err)
		}
	case *ttl < 0:
		return usagef("sign: --ttl must not be negative")
	case *ttl > 0:
		c.Expires = now.Add(*ttl)
	}
	if *nbfFlag != "" {
		if c.NotBefore, err = parseTime(*nbfFlag); err != nil {
			return usagef("sign: --nbf: %v", err)
		}
	}

	if *scheme != signer.DefaultScheme {
		return signScheme(e, *scheme, *keyFile, *kid, cdn, p, target.RawQuery, *scopeFlag, set["uri"], c, opts, *ttl)
	}
	pemBytes, err := os.ReadFile(*keyFile)
	if err != nil {
		return fmt.Errorf("sign: read key: %w", err)
	}
	priv, err := signer.ParsePrivateKey(pemBytes)
	if err != nil {
		return fmt.Errorf("sign: key file %s: %w", *keyFile, err)
	}
	key := &signer.SigningKey{ID: *kid, Key: priv}
	tok, err := key.Sign(c)
	if err != nil {
		return err
	}
	if *tokenOnly {
		fmt.Fprintln(e.stdout, tok)
		return nil
	}
	var b signer.Base // the zero Base builds a relative URL
	if cdn != "" {
		if b, err = signer.ParseBase(cdn); err != nil {
			return usagef("sign: --base: %v", err)
		}
	}
	out, err := b.URL(p, target.RawQuery, tok)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	fmt.Fprintln(e.stdout, out)
	return nil
}

// checkURI refuses a uri claim that grants nothing: one that is not a
// canonical path once its optional leading "/" is added and its trailing
// "/" dropped, as signer.Covers reads it ("" and "/" grant the bucket).
// The claim is decoded text, so it is escaped before CanonicalPath decodes
// it once.
func checkURI(uri string) error {
	if uri == "" || uri == "/" {
		return nil
	}
	if uri[0] != '/' {
		uri = "/" + uri
	}
	_, err := signer.CanonicalPath(signer.EscapePath(strings.TrimSuffix(uri, "/")))
	return err
}

// parseTime reads RFC 3339 or Unix seconds.
func parseTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor Unix seconds", s)
	}
	return t, nil
}
