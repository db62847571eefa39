package signer

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// cdnScheme is one of this file's schemes with working settings.
type cdnScheme struct {
	scheme  VerifyingScheme
	key     string
	keyID   string
	options map[string]string
	cookies bool
}

func cdnSchemes() []cdnScheme {
	return []cdnScheme{
		{Google{}, "nZtRohdNF9m3cKM24IcK4w==", "my-key", nil, true},
		{MediaCDN{}, mcdnTokenSeed, "my-key", nil, true},
		{MediaCDN{}, mcdnHMACSecret, "", map[string]string{mcdnAlgorithm: "sha256"}, false},
		{Akamai{}, "0a1b2c3d4e5f", "", nil, true},
		{Akamai{}, "0a1b2c3d4e5f", "", map[string]string{akAlgorithm: "md5", akEscape: "true", akTokenName: "hdnts"}, true},
		{Bunny{}, "SecurityKey", "", nil, false},
		{Bunny{}, "SecurityKey", "", map[string]string{bnMode: "advanced", bnForm: "query", bnCountries: "CA,US"}, false},
		{Bunny{}, "SecurityKey", "", map[string]string{bnMode: "basic"}, false},
	}
}

func (c cdnScheme) settings(t testing.TB, scope Scope, base string) Settings {
	t.Helper()
	b, err := ParseBase(base)
	if err != nil {
		t.Fatal(err)
	}
	opts := map[string]string{}
	for k, v := range c.options {
		opts[k] = v
	}
	return Settings{Base: b, KeyID: c.keyID, Key: []byte(c.key), Scope: scope, TTL: time.Hour, Options: opts}
}

func (c cdnScheme) name() string { return fmt.Sprintf("%s%v", c.scheme.Name(), c.options) }

// requestOf is the Request a CDN sees for signed URL u (and cookies).
func requestOf(t testing.TB, u string, cookies []http.Cookie, at time.Time) Request {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Path: pu.Path, EscapedPath: pu.EscapedPath(), Host: pu.Host, RawQuery: pu.RawQuery, Header: http.Header{}, Now: at}
	for i := range cookies {
		req.Cookies = append(req.Cookies, &cookies[i])
	}
	return req
}

// TestCDNSchemesRoundTrip: for every scheme and generated grants, a URL
// minted for a path verifies with the scheme's Checker; a prefix grant's
// token opens what lies below its directory and never the directory's
// siblings that share its name as a prefix (/v/abc never opens /v/abcdef);
// an exact grant opens its file only; and nothing verifies after exp.
func TestCDNSchemesRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 4))
	exp := time.Unix(1800000000, 0)
	for _, c := range cdnSchemes() {
		t.Run(c.name(), func(t *testing.T) {
			for i := range 40 {
				base := []string{"https://cdn.example.com", "https://cdn.example.com/media", "http://127.0.0.1:8080"}[r.IntN(3)]
				dir := fmt.Sprintf("/v%d/abc", r.IntN(100))
				file := dir + fmt.Sprintf("/seg-%d.ts", i)
				prefix := r.IntN(2) == 0 && c.options[bnMode] != "basic"
				scope := ScopeFile
				g := Grant{Path: file}
				if prefix {
					scope, g = ScopeDir, Grant{Path: dir, Prefix: true}
				}
				s := c.settings(t, scope, base)
				sg, err := c.scheme.New(s)
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				ch, err := c.scheme.NewChecker(s)
				if err != nil {
					t.Fatalf("NewChecker: %v", err)
				}
				tok, err := sg.Mint(g, exp)
				if err != nil {
					t.Fatalf("Mint(%+v): %v", g, err)
				}
				check := func(p string, at time.Time) error {
					u, err := sg.URL(p, "x=1", tok)
					if err != nil {
						t.Fatalf("URL: %v", err)
					}
					_, err = ch.Check(requestOf(t, u, nil, at))
					return err
				}
				if err := check(file, exp); err != nil {
					t.Fatalf("Check(%s) = %v", file, err)
				}
				if err := check(file, exp.Add(time.Second)); !errors.Is(err, ErrExpired) {
					t.Fatalf("Check late = %v, want ErrExpired", err)
				}
				if err := check(dir+"def/x.ts", exp); err == nil {
					t.Fatalf("grant %+v opened %s", g, dir+"def/x.ts")
				}
				if err := check(dir+"/other.ts", exp); prefix != (err == nil) {
					t.Fatalf("grant %+v, sibling file: %v", g, err)
				}
				if !prefix || !c.cookies {
					continue
				}
				cks, err := sg.Cookies(tok)
				if err != nil {
					t.Fatalf("Cookies: %v", err)
				}
				u := cdnURL(s.Base, dir+"/deep/x.ts")
				if _, err := ch.Check(requestOf(t, u, cks, exp)); err != nil {
					t.Fatalf("Check(cookie) = %v", err)
				}
				if _, err := ch.Check(requestOf(t, cdnURL(s.Base, dir+"x/y.ts"), cks, exp)); err == nil {
					t.Fatalf("cookie for %s opened %sx/", dir, dir)
				}
			}
		})
	}
}

