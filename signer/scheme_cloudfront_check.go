package signer

import (
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"

	cfsign "github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"
)

var _ VerifyingScheme = CloudFront{}

// NewChecker implements VerifyingScheme: s.Key is the PEM public (or
// private) RSA or ECDSA key, s.KeyID the Key-Pair-Id tokens must name
// ("" for any), s.Base the distribution's URL.
func (CloudFront) NewChecker(s Settings) (Checker, error) {
	pub, err := parseCloudFrontPublic(s.Key)
	if err != nil {
		return nil, &SettingError{Setting: "KEY_FILE", Err: err}
	}
	return cloudFrontChecker{pub: pub, keyID: s.KeyID, base: s.Base}, nil
}

type cloudFrontChecker struct {
	pub   any
	keyID string
	base  Base
}

// Check implements Checker, as CloudFront checks a request: the
// parameters in the query, else the CloudFront-* cookies; the signature
// over the canned policy of the URL (Expires) or the custom Policy; then
// the policy's Resource (with its wildcards), DateLessThan,
// DateGreaterThan and IpAddress.
func (c cloudFrontChecker) Check(req Request) (Verified, error) {
	get := func(name string) string {
		if v, err := queryValue(req.RawQuery, name); err == nil && v != "" {
			return v
		}
		for _, ck := range req.Cookies {
			if ck.Name == "CloudFront-"+name {
				return ck.Value
			}
		}
		return ""
	}
	sig, kid, pol, expires := get("Signature"), get("Key-Pair-Id"), get("Policy"), get("Expires")
	if sig == "" {
		return Verified{}, ErrMissing
	}
	if c.keyID != "" && kid != c.keyID {
		return Verified{}, tokenErr(ErrUnknownKey, "Key-Pair-Id %q", truncate(kid))
	}
	url := c.base.String() + EscapePath(req.Path)
	var js []byte
	switch {
	case pol != "":
		b, err := cfDecode(pol)
		if err != nil {
			return Verified{}, tokenErr(ErrMalformed, "Policy is not CloudFront base64")
		}
		js = b
	case expires != "":
		n, err := strconv.ParseInt(expires, 10, 64)
		if err != nil {
			return Verified{}, tokenErr(ErrMalformed, "Expires is not a number")
		}
		b, err := encodeCFPolicy(cfsign.NewCannedPolicy(url, time.Unix(n, 0)))
		if err != nil {
			return Verified{}, err
		}
		js = b
	default:
		return Verified{}, tokenErr(ErrMalformed, "neither Policy nor Expires")
	}
	raw, err := cfDecode(sig)
	if err != nil {
		return Verified{}, tokenErr(ErrMalformed, "Signature is not CloudFront base64")
	}
	if err := cfVerify(c.pub, js, raw, get("Hash-Algorithm") == "SHA256"); err != nil {
		return Verified{}, err
	}
	var p cfsign.Policy
	if err := json.Unmarshal(js, &p); err != nil || len(p.Statements) != 1 {
		return Verified{}, tokenErr(ErrMalformed, "policy is not one statement")
	}
	st := p.Statements[0]
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	cond := st.Condition
	switch {
	case cond.DateLessThan == nil:
		return Verified{}, tokenErr(ErrMalformed, "policy has no DateLessThan")
	case !now.Before(cond.DateLessThan.Time):
		return Verified{}, tokenErr(ErrExpired, "at %s", cond.DateLessThan.UTC().Format(time.RFC3339))
	case cond.DateGreaterThan != nil && now.Before(cond.DateGreaterThan.Time):
		return Verified{}, tokenErr(ErrNotYetValid, "until %s", cond.DateGreaterThan.UTC().Format(time.RFC3339))
	}
	if cond.IPAddress != nil {
		pfx, err := netip.ParsePrefix(cond.IPAddress.SourceIP)
		a, aerr := netip.ParseAddr(req.ClientIP)
		if err != nil || aerr != nil || !pfx.Contains(a.Unmap()) {
			return Verified{}, tokenErr(ErrScope, "the client's address is not in the policy's IpAddress")
		}
	}
	if ok, _ := path.Match(cfPattern(st.Resource), cfPattern(url)); !ok {
		return Verified{}, tokenErr(ErrScope, "the policy's Resource does not cover this URL")
	}
	g := Grant{Path: strings.TrimPrefix(st.Resource, c.base.String())}
	if d, ok := strings.CutSuffix(g.Path, "/*"); ok {
		g = Grant{Path: d, Prefix: true}
	}
	return Verified{KeyID: kid, Grant: g, Expires: cond.DateLessThan.Time}, nil
}

// cfPattern makes a CloudFront resource a path.Match pattern in which "*"
// matches any characters, "/" among them: path.Match's "*" stops at "/",
// so "/" is swapped for a byte no URL holds, on both sides.
func cfPattern(s string) string {
	return strings.NewReplacer("/", "\x01", "\\", "\\\\", "[", "\\[").Replace(s)
}

// cfDecode reads CloudFront's base64 (- _ ~ for + = /).
func cfDecode(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.NewReplacer("-", "+", "_", "=", "~", "/").Replace(s))
}

// queryValue returns the decoded value of the one parameter named name
// in rawQuery ("" when absent); several are refused as malformed.
func queryValue(rawQuery, name string) (string, error) {
	var out string
	n := 0
	for q := rawQuery; q != ""; {
		var part string
		part, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(part, "=")
		if k != name {
			continue
		}
		n++
		out = v
	}
	if n > 1 {
		return "", tokenErr(ErrMalformed, "more than one %s parameter", name)
	}
	return out, nil
}

// parseCloudFrontPublic reads an RSA or ECDSA public key (or the public
// half of a private key) from PEM.
func parseCloudFrontPublic(b []byte) (any, error) {
	if k, err := parseCloudFrontKey(b); err == nil {
		return k.Public(), nil
	}
	if k, err := ParsePublicKey(b); err == nil {
		return k, nil
	}
	return parseECPublic(b)
}
