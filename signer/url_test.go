package signer_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/signgate/signgate/signer"
)

func TestBaseURL(t *testing.T) {
	const tok = "h.p.s"
	tests := []struct {
		name, base, path, query, want string
	}{
		{"qencode", signer.QencodeBase("bkt", "eu-central"), "/v/x.mp4", "",
			"https://bkt.media-storage.eu-central.qencode.com/v/x.mp4?auth=h.p.s"},
		{"custom with prefix", "https://cdn.example.com/media/", "/v/x.mp4", "",
			"https://cdn.example.com/media/v/x.mp4?auth=h.p.s"},
		{"query kept in order", "https://cdn.example.com", "/x", "b=2&a=1",
			"https://cdn.example.com/x?b=2&a=1&auth=h.p.s"},
		{"client auth dropped", "https://cdn.example.com", "/x", "auth=evil&a=1&auth=x&b",
			"https://cdn.example.com/x?a=1&b&auth=h.p.s"},
		{"escaped auth name dropped", "https://cdn.example.com", "/x", "%61uth=evil&a=1",
			"https://cdn.example.com/x?a=1&auth=h.p.s"},
		{"authx is not auth", "https://cdn.example.com", "/x", "authx=1&xauth=2",
			"https://cdn.example.com/x?authx=1&xauth=2&auth=h.p.s"},
		{"empty parts dropped", "https://cdn.example.com", "/x", "&a=1&&",
			"https://cdn.example.com/x?a=1&auth=h.p.s"},
		{"valid escapes kept byte for byte", "https://cdn.example.com", "/x", "q=a%20b+c&t=%E2%9C%93",
			"https://cdn.example.com/x?q=a%20b+c&t=%E2%9C%93&auth=h.p.s"},
		{"raw unsafe bytes re-escaped", "https://cdn.example.com", "/x", "q=a\"b<c>",
			"https://cdn.example.com/x?q=a%22b%3Cc%3E&auth=h.p.s"},
		{"path escaped", "https://cdn.example.com", "/v/a b/c?d#e/%.ts", "",
			"https://cdn.example.com/v/a%20b/c%3Fd%23e/%25.ts?auth=h.p.s"},
		{"unicode path", "https://cdn.example.com", "/v/café.mp4", "",
			"https://cdn.example.com/v/caf%C3%A9.mp4?auth=h.p.s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := signer.ParseBase(tt.base)
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.URL(tt.path, tt.query, tok)
			if err != nil || got != tt.want {
				t.Fatalf("URL = %q, %v\nwant  %q", got, err, tt.want)
			}
			// The CDN must see exactly the signed path.
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			p, err := signer.CanonicalPath(u.EscapedPath())
			if want := prefixOf(t, b) + tt.path; err != nil || p != want {
				t.Errorf("CDN sees path %q (%v), signed %q", p, err, tt.path)
			}
			if u.Query().Get("auth") != tok || len(u.Query()["auth"]) != 1 {
				t.Errorf("auth params = %q", u.Query()["auth"])
			}
		})
	}
}

func prefixOf(t *testing.T, b signer.Base) string {
	u, err := url.Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

func TestBaseURLBadQuery(t *testing.T) {
	b, _ := signer.ParseBase("https://cdn.example.com")
	if _, err := b.URL("/x", "a%zz=1", "t"); !errors.Is(err, signer.ErrQuery) {
		t.Fatalf("URL = %v, want ErrQuery", err)
	}
}

func TestParseBaseRejects(t *testing.T) {
	for _, in := range []string{
		"", "cdn.example.com", "ftp://cdn.example.com", "https://", "https://u:p@cdn.example.com",
		"https://cdn.example.com/?x=1", "https://cdn.example.com/#f", "https://cdn.example.com/a/../b",
		"https://cdn.example.com//x", "javascript:alert(1)", "//cdn.example.com",
	} {
		if b, err := signer.ParseBase(in); err == nil {
			t.Errorf("ParseBase(%q) = %q, want an error", in, b)
		}
	}
}

func TestZeroBaseBuildsRelativeURL(t *testing.T) {
	got, err := signer.Base{}.URL("/v/x.ts", "a=1", "t")
	if err != nil || got != "/v/x.ts?a=1&auth=t" {
		t.Fatalf("URL = %q, %v", got, err)
	}
}

func TestTokenFromQuery(t *testing.T) {
	for _, tc := range []struct {
		name, query, want string
		err               error
	}{
		{"none", "", "", nil},
		{"plain", "x=1&auth=tok&y=2", "tok", nil},
		{"escaped name", "a%75th=tok", "tok", nil},
		{"escaped value", "auth=t%2Bk", "t+k", nil},
		{"other parameter badly escaped", "x=%zz&auth=tok", "tok", nil},
		{"other name badly escaped", "%zz=1&auth=tok", "tok", nil},
		{"empty value", "auth=&x=1", "", nil},
		{"two", "auth=a&auth=b", "", signer.ErrMalformed},
		{"two spellings", "auth=a&%61uth=a", "", signer.ErrMalformed},
		{"empty and full", "auth=&auth=b", "", signer.ErrMalformed},
		{"value badly escaped", "auth=%zz", "", signer.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := signer.TokenFromQuery(tc.query)
			if got != tc.want || !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Errorf("TokenFromQuery(%q) = %q, %v; want %q, %v", tc.query, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestBaseOrigin(t *testing.T) {
	same := [][]string{
		{"https://cdn.example.com", "https://CDN.Example.COM", "https://cdn.example.com:443", "https://cdn.example.com.", "http://cdn.example.com", "http://cdn.example.com:80/"},
		{"http://127.0.0.1:8081", "http://127.0.0.1:8081/", "https://127.0.0.1:8081"},
		{"https://cdn.example.com/a%62", "https://cdn.example.com/ab/"},
		{"http://[::1]:9000", "http://[::1]:9000/", "http://[0:0:0:0:0:0:0:1]:9000", "http://[::1]:09000"},
		{"https://bücher.example", "https://xn--bcher-kva.example", "https://BÜCHER.example:", "https://bücher.example:0443"},
	}
	origins := map[string]int{}
	for i, group := range same {
		for _, s := range group {
			b, err := signer.ParseBase(s)
			if err != nil {
				t.Fatalf("ParseBase(%q): %v", s, err)
			}
			o := b.Origin()
			if j, seen := origins[o]; seen && j != i {
				t.Errorf("Origin(%q) = %q, also the origin of group %d", s, o, j)
			}
			origins[o] = i
		}
		first, _ := signer.ParseBase(group[0])
		for _, s := range group[1:] {
			b, _ := signer.ParseBase(s)
			if b.Origin() != first.Origin() {
				t.Errorf("Origin(%q) = %q, want %q (as %q)", s, b.Origin(), first.Origin(), group[0])
			}
		}
	}
	for _, pair := range [][2]string{
		{"https://cdn.example.com", "https://cdn.example.com:8443"},
		{"https://cdn.example.com/a", "https://cdn.example.com/b"},
		{"https://a.example.com", "https://b.example.com"},
	} {
		x, _ := signer.ParseBase(pair[0])
		y, _ := signer.ParseBase(pair[1])
		if x.Origin() == y.Origin() {
			t.Errorf("%q and %q share the origin %q", pair[0], pair[1], x.Origin())
		}
	}
}
