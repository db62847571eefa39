package signer_test

import (
	"fmt"
	"time"

	"github.com/signgate/signgate/signer"
)

// A Cloud CDN signed URL, with the key of Google's samples.
func ExampleCloudCDNKey_SignURL() {
	k, err := signer.NewCloudCDNKey("my-key", "nZtRohdNF9m3cKM24IcK4w==")
	if err != nil {
		panic(err)
	}
	fmt.Println(k.SignURL("http://35.186.234.33/index.html", time.Unix(1558131350, 0)))
	// Output: http://35.186.234.33/index.html?Expires=1558131350&KeyName=my-key&Signature=fm6JZSmKNsB5sys8VGr-JE4LiiE=
}

// An Akamai EdgeAuth token for a directory and everything below it.
func ExampleEdgeAuth_ACLToken() {
	e, err := signer.NewEdgeAuth("abcd", "sha256")
	if err != nil {
		panic(err)
	}
	tok, err := e.ACLToken([]string{"/v/*", "/x/*"}, signer.EdgeAuthToken{End: time.Unix(1700000000, 0)})
	if err != nil {
		panic(err)
	}
	fmt.Println(tok)
	// Output: exp=1700000000~acl=/v/*!/x/*~hmac=611007ca748adec65465299d22bfc49224da251aaa626c23aacde88155bd0b17
}

// A Bunny token for a directory, in the path form that relative URLs in
// a manifest keep (Bunny's published vector "DirectoryAndPathAllowed").
func ExampleBunnySign() {
	ps, err := signer.BunnySign(signer.BunnyAdvanced, signer.Secret("SecurityKey"),
		signer.BunnyToken{Path: "/abc/", TokenPath: "/abc", Expires: time.Unix(1598024587, 0)})
	if err != nil {
		panic(err)
	}
	fmt.Println(signer.BunnyURL("https://token-tester.b-cdn.net", "/abc/", ps, true))
	// Output: https://token-tester.b-cdn.net/bcdn_token=xwPaUzEMSgOZ7yl86K55G7len9n1UMiuP36IAyw8Mjs&token_path=%2Fabc&expires=1598024587/abc/
}
