package signer_test

import (
	"fmt"
	"os"
	"time"

	"github.com/signgate/signgate/signer"
)

// A gateway signs a media path and builds the CDN URL; the edge verifies
// it for the path it is asked for.
func Example() {
	pemBytes, _ := os.ReadFile("testdata/rsa2048.pem")
	priv, err := signer.ParsePrivateKey(pemBytes)
	if err != nil {
		fmt.Println(err)
		return
	}
	key := &signer.SigningKey{ID: "k1", Bucket: "media", Key: priv}

	// Sign the directory holding the file, so every HLS segment beside it
	// verifies with the same token.
	p, _ := signer.CanonicalPath("/videos/intro/index.m3u8")
	tok, _ := key.Sign(signer.Claims{URI: signer.ScopeDir.URI(p), Expires: time.Unix(1800003600, 0)})
	base, _ := signer.ParseBase(signer.QencodeBase("media", "eu-central"))
	u, _ := base.URL(p, "lang=en&auth=stale", tok)
	fmt.Println(u[:len(u)-len(tok)] + "…")

	v := signer.NewVerifier(signer.NewKeys(key.Public()))
	v.Bucket = "media"
	v.Now = func() time.Time { return time.Unix(1800000000, 0) }
	c, err := v.Verify(tok, "/videos/intro/seg-001.ts")
	fmt.Println(c.URI, err)
	_, err = v.Verify(tok, "/videos/intro2/seg-001.ts")
	fmt.Println(signer.Reason(err))
	// Output:
	// https://media.media-storage.eu-central.qencode.com/videos/intro/index.m3u8?lang=en&auth=…
	// /videos/intro <nil>
	// out_of_scope
}

func ExampleCanonicalPath() {
	for _, raw := range []string{"/v/a%20b/x.ts", "/v/../etc/passwd", "/v%2fx", "/v//x"} {
		p, err := signer.CanonicalPath(raw)
		fmt.Printf("%q %v\n", p, err)
	}
	// Output:
	// "/v/a b/x.ts" <nil>
	// "" path is not canonical: dot segment
	// "" path is not canonical: encoded /
	// "" path is not canonical: empty segment
}

func ExampleCovers() {
	fmt.Println(signer.Covers("/v/abc", "/v/abc/x.ts"))
	fmt.Println(signer.Covers("/v/abc", "/v/abcdef"))
	fmt.Println(signer.Covers("", "/anything"))
	// Output:
	// true
	// false
	// true
}

func ExampleReason() {
	v := signer.NewVerifier(signer.Keys{})
	_, err := v.Verify("", "/x")
	fmt.Println(signer.Reason(err))
	_, err = v.Verify("not.a.jwt", "/x")
	fmt.Println(signer.Reason(err))
	// Output:
	// token_missing
	// token_malformed
}
