package proxy

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"
)

// authCookie returns the Qencode-Auth-Token cookie of resp, or nil.
func authCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == CookieName {
			return c
		}
	}
	return nil
}

func TestStreamCookieAttributes(t *testing.T) {
	f := newFixture(t, map[string]string{
		"SIGNGATE_ROUTES_0_CDN_BASE":      "https://cdn.example.com/base",
		"SIGNGATE_ROUTES_0_STREAMING":     "cookie",
		"SIGNGATE_ROUTES_0_COOKIE_DOMAIN": ".example.com",
		"SIGNGATE_ROUTES_0_TTL":           "2h",
	})
	resp := f.get("/media/hls/master.m3u8", nil)
	if resp.StatusCode != 302 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	// The redirect itself is as without cookie mode: the route's scope.
	if tok := location(t, resp).Query().Get("auth"); claimsOf(t, f, tok).URI != "/media/hls/master.m3u8" {
		t.Errorf("redirect token scope changed")
	}
	c := authCookie(resp)
	if c == nil {
		t.Fatalf("no %s cookie: %v", CookieName, resp.Header["Set-Cookie"])
	}
	cl := claimsOf(t, f, c.Value)
	if cl.URI != "/media/hls" {
		t.Errorf("cookie token uri %q, want the directory /media/hls", cl.URI)
	}
	if c.Path != "/base/media/hls" || c.Domain != "example.com" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie %+v: want Path=/base/media/hls Domain=example.com Secure HttpOnly SameSite=Lax", c)
	}
	if !c.Expires.Equal(cl.Expires) {
		t.Errorf("Expires %s, token exp %s", c.Expires, cl.Expires)
	}
	if want := int(cl.Expires.Sub(f.clock.Now()) / time.Second); c.MaxAge != want {
		t.Errorf("Max-Age %d, want %d", c.MaxAge, want)
	}

	// A cookie jar (RFC 6265, as browsers) sends it to the CDN for the
	// directory and below, and nowhere else.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	gw, _ := url.Parse("https://media.example.com/media/hls/master.m3u8")
	jar.SetCookies(gw, resp.Cookies())
	for _, tc := range []struct {
		u    string
		sent bool
	}{
		{"https://cdn.example.com/base/media/hls/360p/seg-000.ts", true},
		{"https://cdn.example.com/base/media/hls/master.m3u8", true},
		{"https://cdn.example.com/base/media/hlsx/seg.ts", false},
		{"https://cdn.example.com/base/media/other/seg.ts", false},
		{"http://cdn.example.com/base/media/hls/seg.ts", false}, // Secure
		{"https://cdn.example.org/base/media/hls/seg.ts", false},
	} {
		u, _ := url.Parse(tc.u)
		sent := false
		for _, k := range jar.Cookies(u) {
			sent = sent || k.Name == CookieName && k.Value == c.Value
		}
		if sent != tc.sent {
			t.Errorf("%s: cookie sent %v, want %v", tc.u, sent, tc.sent)
		}
	}
}

func TestStreamCookieHostOnlyAndStripPrefix(t *testing.T) {
	f := newFixture(t, map[string]string{
		"SIGNGATE_ROUTES_0_STREAMING":    "cookie",
		"SIGNGATE_ROUTES_0_STRIP_PREFIX": "true",
	})
	for _, tc := range []struct{ path, wantPath, wantURI string }{
		{"/media/v/abc/clip.mp4", "/v/abc", "/v/abc"},
		{"/media/top.m3u8", "/", ""}, // the bucket root: the whole bucket, which is all this route serves
	} {
		resp := f.get(tc.path, nil)
		c := authCookie(resp)
		if resp.StatusCode != 302 || c == nil {
			t.Fatalf("%s: status %d, cookie %v", tc.path, resp.StatusCode, c)
		}
		if c.Path != tc.wantPath || c.Domain != "" || c.Secure || !c.HttpOnly {
			t.Errorf("%s: cookie %+v: want host-only, Path=%s, not Secure on an http CDN", tc.path, c, tc.wantPath)
		}
		if uri := claimsOf(t, f, c.Value).URI; uri != tc.wantURI {
			t.Errorf("%s: uri %q, want %q", tc.path, uri, tc.wantURI)
		}
	}
}

func TestStreamCookieNeverCoversAnotherRoute(t *testing.T) {
	f := newFixture(t, map[string]string{
		"SIGNGATE_ROUTES_0_STREAMING": "cookie",
		"SIGNGATE_ROUTES_1_PREFIX":    "/media/premium",
		"SIGNGATE_ROUTES_1_CDN_BASE":  "https://cdn.example.com",
		"SIGNGATE_ROUTES_1_KEY_FILE":  "testdata/key1.pem",
		"SIGNGATE_ROUTES_1_KEY_ID":    "key1",
		"SIGNGATE_ROUTES_1_REQUIRE":   "plan=premium",
	})
	resp := f.get("/media/intro.mp4", nil) // directory /media holds /media/premium
	if resp.StatusCode != 302 || authCookie(resp) != nil {
		t.Errorf("status %d, cookie %v: want the redirect without a cookie", resp.StatusCode, authCookie(resp))
	}
	if resp := f.get("/media/free/a.m3u8", nil); authCookie(resp) == nil {
		t.Error("no cookie for a directory of the route alone")
	}
}

func TestCookiePath(t *testing.T) {
	for _, tc := range []struct{ prefix, scope, want string }{
		{"", "/media/hls", "/media/hls"},
		{"/base", "/media/hls", "/base/media/hls"},
		{"/base", "", "/base"},
		{"", "", "/"},
		{"", "/a b/ü", "/a%20b/%C3%BC"},
		{"", "/a/b;c/d", "/a"},
		{"", "/;x/y", "/"},
	} {
		if got := cookiePath(tc.prefix, tc.scope); got != tc.want {
			t.Errorf("cookiePath(%q, %q) = %q, want %q", tc.prefix, tc.scope, got, tc.want)
		}
	}
}

func TestPassthroughDropsStreamCookie(t *testing.T) {
	f := newFixture(t, map[string]string{"SIGNGATE_ROUTES_0_STREAMING": "cookie"})
	resp := f.do("GET", "/app/page", map[string]string{"Cookie": "a=1; " + CookieName + "=tok.en.x; b=2"})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := f.app.lastRequest().Header.Get("Cookie"); got != "a=1; b=2" {
		t.Errorf("the app got Cookie %q, want the streaming cookie dropped", got)
	}
}