func TestCDNSchemesRefuse(t *testing.T) {
	for _, c := range []struct {
		name    string
		scheme  Scheme
		s       func(Settings) Settings
		setting string
	}{
		{"google bad key", Google{}, func(s Settings) Settings { s.Key = []byte("short"); return s }, "KEY_FILE"},
		{"google no key name", Google{}, func(s Settings) Settings { s.KeyID = ""; return s }, "KEY_ID"},
		{"google foreign option", Google{}, func(s Settings) Settings { s.Options = map[string]string{bnMode: "hmac"}; return s }, bnMode},
		{"mediacdn bad algorithm", MediaCDN{}, func(s Settings) Settings { s.Options = map[string]string{mcdnAlgorithm: "rsa"}; return s }, mcdnAlgorithm},
		{"mediacdn cookie without ed25519", MediaCDN{}, func(s Settings) Settings {
			s.Streaming, s.Scope, s.Options = "cookie", ScopeDir, map[string]string{mcdnAlgorithm: "sha1"}
			return s
		}, "STREAMING"},
		{"akamai bad key", Akamai{}, func(s Settings) Settings { s.Key = []byte("xyz"); return s }, "KEY_FILE"},
		{"akamai bad escape", Akamai{}, func(s Settings) Settings { s.Options = map[string]string{akEscape: "yes"}; return s }, akEscape},
		{"bunny basic dir", Bunny{}, func(s Settings) Settings { s.Scope, s.Options = ScopeDir, map[string]string{bnMode: "basic"}; return s }, "SCOPE"},
		{"bunny cookie mode", Bunny{}, func(s Settings) Settings { s.Scope, s.Streaming = ScopeDir, "cookie"; return s }, "STREAMING"},
		{"bunny bad countries", Bunny{}, func(s Settings) Settings { s.Options = map[string]string{bnCountries: "Canada"}; return s }, bnCountries},
		{"bunny empty key", Bunny{}, func(s Settings) Settings { s.Key = []byte(" \n"); return s }, "KEY_FILE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, _ := ParseBase("https://cdn.example.com")
			s := c.s(Settings{Base: b, KeyID: "my-key", Key: []byte("nZtRohdNF9m3cKM24IcK4w=="), Scope: ScopeFile, TTL: time.Hour})
			_, err := c.scheme.New(s)
			var se *SettingError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), c.setting) {
				t.Fatalf("New = %v, want a SettingError naming %s", err, c.setting)
			}
			if strings.Contains(err.Error(), string(s.Key)) && len(s.Key) > 3 {
				t.Fatalf("error %q holds the key", err)
			}
		})
	}
}

