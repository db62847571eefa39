package signer_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

func s3Signer(t testing.TB, base string, ttl time.Duration) signer.Signer {
	t.Helper()
	b, err := signer.ParseBase(base)
	if err != nil {
		t.Fatal(err)
	}
	s, err := signer.S3{}.New(signer.Settings{
		Base: b, KeyID: "AKIAIOSFODNN7EXAMPLE", Key: []byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"),
		TTL: ttl, Options: map[string]string{"S3_BUCKET": "media", "S3_REGION": "eu-west-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestS3MatchesMinIO compares presigned GET URLs with MinIO's own SigV4
// presigner, npm minio (Client.presignedGetObject with a request date,
// run by node), over generated object keys, times and lifetimes, path
// style and virtual-hosted style: the same path, and the same query
// parameters byte for byte, X-Amz-Signature among them. The AWS SDK
// signs an x-id=GetObject parameter too, which MinIO's presigner is
// given as a request parameter so that both sign the same request.
func TestS3MatchesMinIO(t *testing.T) {
	o := newOracle(t, "minio")
	r := rand.New(rand.NewPCG(14, 3))
	for i := range 60 {
		ttl := time.Duration(2+r.IntN(7*24*3600-2)) * time.Second
		pathStyle := i%2 == 0
		base := "http://127.0.0.1:9000/media"
		if !pathStyle {
			base = "http://media.s3.example.test:9000"
		}
		p := randPath(r)
		exp := time.Unix(1_800_000_000+r.Int64N(1e8), 0)
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			s := s3Signer(t, base, ttl)
			tok, err := s.Mint(signer.Grant{Path: p}, exp)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.URL(p, "x=1", tok)
			if err != nil {
				t.Fatal(err)
			}
			host := "127.0.0.1"
			if !pathStyle {
				host = "s3.example.test"
			}
			var a struct{ URL string }
			o.ask(map[string]any{
				"kind": "s3", "endPoint": host, "port": 9000, "useSSL": false, "pathStyle": pathStyle,
				"accessKey": "AKIAIOSFODNN7EXAMPLE", "secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
				"region": "eu-west-1", "bucket": "media", "object": strings.TrimPrefix(p, "/"),
				"expires": int(ttl / time.Second), "requestDate": exp.Add(-ttl).UTC().Format(time.RFC3339),
				"params": map[string]string{"x-id": "GetObject"},
			}, &a)
			gu, _ := url.Parse(got)
			wu, _ := url.Parse(a.URL)
			if gu.Host != wu.Host || gu.EscapedPath() != wu.EscapedPath() {
				t.Fatalf("URL\n got %s\nwant %s", got, a.URL)
			}
			gq, wq := gu.Query(), wu.Query()
			if len(gq) != len(wq) {
				t.Fatalf("query\n got %v\nwant %v", gq, wq)
			}
			for k := range wq {
				if gq.Get(k) != wq.Get(k) {
					t.Errorf("%s: got %q, want %q", k, gq.Get(k), wq.Get(k))
				}
			}
		})
	}
}

func TestS3Refuses(t *testing.T) {
	b, _ := signer.ParseBase("http://127.0.0.1:9000/media")
	for name, tc := range map[string]struct {
		st      signer.Settings
		setting string
	}{
		"dir":          {signer.Settings{Base: b, Scope: signer.ScopeDir, TTL: time.Hour, Options: map[string]string{"S3_BUCKET": "media"}}, "SCOPE"},
		"cookie mode":  {signer.Settings{Base: b, Streaming: "cookie", TTL: time.Hour, Options: map[string]string{"S3_BUCKET": "media"}}, "STREAMING"},
		"eight days":   {signer.Settings{Base: b, TTL: 8 * 24 * time.Hour, Options: map[string]string{"S3_BUCKET": "media"}}, "TTL"},
		"no bucket":    {signer.Settings{Base: b, TTL: time.Hour}, "S3_BUCKET"},
		"other bucket": {signer.Settings{Base: b, TTL: time.Hour, Options: map[string]string{"S3_BUCKET": "other"}}, "CDN_BASE"},
	} {
		t.Run(name, func(t *testing.T) {
			err := signer.S3{}.Check(tc.st)
			var se *signer.SettingError
			if !errors.As(err, &se) || se.Setting != tc.setting {
				t.Errorf("Check: %v, want a SettingError naming %s", err, tc.setting)
			}
		})
	}
	s := s3Signer(t, "http://127.0.0.1:9000/media", time.Hour)
	if _, err := s.Mint(signer.Grant{Path: "/v", Prefix: true}, time.Unix(1_900_000_000, 0)); !errors.Is(err, signer.ErrSchemeScope) {
		t.Errorf("minted a prefix grant: %v", err)
	}
	// Byte-identical within a time step.
	a, _ := s.Mint(signer.Grant{Path: "/v/a.mp4"}, time.Unix(1_900_000_000, 0))
	b2, _ := s.Mint(signer.Grant{Path: "/v/a.mp4"}, time.Unix(1_900_000_000, 0))
	if a.Get("url") != b2.Get("url") {
		t.Errorf("two mints differ:\n%s\n%s", a.Get("url"), b2.Get("url"))
	}
}
