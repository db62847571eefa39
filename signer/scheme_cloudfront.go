package signer

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	cfsign "github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"
)

// CloudFront signs Amazon CloudFront signed URLs and signed cookies
// (trusted key groups or key pairs). Settings: KEY_FILE (PEM RSA or ECDSA
// private key), KEY_ID (the public key id, Key-Pair-Id), and the options
// CLOUDFRONT_POLICY (canned or custom), CLOUDFRONT_IP_ADDRESS (a CIDR, in
// a custom policy), CLOUDFRONT_NOT_BEFORE (true: DateGreaterThan, the
// start of the token's time step) and CLOUDFRONT_HASH (sha1 or sha256).
//
// A canned policy signs the exact URL, so it grants one file; a custom
// policy's Resource is the file, or "BASE/dir/*" for a prefix grant. The
// client's query is dropped: a canned or exact policy covers the URL
// without it, and a token must not depend on the request. SHA-1 policies
// are signed by github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign;
// that package has no SHA-256 (Hash-Algorithm=SHA256), which is signed
// here over the same policy bytes. RSA signatures are deterministic;
// ECDSA ones are not (a replica mints other bytes, equally valid).
type CloudFront struct{}

var (
	_ Scheme = CloudFront{}
	_ Signer = (*CloudFrontSigner)(nil)
)

// CloudFront option names.
const (
	cfPolicy    = "CLOUDFRONT_POLICY"
	cfIP        = "CLOUDFRONT_IP_ADDRESS"
	cfNotBefore = "CLOUDFRONT_NOT_BEFORE"
	cfHash      = "CLOUDFRONT_HASH"
)

// Name implements Scheme.
func (CloudFront) Name() string { return "cloudfront" }

// Caps implements Scheme.
func (CloudFront) Caps() Caps {
	return Caps{
		Exact: true, Prefix: true, Wildcard: true, Cookies: true,
		Rides:      []string{"query", "cookies"},
		Drops:      []string{"Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"},
		DropsQuery: true,
	}
}

// cfOptions are the parsed CloudFront options.
type cfOptions struct {
	custom    bool
	ip        string // CIDR, "" for none
	notBefore bool
	sha256    bool
}

func (c CloudFront) options(s Settings) (cfOptions, error) {
	var o cfOptions
	var errs []error
	switch v := s.Options[cfPolicy]; v {
	case "":
		o.custom = s.Scope != ScopeFile || s.Streaming == "cookie" || s.Streaming == "manifest"
	case "canned":
	case "custom":
		o.custom = true
	default:
		errs = append(errs, settingErr(cfPolicy, nil, "%q: want canned or custom", v))
	}
	if v := s.Options[cfIP]; v != "" {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			if a, aerr := netip.ParseAddr(v); aerr == nil {
				p, err = a.Prefix(a.BitLen())
			}
		}
		switch {
		case err != nil:
			errs = append(errs, settingErr(cfIP, nil, "%q: want a CIDR such as 192.0.2.0/24", v))
		case p != p.Masked():
			errs = append(errs, settingErr(cfIP, nil, "%q: host bits set, want %s", v, p.Masked()))
		default:
			o.ip = p.String()
		}
	}
	switch v := s.Options[cfNotBefore]; v {
	case "", "false":
	case "true":
		o.notBefore = true
	default:
		errs = append(errs, settingErr(cfNotBefore, nil, "%q: want true or false", v))
	}
	switch v := strings.ToLower(s.Options[cfHash]); v {
	case "", "sha1":
	case "sha256":
		o.sha256 = true
	default:
		errs = append(errs, settingErr(cfHash, nil, "%q: want sha1 or sha256", s.Options[cfHash]))
	}
	if !o.custom && (o.ip != "" || o.notBefore) {
		errs = append(errs, settingErr(cfPolicy, ErrSchemeScope, "a canned policy has no IpAddress or DateGreaterThan: set custom"))
	}
	if !o.custom && (s.Scope != ScopeFile || s.Streaming == "cookie" || s.Streaming == "manifest") {
		errs = append(errs, settingErr("SCOPE", ErrSchemeScope, "a canned CloudFront policy signs one URL; scope %s and streaming %s need %s=custom", s.Scope, s.Streaming, cfPolicy))
	}
	return o, errors.Join(errs...)
}

// Check implements Scheme.
func (c CloudFront) Check(s Settings) error {
	_, err := c.options(s)
	return errors.Join(CheckCaps(c.Name(), c.Caps(), s), CheckOptions(c.Name(), s, cfPolicy, cfIP, cfNotBefore, cfHash), err)
}

