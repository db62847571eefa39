package signer_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// benchSchemes are the schemes' signers for BenchmarkScheme.
func benchSchemes(b *testing.B) map[string]struct {
	s  signer.Signer
	ck signer.Checker // nil: no public-key check here
	g  signer.Grant
} {
	read := func(name string) []byte {
		d, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	cdn, _ := signer.ParseBase("https://d111111abcdef8.cloudfront.net")
	minio, _ := signer.ParseBase("http://127.0.0.1:9000/media")
	edPEM := read("ed25519.pem")
	out := map[string]struct {
		s  signer.Signer
		ck signer.Checker
		g  signer.Grant
	}{}
	add := func(name string, sch signer.Scheme, st signer.Settings, pub []byte, g signer.Grant) {
		st.TTL = time.Hour
		s, err := sch.New(st)
		if err != nil {
			b.Fatal(err)
		}
		var ck signer.Checker
		if vs, ok := sch.(signer.VerifyingScheme); ok && pub != nil {
			if ck, err = vs.NewChecker(signer.Settings{Base: st.Base, KeyID: st.KeyID, Key: pub}); err != nil {
				b.Fatal(err)
			}
		}
		out[name] = struct {
			s  signer.Signer
			ck signer.Checker
			g  signer.Grant
		}{s, ck, g}
	}
	file := signer.Grant{Path: "/v/abc/seg0.ts"}
	dir := signer.Grant{Path: "/v/abc", Prefix: true}
	add("qencode", signer.Qencode{}, signer.Settings{Base: cdn, KeyID: "k1", Key: read("rsa2048.pem")}, read("rsa2048-pub.pem"), dir)
	add("ed25519", signer.Ed25519{}, signer.Settings{Base: cdn, KeyID: "k1", Key: edPEM}, edPEM, dir)
	add("cloudfront-canned-rsa", signer.CloudFront{}, signer.Settings{Base: cdn, KeyID: "K1", Key: read("rsa2048.pem")}, read("rsa2048-pub.pem"), file)
	add("cloudfront-custom-rsa", signer.CloudFront{}, signer.Settings{Base: cdn, KeyID: "K1", Key: read("rsa2048.pem"), Scope: signer.ScopeDir}, read("rsa2048-pub.pem"), dir)
	add("cloudfront-custom-ecdsa", signer.CloudFront{}, signer.Settings{Base: cdn, KeyID: "K1", Key: read("ec.pem"), Scope: signer.ScopeDir}, read("ec-pub.pem"), dir)
	add("s3", signer.S3{}, signer.Settings{Base: minio, KeyID: "AK", Key: []byte("secret"), Options: map[string]string{"S3_BUCKET": "media"}}, nil, file)
	return out
}

// BenchmarkScheme measures, per scheme, a Mint (what a token-cache miss
// costs), placing a cached token into a URL (what a hit costs beside the
// lookup), and a verify with the scheme's public-key Checker.
func BenchmarkScheme(b *testing.B) {
	exp := time.Unix(1_900_000_000, 0)
	for name, sc := range benchSchemes(b) {
		b.Run(name+"/mint", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sc.s.Mint(sc.g, exp); err != nil {
					b.Fatal(err)
				}
			}
		})
		tok, err := sc.s.Mint(sc.g, exp)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/url", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sc.s.URL("/v/abc/seg0.ts", "a=1", tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		if sc.ck == nil {
			continue
		}
		u, _ := sc.s.URL("/v/abc/seg0.ts", "", tok)
		q := u[indexQ(u)+1:]
		req := signer.Request{Path: "/v/abc/seg0.ts", RawQuery: q, Now: exp.Add(-time.Minute)}
		b.Run(name+"/verify", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sc.ck.Check(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func indexQ(u string) int {
	for i := range len(u) {
		if u[i] == '?' {
			return i
		}
	}
	return len(u)
}
