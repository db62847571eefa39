package signer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// S3 signs presigned GET URLs (SigV4) of Amazon S3 or any S3-compatible
// store such as MinIO, for buckets served without a CDN, with the AWS
// SDK's SigV4 signer (aws-sdk-go-v2/aws/signer/v4), building the request
// as the SDK's S3 presign client does for GetObject (without linking
// service/s3, which a cold build spends 10 s compiling). Settings:
// CDN_BASE (the endpoint with the bucket: https://host/BUCKET in path
// style, or https://BUCKET.host), KEY_ID (the access key id), KEY_FILE (a
// file holding the secret access key), S3_BUCKET and S3_REGION (default
// us-east-1).
//
// SigV4 signs the exact URL, so a grant is one file and the client's
// query is dropped; the dir and bucket scopes and the streaming modes are
// refused. The signing time is the start of the token's time step (exp
// less the TTL) and X-Amz-Expires the TTL, at most 7 days: so tokens are
// byte-identical within a step, as Qencode's are.
type S3 struct{}

var (
	_ Scheme = S3{}
	_ Signer = (*S3Signer)(nil)
)

// S3MaxTTL is the longest a SigV4 presigned URL may live.
const S3MaxTTL = 7 * 24 * time.Hour

const (
	s3Bucket = "S3_BUCKET"
	s3Region = "S3_REGION"
)

// Name implements Scheme.
func (S3) Name() string { return "s3" }

// Caps implements Scheme.
func (S3) Caps() Caps {
	return Caps{Exact: true, Rides: []string{"query"}, DropsQuery: true, MaxTTL: S3MaxTTL}
}

// Check implements Scheme.
func (c S3) Check(s Settings) error {
	errs := []error{CheckCaps(c.Name(), c.Caps(), s), CheckOptions(c.Name(), s, s3Bucket, s3Region)}
	if _, _, err := s3Endpoint(s); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// s3Endpoint returns the endpoint and path style of s's base.
func s3Endpoint(s Settings) (endpoint string, pathStyle bool, err error) {
	bucket := s.Options[s3Bucket]
	if bucket == "" {
		return "", false, settingErr(s3Bucket, nil, "required by scheme s3")
	}
	if s.Base.IsZero() {
		return "", false, settingErr("CDN_BASE", nil, "the S3 endpoint is required")
	}
	b := s.Base.String()
	root := strings.TrimSuffix(b, s.Base.PathPrefix())
	switch {
	case s.Base.PathPrefix() == "/"+bucket:
		return root, true, nil
	case s.Base.PathPrefix() == "" && strings.Contains(root, "://"+bucket+"."):
		return strings.Replace(root, "://"+bucket+".", "://", 1), false, nil
	}
	return "", false, settingErr("CDN_BASE", nil, "%s is neither https://host/%s (path style) nor https://%s.host", b, bucket, bucket)
}

// New implements Scheme.
func (c S3) New(s Settings) (Signer, error) {
	if err := c.Check(s); err != nil {
		return nil, err
	}
	if s.KeyID == "" {
		return nil, settingErr("KEY_ID", nil, "the access key id is required")
	}
	secret := string(bytes.TrimSpace(s.Key))
	if secret == "" || strings.ContainsAny(secret, "\r\n") {
		return nil, settingErr("KEY_FILE", ErrKey, "want one line, the secret access key")
	}
	region := s.Options[s3Region]
	if region == "" {
		region = "us-east-1"
	}
	ttl := s.TTL
	if ttl <= 0 || ttl > S3MaxTTL {
		return nil, settingErr("TTL", nil, "%s: a presigned URL lives 1s to 7 days", ttl)
	}
	creds := aws.Credentials{AccessKeyID: s.KeyID, SecretAccessKey: secret}
	return &S3Signer{keyID: s.KeyID, bucket: s.Options[s3Bucket], region: region, ttl: ttl,
		base: s.Base.String(), creds: creds, v4: v4.NewSigner()}, nil
}

// S3Signer is the s3 scheme's Signer.
type S3Signer struct {
	keyID, bucket, region string
	base                  string // the endpoint with the bucket, in either style
	ttl                   time.Duration
	creds                 aws.Credentials
	v4                    *v4.Signer
}

// s3UnsignedPayload is the payload hash of a presigned S3 URL.
const s3UnsignedPayload = "UNSIGNED-PAYLOAD"

// Mint implements Signer: the whole presigned URL, as the one parameter
// "url" (SigV4 signs its path and query as written). The request is the
// S3 presign client's GetObject: the key escaped once as a greedy path
// label (every byte but A-Z a-z 0-9 - . _ ~ and /), x-id=GetObject, and
// X-Amz-Expires, on CDN_BASE as written (https://host/BUCKET or
// https://BUCKET.host, which Check allows), signed with the payload
// UNSIGNED-PAYLOAD and no further URI escaping, as S3 wants.
func (s *S3Signer) Mint(g Grant, exp time.Time) (Token, error) {
	if err := grantOf("s3", S3{}.Caps(), g); err != nil {
		return Token{}, err
	}
	if exp.IsZero() {
		return Token{}, errors.New("signer: a presigned URL needs an expiry")
	}
	at := exp.Add(-s.ttl)
	u := s.base + "/" + s3EscapePath(strings.TrimPrefix(g.Path, "/")) +
		"?X-Amz-Expires=" + strconv.FormatInt(int64(s.ttl/time.Second), 10) + "&x-id=GetObject"
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return Token{}, fmt.Errorf("signer: presign with access key %q: %w", s.keyID, err)
	}
	signed, _, err := s.v4.PresignHTTP(context.Background(), s.creds, req, s3UnsignedPayload, "s3", s.region, at,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		return Token{}, fmt.Errorf("signer: presign with access key %q: %w", s.keyID, err)
	}
	return Token{Params: []Param{{Name: "url", Value: signed}}}, nil
}

// s3EscapePath escapes p as the SDK escapes an S3 key (smithy-go's
// httpbinding.EscapePath with the separator kept): every byte but the
// unreserved A-Z a-z 0-9 - . _ ~, and /, as %XX in upper case.
func s3EscapePath(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// URL implements Signer: the presigned URL of p; the client's query is
// dropped.
func (s *S3Signer) URL(p, _ string, tok Token) (string, error) {
	return tok.Get("url"), nil
}

// Cookies implements Signer: S3 has none.
func (s *S3Signer) Cookies(Token) ([]http.Cookie, error) {
	return nil, fmt.Errorf("%w: s3 presigned URLs ride in the query only", ErrNoCookies)
}

// KeyID implements Signer.
func (s *S3Signer) KeyID() string { return s.keyID }

// String describes the signer without its secret.
func (s *S3Signer) String() string {
	return fmt.Sprintf("s3 access key %q, bucket %q", s.keyID, s.bucket)
}