// New implements Scheme.
func (c CloudFront) New(s Settings) (Signer, error) {
	if err := c.Check(s); err != nil {
		return nil, err
	}
	o, _ := c.options(s)
	if s.KeyID == "" {
		return nil, settingErr("KEY_ID", nil, "the CloudFront public key id (Key-Pair-Id) is required")
	}
	key, err := parseCloudFrontKey(s.Key)
	if err != nil {
		return nil, &SettingError{Setting: "KEY_FILE", Err: err}
	}
	if s.Base.IsZero() {
		return nil, settingErr("CDN_BASE", nil, "the CloudFront distribution's URL is required")
	}
	return &CloudFrontSigner{keyID: s.KeyID, key: key, base: s.Base, opts: o, ttl: s.TTL}, nil
}

// parseCloudFrontKey reads a PEM RSA (at least MinKeyBits) or ECDSA
// private key.
func parseCloudFrontKey(b []byte) (crypto.Signer, error) {
	if k, err := ParsePrivateKey(b); err == nil {
		return k, nil
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrKey)
	}
	switch block.Type {
	case "EC PRIVATE KEY":
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: EC private key: %w", ErrKey, err)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: PKCS#8 private key: %w", ErrKey, err)
		}
		if ek, ok := k.(*ecdsa.PrivateKey); ok {
			return ek, nil
		}
		return nil, fmt.Errorf("%w: %s private key, RSA or ECDSA required", ErrKey, keyKind(k))
	}
	_, err := ParsePrivateKey(b)
	return nil, err
}

// CloudFrontSigner is the CloudFront scheme's Signer.
type CloudFrontSigner struct {
	keyID string
	key   crypto.Signer
	base  Base
	opts  cfOptions
	ttl   time.Duration
}

// Resource returns the policy Resource for g on the signer's base: the
// URL of the file, or of the directory followed by "/*" (the whole
// distribution's base for the bucket).
func (s *CloudFrontSigner) Resource(g Grant) string {
	if g.Path == "" || g.Path == "/" {
		return s.base.String() + "/*"
	}
	r := s.base.String() + EscapePath(g.Path)
	if g.Prefix {
		r += "/*"
	}
	return r
}

// policy returns the policy for g and exp.
func (s *CloudFrontSigner) policy(g Grant, exp time.Time) *cfsign.Policy {
	p := cfsign.NewCannedPolicy(s.Resource(g), exp)
	if s.opts.custom {
		c := &p.Statements[0].Condition
		if s.opts.ip != "" {
			c.IPAddress = &cfsign.IPAddress{SourceIP: s.opts.ip}
		}
		if s.opts.notBefore && s.ttl > 0 {
			c.DateGreaterThan = cfsign.NewAWSEpochTime(exp.Add(-s.ttl))
		}
	}
	return p
}

// Policy returns the policy JSON for g and exp, as it is signed: the
// bytes of cfsign's encodePolicy (which is not exported).
func (s *CloudFrontSigner) Policy(g Grant, exp time.Time) ([]byte, error) {
	return encodeCFPolicy(s.policy(g, exp))
}

func encodeCFPolicy(p *cfsign.Policy) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

// Mint implements Signer: Expires (canned) or Policy (custom),
// Key-Pair-Id, Signature, and Hash-Algorithm=SHA256 when set.
func (s *CloudFrontSigner) Mint(g Grant, exp time.Time) (Token, error) {
	if err := grantOf("cloudfront", CloudFront{}.Caps(), g); err != nil {
		return Token{}, err
	}
	if (g.Prefix || g.Path == "") && !s.opts.custom {
		return Token{}, fmt.Errorf("%w: a canned CloudFront policy signs one URL", ErrSchemeScope)
	}
	if exp.IsZero() {
		return Token{}, errors.New("signer: a CloudFront policy needs an expiry")
	}
	p := s.policy(g, exp)
	var sig, pol []byte
	if !s.opts.sha256 {
		var err error
		if sig, pol, err = p.Sign(s.key); err != nil {
			return Token{}, fmt.Errorf("signer: sign a CloudFront policy with key %q: %w", s.keyID, err)
		}
	} else {
		js, err := encodeCFPolicy(p)
		if err != nil {
			return Token{}, err
		}
		sum := sha256.Sum256(js)
		raw, err := s.key.Sign(rand.Reader, sum[:], crypto.SHA256)
		if err != nil {
			return Token{}, fmt.Errorf("signer: sign a CloudFront policy with key %q: %w", s.keyID, err)
		}
		sig, pol = cfEncode(raw), cfEncode(js)
	}
	t := Token{Params: make([]Param, 0, 4)}
	if s.opts.custom {
		t.Params = append(t.Params, Param{"Policy", string(pol)})
	} else {
		t.Params = append(t.Params, Param{"Expires", strconv.FormatInt(exp.Unix(), 10)})
	}
	// The order of the vendor's npm signer: CloudFront reads any order.
	t.Params = append(t.Params, Param{"Key-Pair-Id", s.keyID}, Param{"Signature", string(sig)})
	if s.opts.sha256 {
		t.Params = append(t.Params, Param{"Hash-Algorithm", "SHA256"})
	}
	return t, nil
}

