package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/signgate/signgate/signer"
)

// verifyingSchemes names the schemes signgate verify checks: qencode
// and ed25519 by the JWT path, the others through their Checker.
func verifyingSchemes() []string {
	var out []string
	for _, s := range signer.Schemes() {
		if _, ok := s.(signer.VerifyingScheme); ok {
			out = append(out, s.Name())
		}
	}
	return out
}

// jwtScheme reports whether scheme name signs Qencode's JWT (qencode,
// ed25519): sign and verify read those through the JWT path, with a kid.
func jwtScheme(name string) bool {
	return name == signer.DefaultScheme || name == (signer.Ed25519{}).Name()
}

// verifyScheme is signgate verify for a VerifyingScheme other than the
// JWT ones: the scheme's Checker, with the public key in keyFile, for
// the URL's canonical path, now; opts are the scheme's options, as sign's.
func verifyScheme(e *env, name, keyFile, kid, clientIP string, opts map[string]string, raw string) error {
	sch, err := signer.LookupScheme(name)
	if err != nil {
		return usagef("verify: --scheme: %v", err)
	}
	vs, ok := sch.(signer.VerifyingScheme)
	if !ok {
		return usagef("verify: scheme %s has no public-key or shared-secret check; verifying ones: %v", name, verifyingSchemes())
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return usagef("verify: scheme %s needs the full signed URL", name)
	}
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return fmt.Errorf("verify: read key: %w", err)
	}
	base, err := signer.ParseBase(u.Scheme + "://" + u.Host)
	if err != nil {
		return usagef("verify: %v", err)
	}
	ck, err := vs.NewChecker(signer.Settings{Base: base, KeyID: kid, Key: key, Options: opts})
	if err != nil {
		var se *signer.SettingError
		if errors.As(err, &se) {
			return fmt.Errorf("verify: key file %s: %w", keyFile, se.Err)
		}
		return fmt.Errorf("verify: %w", err)
	}
	file := u.EscapedPath()
	if name == "bunny" {
		file = signer.BunnyFilePath(file) // the path form's token comes first
	}
	p, err := signer.CanonicalPath(file)
	if err == nil {
		var v signer.Verified
		if v, err = ck.Check(signer.Request{Path: p, EscapedPath: u.EscapedPath(), Host: u.Host, RawQuery: u.RawQuery, ClientIP: clientIP}); err == nil {
			fmt.Fprintln(e.stdout, "valid")
			grant := v.Grant.Path
			if v.Grant.Prefix {
				grant += "/*"
			}
			fmt.Fprintf(e.stdout, "key %s, grants %s, expires %s\n", v.KeyID, grant, v.Expires.UTC().Format(time.RFC3339))
			return nil
		}
	}
	fmt.Fprintf(e.stdout, "invalid: %s\n%s\n", signer.Reason(err), err)
	return errFailed
}
