package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/signgate/signgate/signer"
)

// signScheme is signgate sign for a scheme other than qencode: the
// scheme's Signer mints a token for the grant of path p (its scope) until
// c.Expires, and places it in the URL on base cdn.
func signScheme(e *env, name, keyFile, kid, cdn, p, rawQuery, scopeFlag string, uriSet bool, c signer.Claims, opts map[string]string, ttl time.Duration) error {
	sch, err := signer.LookupScheme(name)
	if err != nil {
		return usagef("sign: --scheme: %v", err)
	}
	if uriSet || len(c.Extra) > 0 || !c.NotBefore.IsZero() {
		return usagef("sign: --uri, --claim and --nbf are qencode's; scheme %s takes --scope and --opt", name)
	}
	if cdn == "" {
		return usagef("sign: scheme %s needs a full URL or --base", name)
	}
	// A full path-style S3 URL names the bucket in its path: the base
	// holds it, the object path follows.
	if b := opts["S3_BUCKET"]; name == "s3" && b != "" && strings.HasPrefix(p, "/"+b+"/") && !strings.HasSuffix(cdn, "/"+b) {
		cdn, p = cdn+"/"+b, strings.TrimPrefix(p, "/"+b)
	}
	base, err := signer.ParseBase(cdn)
	if err != nil {
		return usagef("sign: --base: %v", err)
	}
	scope, err := signer.ParseScope(scopeFlag)
	if err != nil {
		return usagef("sign: --scope: %v", err)
	}
	if c.Expires.IsZero() {
		return usagef("sign: scheme %s needs an expiry (--ttl or --exp)", name)
	}
	if ttl <= 0 {
		ttl = time.Until(c.Expires).Round(time.Second)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("sign: read key: %w", err)
	}
	s, err := sch.New(signer.Settings{Base: base, KeyID: kid, Key: key, Scope: scope, TTL: ttl, Options: opts})
	if err != nil {
		var se *signer.SettingError
		if errors.As(err, &se) {
			return usagef("sign: scheme %s: %v", name, err)
		}
		return fmt.Errorf("sign: %w", err)
	}
	uri := scope.URI(p)
	tok, err := s.Mint(signer.Grant{Path: uri, Prefix: uri != p}, c.Expires)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	out, err := s.URL(p, rawQuery, tok)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	fmt.Fprintln(e.stdout, out)
	return nil
}

// schemeOptsFlag defines --opt on fs, the scheme's options of sign and
// verify, and returns the map it fills.
func schemeOptsFlag(fs *flag.FlagSet) map[string]string {
	opts := map[string]string{}
	fs.Func("opt", "scheme option `NAME=value`, repeatable, named as the route variable's suffix (CLOUDFRONT_POLICY=custom, S3_BUCKET=media, BUNNY_MODE=advanced)", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return fmt.Errorf("want NAME=value")
		}
		opts[k] = v
		return nil
	})
	return opts
}