// TestCDNSchemesVendorForms checks that what the schemes place is each
// vendor's own form, with the verifiers the published vectors checked.
func TestCDNSchemesVendorForms(t *testing.T) {
	exp := time.Unix(1558131350, 0)
	get := func(sc Scheme, s Settings, g Grant, p string) (string, Token, Signer) {
		t.Helper()
		sg, err := sc.New(s)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := sg.Mint(g, exp)
		if err != nil {
			t.Fatal(err)
		}
		u, err := sg.URL(p, "", tok)
		if err != nil {
			t.Fatal(err)
		}
		return u, tok, sg
	}
	g := cdnSchemes()[0]
	u, _, _ := get(Google{}, g.settings(t, ScopeFile, "https://cdn.example.com"), Grant{Path: "/v/a.ts"}, "/v/a.ts")
	if want := gcdnKey(t).SignURL("https://cdn.example.com/v/a.ts", exp); u != want {
		t.Fatalf("google exact\n got %s\nwant %s", u, want)
	}
	u, tok, sg := get(Google{}, g.settings(t, ScopeDir, "https://cdn.example.com"), Grant{Path: "/v", Prefix: true}, "/v/a.ts")
	if want, _ := gcdnKey(t).SignURLPrefix("https://cdn.example.com/v/a.ts", "https://cdn.example.com/v/", exp); u != want {
		t.Fatalf("google prefix\n got %s\nwant %s", u, want)
	}
	cks, _ := sg.Cookies(tok)
	if want, _ := gcdnKey(t).SignCookie("https://cdn.example.com/v/", exp); len(cks) != 1 || cks[0].Name != CloudCDNCookie || cks[0].Value != want {
		t.Fatalf("google cookie %+v, want %s", cks, want)
	}
	a := cdnSchemes()[3]
	u, _, _ = get(Akamai{}, a.settings(t, ScopeDir, "https://cdn.example.com/m"), Grant{Path: "/v", Prefix: true}, "/v/a.ts")
	if !strings.HasPrefix(u, "https://cdn.example.com/m/v/a.ts?__token__=exp=1558131350~acl=/m/v/*~hmac=") {
		t.Fatalf("akamai URL %s", u)
	}
	b := cdnSchemes()[5]
	u, _, _ = get(Bunny{}, b.settings(t, ScopeDir, "https://zone.b-cdn.net"), Grant{Path: "/v", Prefix: true}, "/v/a.ts")
	if !strings.HasPrefix(u, "https://zone.b-cdn.net/bcdn_token=HS256-") || !strings.HasSuffix(u, "&token_path=%2Fv%2F&expires=1558131350/v/a.ts") {
		t.Fatalf("bunny URL %s", u)
	}
	m := cdnSchemes()[1]
	u, _, _ = get(MediaCDN{}, m.settings(t, ScopeDir, "https://cdn.example.com"), Grant{Path: "", Prefix: true}, "/v/a.ts")
	if !strings.HasPrefix(u, "https://cdn.example.com/v/a.ts?edge-cache-token=PathGlobs=/*~Expires=1558131350~Signature=") {
		t.Fatalf("mediacdn URL %s", u)
	}
}

// TestCDNSignersLogNoKey: these schemes' Signers, logged as JSON or
// printed with %+v, show no key material.
func TestCDNSignersLogNoKey(t *testing.T) {
	for _, c := range cdnSchemes() {
		s := c.settings(t, ScopeFile, "https://cdn.example.com")
		sg, err := c.scheme.New(s)
		if err != nil {
			t.Fatal(err)
		}
		var buf strings.Builder
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "signer", sg, "settings", s)
		out := buf.String() + fmt.Sprintf("%+v %v %#v", sg, sg, sg)
		raw, _ := decodeBase64Key(c.key)
		for _, secret := range []string{c.key, hexString(raw), fmt.Sprint([]byte(c.key))} {
			if secret != "" && strings.Contains(out, secret) {
				t.Fatalf("%s: the key shows in %s", c.name(), out)
			}
		}
		if !strings.Contains(buf.String(), `"scheme":"`+c.scheme.Name()+`"`) {
			t.Fatalf("%s: log %s lacks the scheme", c.name(), buf.String())
		}
	}
}
