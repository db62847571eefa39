package config

import "testing"

// TestAttackRouteSpacesSameKeyTwoHostNames: two routes holding the same
// key (KEY_FILE and KEY_ID) reach the same bucket, however their CDN bases
// are spelled (a key belongs to exactly one bucket). A public stripping
// route beside a restricted one must be refused, as it is when the bases
// are spelled alike. Also a CDN base path prefix: a token is the bucket's,
// not the prefix's.
func TestAttackRouteSpacesSameKeyTwoHostNames(t *testing.T) {
	for name, bases := range map[string][2]string{
		"custom domain beside the CDN host": {"https://media.example.com", "https://cdn.example.com"},
		"base path prefix":                  {"https://cdn.example.com/media", "https://cdn.example.com"},
	} {
		t.Run(name, func(t *testing.T) {
			env := withChanges(gatewayEnv(), map[string]string{
				"SIGNGATE_ROUTES_0_PREFIX":       "/s",
				"SIGNGATE_ROUTES_0_CDN_BASE":     bases[0],
				"SIGNGATE_ROUTES_0_BUCKET":       "",
				"SIGNGATE_ROUTES_0_REGION":       "",
				"SIGNGATE_ROUTES_0_KEY_FILE":     "/keys/k.pem",
				"SIGNGATE_ROUTES_0_KEY_ID":       "kid-1",
				"SIGNGATE_ROUTES_0_STRIP_PREFIX": "true",
				"SIGNGATE_ROUTES_0_PUBLIC":       "true",
				"SIGNGATE_ROUTES_1_PREFIX":       "/paid",
				"SIGNGATE_ROUTES_1_CDN_BASE":     bases[1],
				"SIGNGATE_ROUTES_1_KEY_FILE":     "/keys/k.pem",
				"SIGNGATE_ROUTES_1_KEY_ID":       "kid-1",
				"SIGNGATE_ROUTES_1_REQUIRE":      "plan=paid",
			})
			g, err := LoadGateway(env)
			if err != nil {
				t.Logf("refused: %v", err)
				return
			}
			t.Errorf("accepted: /s (STRIP_PREFIX, PUBLIC, %s) and /paid (REQUIRE plan=paid, %s) with one key kid-1: the key is the bucket's, so /s's tokens (uri=\"\" for a top-level file) open /paid's objects; %d routes", bases[0], bases[1], len(g.Routes))
		})
	}
}

// TestAttackRouteSpacesOriginSpellings: spellings of one origin that
// signer.Base.Origin does not fold (an empty port is the default port, as
// is 0443 for https; a Unicode host is its punycode on the wire), so the
// start-up check takes them for two origins and accepts a public
// stripping route beside a restricted one on the same CDN, with
// different keys of the bucket (origins are "never compared by key").
func TestAttackRouteSpacesOriginSpellings(t *testing.T) {
	for name, bases := range map[string][2]string{
		"empty port":          {"https://cdn.example.com:", "https://cdn.example.com"},
		"port 0443":           {"https://cdn.example.com:0443", "https://cdn.example.com"},
		"unicode vs punycode": {"https://bücher.example", "https://xn--bcher-kva.example"},
		"ipv6 spelled long":   {"https://[0:0:0:0:0:0:0:1]:8443", "https://[::1]:8443"},
	} {
		t.Run(name, func(t *testing.T) {
			env := withChanges(gatewayEnv(), map[string]string{
				"SIGNGATE_ROUTES_0_PREFIX":       "/s",
				"SIGNGATE_ROUTES_0_CDN_BASE":     bases[0],
				"SIGNGATE_ROUTES_0_BUCKET":       "",
				"SIGNGATE_ROUTES_0_REGION":       "",
				"SIGNGATE_ROUTES_0_KEY_FILE":     "/keys/a.pem",
				"SIGNGATE_ROUTES_0_KEY_ID":       "kid-a",
				"SIGNGATE_ROUTES_0_STRIP_PREFIX": "true",
				"SIGNGATE_ROUTES_0_PUBLIC":       "true",
				"SIGNGATE_ROUTES_1_PREFIX":       "/paid",
				"SIGNGATE_ROUTES_1_CDN_BASE":     bases[1],
				"SIGNGATE_ROUTES_1_KEY_FILE":     "/keys/b.pem",
				"SIGNGATE_ROUTES_1_KEY_ID":       "kid-b",
				"SIGNGATE_ROUTES_1_REQUIRE":      "plan=paid",
			})
			if _, err := LoadGateway(env); err != nil {
				t.Logf("refused: %v", err)
				return
			}
			t.Errorf("accepted: /s (STRIP_PREFIX, PUBLIC, %s) beside /paid (REQUIRE plan=paid, %s), one origin: anyone gets /paid's objects as /s/paid/...", bases[0], bases[1])
		})
	}
}

// TestAttackRouteSpacesCaseFoldNested: prefixes that differ only by case
// are refused because the gateway "could not tell those routes apart"
// read case-folded; the same holds when one prefix lies under the other
// only once case-folded (/media beside /Media/premium). The gateway then
// refuses the request /media/premium/x (a look-alike of /Media/premium),
// but /media's dir claim "/media" is not narrowed (the routes are not
// nested as written) and covers /media/premium/x, which a case-insensitive
// origin serves as /Media/premium/x.
func TestAttackRouteSpacesCaseFoldNested(t *testing.T) {
	env := withChanges(gatewayEnv(), map[string]string{
		"SIGNGATE_ROUTES_0_PREFIX":   "/media",
		"SIGNGATE_ROUTES_0_CDN_BASE": "https://cdn.example.com",
		"SIGNGATE_ROUTES_0_BUCKET":   "",
		"SIGNGATE_ROUTES_0_REGION":   "",
		"SIGNGATE_ROUTES_0_KEY_FILE": "/keys/a.pem",
		"SIGNGATE_ROUTES_0_KEY_ID":   "kid-a",
		"SIGNGATE_ROUTES_0_SCOPE":    "dir",
		"SIGNGATE_ROUTES_0_PUBLIC":   "true",
		"SIGNGATE_ROUTES_1_PREFIX":   "/Media/premium",
		"SIGNGATE_ROUTES_1_CDN_BASE": "https://cdn.example.com",
		"SIGNGATE_ROUTES_1_KEY_FILE": "/keys/a.pem",
		"SIGNGATE_ROUTES_1_KEY_ID":   "kid-a",
		"SIGNGATE_ROUTES_1_REQUIRE":  "plan=premium",
	})
	if _, err := LoadGateway(env); err != nil {
		t.Logf("refused: %v", err)
		return
	}
	t.Errorf("accepted: /media (PUBLIC, dir) beside /Media/premium (REQUIRE plan=premium) on one origin: /media lies over /Media/premium case-folded")
}
