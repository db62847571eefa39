package signer_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/signgate/signgate/signer"
)

// TestVerifyNonCanonicalPath: Verify refuses a path that is not canonical
// with ErrPath, even under a whole-bucket token; Covers never covers one.
func TestVerifyNonCanonicalPath(t *testing.T) {
	f := newFixture(t)
	dir := f.sign(t, signer.Claims{URI: "/v/abc"})
	all := f.sign(t, signer.Claims{URI: ""})
	for _, p := range []string{"/v/abc/../secret/x", "/v/abc/./x", "/v/abc//x", "/v/abc/x/", "v/abc/x", "", "/v/abc/\x00", "/v/abc\\x", "/v/abc/\xff"} {
		t.Run(p, func(t *testing.T) {
			for _, tok := range []string{dir, all} {
				if _, err := f.v.Verify(tok, p); !errors.Is(err, signer.ErrPath) {
					t.Fatalf("Verify(%q) = %v, want %v", p, err, signer.ErrPath)
				}
			}
			for _, uri := range []string{"/v/abc", "", "/"} {
				if signer.Covers(uri, p) {
					t.Errorf("Covers(%q, %q) = true", uri, p)
				}
			}
		})
	}
	if !signer.Covers("/v/abc", "/v/abc/x") || !signer.Covers("", "/") {
		t.Fatal("Covers refuses canonical paths")
	}
}

// FuzzCovers: Covers(uri, p) implies that p is canonical and that p is
// uri or lies below it at a "/" boundary, both judged segment by segment
// here, apart from signer's own code.
func FuzzCovers(f *testing.F) {
	for _, s := range [][2]string{
		{"/v/abc", "/v/abc/../secret/x"}, {"/v/abc", "/v/abc"}, {"/v/abc", "/v/abcdef"}, {"v/abc/", "/v/abc/x.ts"},
		{"", "/x/./y"}, {"/", "/"}, {"/v", "/v//x"}, {"/v", "/v/x/"}, {"/v", "/v/\x00"}, {"/v/..", "/x"}, {"//", "/x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, uri, p string) {
		if !signer.Covers(uri, p) {
			return
		}
		segs, ok := refSegments(p)
		if !ok {
			t.Fatalf("Covers(%q, %q) with a non-canonical path", uri, p)
		}
		u := strings.TrimPrefix(uri, "/")
		u = strings.TrimSuffix(u, "/")
		if u == "" {
			return // the whole bucket
		}
		want := strings.Split(u, "/")
		if len(want) > len(segs) {
			t.Fatalf("Covers(%q, %q): the path is above the uri", uri, p)
		}
		for i, w := range want {
			if segs[i] != w {
				t.Fatalf("Covers(%q, %q): segment %d is %q, the uri has %q", uri, p, i, segs[i], w)
			}
		}
	})
}

// refSegments splits a decoded path into its segments and reports whether
// it is canonical: "/" alone, or "/" followed by non-empty segments that
// are not "." or "..", in valid UTF-8 without control characters or
// backslashes.
func refSegments(p string) ([]string, bool) {
	if p == "/" {
		return nil, true
	}
	if !strings.HasPrefix(p, "/") || !utf8.ValidString(p) || strings.ContainsRune(p, '\\') {
		return nil, false
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return nil, false
		}
	}
	segs := strings.Split(p[1:], "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return nil, false
		}
	}
	return segs, true
}
