package signer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3 signs presigned GET URLs (SigV4) of Amazon S3 or any S3-compatible
// store such as MinIO, for buckets served without a CDN, through
// aws-sdk-go-v2/service/s3's presign client. Settings: CDN_BASE (the
// endpoint with the bucket: https://host/BUCKET in path style, or
// https://BUCKET.host), KEY_ID (the access key id), KEY_FILE (a file
// holding the secret access key), S3_BUCKET and S3_REGION (default
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
	endpoint, pathStyle, _ := s3Endpoint(s)
	region := s.Options[s3Region]
	if region == "" {
		region = "us-east-1"
	}
	ttl := s.TTL
	if ttl <= 0 || ttl > S3MaxTTL {
		return nil, settingErr("TTL", nil, "%s: a presigned URL lives 1s to 7 days", ttl)
	}
	client := s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: pathStyle,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: s.KeyID, SecretAccessKey: secret}, nil
		}),
	})
	return &S3Signer{keyID: s.KeyID, bucket: s.Options[s3Bucket], ttl: ttl, presign: s3.NewPresignClient(client)}, nil
}

// S3Signer is the s3 scheme's Signer.
type S3Signer struct {
	keyID, bucket string
	ttl           time.Duration
	presign       *s3.PresignClient
}

// Mint implements Signer: the whole presigned URL, as the one parameter
// "url" (SigV4 signs its path and query as written).
func (s *S3Signer) Mint(g Grant, exp time.Time) (Token, error) {
	if err := grantOf("s3", S3{}.Caps(), g); err != nil {
		return Token{}, err
	}
	if exp.IsZero() {
		return Token{}, errors.New("signer: a presigned URL needs an expiry")
	}
	at := exp.Add(-s.ttl)
	req, err := s.presign.PresignGetObject(context.Background(), &s3.GetObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(strings.TrimPrefix(g.Path, "/")),
	}, s3.WithPresignExpires(s.ttl), func(o *s3.PresignOptions) {
		// As the client's own presigner: S3 signs the path escaped once.
		o.Presigner = fixedTime{v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }), at}
	})
	if err != nil {
		return Token{}, fmt.Errorf("signer: presign with access key %q: %w", s.keyID, err)
	}
	return Token{Params: []Param{{Name: "url", Value: req.URL}}}, nil
}

// fixedTime presigns at a given time rather than now.
type fixedTime struct {
	s  *v4.Signer
	at time.Time
}

func (f fixedTime) PresignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, opts ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return f.s.PresignHTTP(ctx, c, r, payloadHash, service, region, f.at, opts...)
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
