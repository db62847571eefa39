package signer_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// FuzzVerifyArbitrary: no string but a real token verifies, and every
// refusal carries a specific reason.
func FuzzVerifyArbitrary(f *testing.F) {
	fx := newFixture(f)
	good := fx.sign(f, signer.Claims{URI: "/v"})
	for _, s := range []string{"", "a.b.c", "eyJ.eyJ.", good[:len(good)-1], good + "x", strings.ToUpper(good),
		"eyJhbGciOiJub25lIiwia2lkIjoiazEifQ.e30.", good[:strings.IndexByte(good, '.')] + ".e30." + good[strings.LastIndexByte(good, '.')+1:]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if tok == good {
			return
		}
		c, err := fx.v.Verify(tok, "/v/x.ts")
		if err == nil {
			t.Fatalf("arbitrary token verified: %q -> %+v", tok, c)
		}
		if r := signer.Reason(err); r == "invalid_token" {
			t.Fatalf("refusal without a specific reason: %v", err)
		}
	})
}

// FuzzSignVerify: for any canonical path, a token signed for it (or its
// directory) verifies for it, and a file token does not cover a sibling.
func FuzzSignVerify(f *testing.F) {
	fx := newFixture(f)
	for _, s := range []string{"/v/x.ts", "/a%20b/c", "/x", "/v/abc/..x", "/%E2%9C%93/1.m4s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := signer.CanonicalPath(raw)
		if err != nil {
			return
		}
		for _, scope := range []signer.Scope{signer.ScopeFile, signer.ScopeDir, signer.ScopeBucket} {
			tok, err := fx.key.Sign(signer.Claims{URI: scope.URI(p), Expires: fx.now.Add(time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fx.v.Verify(tok, p); err != nil {
				t.Fatalf("%s token for %q: %v", scope, p, err)
			}
		}
		tok, _ := fx.key.Sign(signer.Claims{URI: p})
		if _, err := fx.v.Verify(tok, p+"x"); err == nil && p != "/" {
			t.Fatalf("file token for %q covers %q", p, p+"x")
		}
	})
}

// FuzzFlipByte: changing any one byte of a valid token makes it fail.
func FuzzFlipByte(f *testing.F) {
	fx := newFixture(f)
	tok := fx.sign(f, signer.Claims{URI: "/v", Expires: fx.now.Add(time.Hour)})
	f.Add(uint16(0), byte(1))
	f.Add(uint16(len(tok)-1), byte(1))
	f.Add(uint16(strings.IndexByte(tok, '.')), byte(2))
	f.Fuzz(func(t *testing.T, pos uint16, x byte) {
		if x == 0 {
			return
		}
		b := []byte(tok)
		i := int(pos) % len(b)
		b[i] ^= x
		if _, err := fx.v.Verify(string(b), "/v/1.ts"); err == nil {
			t.Fatalf("token with byte %d changed (^%#x) still verifies", i, x)
		}
	})
}

// FuzzCanonicalPath: canonicalisation is idempotent through escaping, and
// never yields an empty, "." or ".." segment, a backslash or a NUL.
func FuzzCanonicalPath(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "/a/%2e%2e/b", "/a%2fb", "/%252e", "/a b", "/%C3%A9", "/a/./b", "/a//b", "/\\x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := signer.CanonicalPath(in)
		if err != nil {
			return
		}
		if p == "/" {
			return
		}
		for _, seg := range strings.Split(p[1:], "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("CanonicalPath(%q) = %q has segment %q", in, p, seg)
			}
		}
		if strings.ContainsAny(p, "\\\x00") {
			t.Fatalf("CanonicalPath(%q) = %q", in, p)
		}
		again, err := signer.CanonicalPath(signer.EscapePath(p))
		if err != nil || again != p {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", in, p, again, err)
		}
		u, err := url.Parse("https://cdn.example.com" + signer.EscapePath(p))
		if err != nil || u.Path != p {
			t.Fatalf("escaped %q does not parse back: %v, %q", p, err, u)
		}
	})
}

// FuzzBaseURL: whatever the client's query, the signed URL holds exactly
// one auth parameter, ours, and the other parameters survive in order.
func FuzzBaseURL(f *testing.F) {
	b, _ := signer.ParseBase("https://cdn.example.com/pre")
	for _, s := range []string{"", "a=1", "auth=x", "%61uth=x&b=2", "a=%zz", "a=b c", "&&", "x=1;auth=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		got, err := b.URL("/v/x.ts", q, "T.O.K")
		if err != nil {
			return
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("URL %q does not parse: %v", got, err)
		}
		if u.Host != "cdn.example.com" || u.Path != "/pre/v/x.ts" {
			t.Fatalf("URL %q: host or path changed", got)
		}
		vals, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			t.Fatalf("URL %q: query does not parse: %v", got, err)
		}
		if a := vals["auth"]; len(a) != 1 || a[0] != "T.O.K" {
			t.Fatalf("URL %q: auth = %q", got, a)
		}
		in, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		delete(in, "auth")
		delete(vals, "auth")
		if in.Encode() != vals.Encode() {
			t.Fatalf("query %q became %q", q, u.RawQuery)
		}
	})
}
