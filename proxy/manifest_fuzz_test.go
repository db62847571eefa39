package proxy

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/signgate/signgate/internal/manifest"
	"github.com/signgate/signgate/signer"
)

// FuzzRewriteURI feeds arbitrary URIs of a manifest at /media/v/abc/ to
// the rewriter of a gateway whose route /media (on a CDN with a base
// path) holds a more restricted route, /media/premium. The oracle is the
// security contract of manifest mode:
//
//   - a refused URI is refused with a manifest error, never anything else;
//   - a URI on another host comes back unchanged, without a token;
//   - a child playlist becomes a root-relative path ("/x", never "//x")
//     that the gateway routes to this very route, without a token;
//   - anything else becomes a URL on the CDN whose one token grants the
//     path signed, and nothing outside the route or inside another route.
func FuzzRewriteURI(f *testing.F) {
	for _, s := range []string{
		"seg.ts", "../x/seg.ts", "/media/v/seg.ts?a=1&auth=x", "//evil.example/x", "/\\evil",
		"https://other.example/a.ts", "../../premium/x.ts", "../../../x.ts", "a%2Fb.ts", "seg%20 1.ts#f",
		"$RepresentationID$/seg-$Number%05d$.m4s", "video/", "./", "..", "%2e%2e/x", "a;b/c.ts", "?q",
	} {
		for k := range 3 {
			f.Add(s, uint8(k))
		}
	}
	fx, _ := streamFixture(f, "manifest", map[string]string{
		"SIGNGATE_ROUTES_0_CDN_BASE":  "https://cdn.example.com/base",
		"SIGNGATE_ROUTES_1_PREFIX":    "/media/premium",
		"SIGNGATE_ROUTES_1_CDN_BASE":  "https://cdn.example.com/base",
		"SIGNGATE_ROUTES_1_KEY_FILE":  "testdata/key1.pem",
		"SIGNGATE_ROUTES_1_KEY_ID":    "key1",
		"SIGNGATE_ROUTES_1_REQUIRE":   "plan=premium",
		"SIGNGATE_ROUTES_1_STREAMING": "manifest",
	})
	g := fx.gw
	rt := g.routes.match("/media/v")
	if rt == nil || rt.prefix != "/media" {
		f.Fatal("no route /media")
	}
	cdn, _ := url.Parse("https://cdn.example.com/base")
	base, _ := url.Parse("https://cdn.example.com/base/media/v/abc/index.m3u8")
	v := signer.NewVerifier(signer.Keys{fx.key.ID: fx.key.Public()})
	v.Now = fx.clock.Now
	f.Fuzz(func(t *testing.T, s string, k uint8) {
		kind := manifest.Kind(k % 3)
		ref, err := url.Parse(s)
		if err != nil {
			return
		}
		abs := base.ResolveReference(ref)
		m := &rewriter{g: g, rt: rt, signer: rt.currentSigner(), scope: signer.Grant{Path: "/media/v/abc", Prefix: true}, tokens: map[signer.Grant]signer.Token{}, budget: 1 << 20}
		out, err := m.rewrite(abs, kind)
		if err != nil {
			if !errors.Is(err, ErrManifestURI) {
				t.Fatalf("%q (%s): error %v is not a manifest error", s, kind, err)
			}
			return
		}
		if !sameOrigin(abs, cdn) {
			if out != abs.String() {
				t.Fatalf("foreign %q rewritten to %q", abs, out)
			}
			return
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("%q: output %q does not parse: %v", s, out, err)
		}
		if kind == manifest.Playlist {
			if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.HasPrefix(out, "/\\") || u.Host != "" {
				t.Fatalf("%q: child playlist %q is not a root-relative path", s, out)
			}
			p, err := signer.CanonicalPath(u.EscapedPath())
			if err != nil || g.routes.match(p) != rt {
				t.Fatalf("%q: child playlist %q leaves the route (%v)", s, out, err)
			}
			if u.Query().Has("auth") {
				t.Fatalf("%q: child playlist %q carries a token", s, out)
			}
			return
		}
		if !sameOrigin(u, cdn) || !strings.HasPrefix(u.EscapedPath(), "/base/") && u.EscapedPath() != "/base" {
			t.Fatalf("%q: %q is not on the CDN", s, out)
		}
		toks := u.Query()["auth"]
		if len(toks) != 1 {
			t.Fatalf("%q: %q has %d tokens", s, out, len(toks))
		}
		c, err := v.Parse(toks[0])
		if err != nil {
			t.Fatalf("%q: token does not verify: %v", s, err)
		}
		signed := strings.TrimPrefix(u.EscapedPath(), "/base")
		if kind == manifest.Template || strings.HasSuffix(signed, "/") {
			cut := len(signed)
			if i := strings.IndexByte(signed, '$'); i >= 0 && kind == manifest.Template {
				cut = i
			}
			signed = signed[:strings.LastIndexByte(signed[:cut], '/')]
		}
		p := "/"
		if signed != "" {
			if p, err = signer.CanonicalPath(signed); err != nil {
				t.Fatalf("%q: signed path of %q is not canonical: %v", s, out, err)
			}
		}
		if !signer.Covers(c.URI, p) {
			t.Fatalf("%q: token for %q does not grant %s", s, c.URI, p)
		}
		if !claimFits(rt, g.routes, c.URI) {
			t.Fatalf("%q: token for %q reaches past the route", s, c.URI)
		}
	})
}