// cfEncode is CloudFront's base64: standard, with + = / as - _ ~.
func cfEncode(b []byte) []byte {
	out := make([]byte, base64.StdEncoding.EncodedLen(len(b)))
	base64.StdEncoding.Encode(out, b)
	for i, c := range out {
		switch c {
		case '+':
			out[i] = '-'
		case '=':
			out[i] = '_'
		case '/':
			out[i] = '~'
		}
	}
	return out
}

// URL implements Signer: the base, p escaped, then the token; the
// client's query is dropped (see CloudFront).
func (s *CloudFrontSigner) URL(p, _ string, tok Token) (string, error) {
	var sb strings.Builder
	sb.WriteString(s.base.String())
	sb.WriteString(EscapePath(p))
	for i, pr := range tok.Params {
		if i == 0 {
			sb.WriteByte('?')
		} else {
			sb.WriteByte('&')
		}
		sb.WriteString(pr.Name)
		sb.WriteByte('=')
		sb.WriteString(pr.Value)
	}
	return sb.String(), nil
}

// Cookies implements Signer: CloudFront-Policy (or -Expires),
// -Signature, -Key-Pair-Id and -Hash-Algorithm when set.
func (s *CloudFrontSigner) Cookies(tok Token) ([]http.Cookie, error) {
	out := make([]http.Cookie, 0, len(tok.Params))
	for _, p := range tok.Params {
		out = append(out, http.Cookie{Name: "CloudFront-" + p.Name, Value: p.Value})
	}
	return out, nil
}

// KeyID implements Signer.
func (s *CloudFrontSigner) KeyID() string { return s.keyID }

// SameKey reports whether o signs with the same key as s.
func (s *CloudFrontSigner) SameKey(o Signer) bool {
	c, ok := o.(*CloudFrontSigner)
	if !ok {
		return false
	}
	type equaler interface{ Equal(crypto.PrivateKey) bool }
	e, ok := s.key.(equaler)
	return ok && e.Equal(c.key)
}

// String describes the signer without its key.
func (s *CloudFrontSigner) String() string {
	return fmt.Sprintf("cloudfront key pair %q on %s", s.keyID, s.base)
}

// cfVerify checks a CloudFront signature over policy bytes with pub, for
// tests and signgate verify.
func cfVerify(pub crypto.PublicKey, policy, sig []byte, sha256Hash bool) error {
	var h crypto.Hash = crypto.SHA1
	var digest []byte
	if sha256Hash {
		s := sha256.Sum256(policy)
		digest, h = s[:], crypto.SHA256
	} else {
		s := sha1.Sum(policy)
		digest = s[:]
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if rsa.VerifyPKCS1v15(k, h, digest, sig) != nil {
			return ErrSignature
		}
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return ErrSignature
		}
	default:
		return fmt.Errorf("%w: %s public key, RSA or ECDSA required", ErrKey, keyKind(pub))
	}
	return nil
}

// CloudFrontVerify checks a CloudFront signature sig (decoded) over the
// policy bytes with public key pub (RSA or ECDSA), hashed with SHA-256
// when sha256Hash, else SHA-1. A bad signature wraps ErrSignature.
func CloudFrontVerify(pub crypto.PublicKey, policy, sig []byte, sha256Hash bool) error {
	return cfVerify(pub, policy, sig, sha256Hash)
}

// parseECPublic reads a PKIX ECDSA public key from PEM.
func parseECPublic(b []byte) (any, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%w: want a PEM RSA or ECDSA key", ErrKey)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: PKIX public key: %w", ErrKey, err)
	}
	if _, ok := k.(*ecdsa.PublicKey); !ok {
		return nil, fmt.Errorf("%w: %s public key, RSA or ECDSA required", ErrKey, keyKind(k))
	}
	return k, nil
}
