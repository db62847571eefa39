package edge

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// authenticated makes the "media" bucket authenticated from the start.
func authenticated(c *config.Edge) { c.Buckets[0].Policy = config.PolicyAuthenticated }

func TestTokenFailures(t *testing.T) {
	h := newHarness(t, authenticated)
	k1 := h.addKey("key1.pem", "k1", "media")
	ko := h.addKey("key2.pem", "ko", "other")
	now := h.clock.Now()
	good := signer.Claims{URI: "/v/abc", Expires: now.Add(time.Hour)}

	impostor := testKey(t, "key2.pem")
	impostor.ID = "k1" // right kid, wrong private key
	stranger := testKey(t, "key1.pem")
	stranger.ID = "nope"
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"uri": ""})
	hs.Header["kid"] = "k1"
	hsTok, err := hs.SignedString(signer.EncodePublicKey(&k1.Key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	noneTok := b64([]byte(`{"alg":"none","kid":"k1","typ":"JWT"}`)) + "." + b64([]byte(`{"uri":""}`)) + "."
	noKid := &signer.SigningKey{ID: "x", Key: k1.Key}
	noKidTok := strings.Replace(sign(t, noKid, good), strings.SplitN(sign(t, noKid, good), ".", 2)[0],
		b64([]byte(`{"alg":"RS256","typ":"JWT"}`)), 1)
	okTok := sign(t, k1, good)
	// raw signs a hand-written header and payload with k1, so that only
	// their form can be wrong.
	raw := func(header, payload string) string {
		in := b64([]byte(header)) + "." + b64([]byte(payload))
		sum := sha256.Sum256([]byte(in))
		sig, err := rsa.SignPKCS1v15(nil, k1.Key, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		return in + "." + b64(sig)
	}
	const hdr = `{"alg":"RS256","kid":"k1","typ":"JWT"}`
	flipped := []byte(okTok)
	flipped[len(flipped)-5] ^= 1

	for _, tc := range []struct {
		name   string
		token  string
		path   string
		status int
		reason string
	}{
		{"missing", "", "/v/abc/seg0.ts", 401, "token_missing"},
		{"too large", strings.Repeat("a", signer.MaxTokenSize+1), "/v/abc/seg0.ts", 403, "token_too_large"},
		{"not a JWT", "not-a-jwt", "/v/abc/seg0.ts", 403, "token_malformed"},
		{"three dots", "a.b.c", "/v/abc/seg0.ts", 403, "token_malformed"},
		{"no kid", noKidTok, "/v/abc/seg0.ts", 403, "token_malformed"},
		{"alg none", noneTok, "/v/abc/seg0.ts", 403, "algorithm_not_allowed"},
		{"HS256 with the public key", hsTok, "/v/abc/seg0.ts", 403, "algorithm_not_allowed"},
		{"unknown kid", sign(t, stranger, good), "/v/abc/seg0.ts", 403, "unknown_key"},
		{"bad signature", sign(t, impostor, good), "/v/abc/seg0.ts", 403, "bad_signature"},
		{"flipped byte", string(flipped), "/v/abc/seg0.ts", 403, "bad_signature"},
		{"key of another bucket", sign(t, ko, good), "/v/abc/seg0.ts", 403, "wrong_bucket"},
		{"milliseconds", sign(t, k1, signer.Claims{Expires: time.Unix(now.UnixMilli(), 0)}), "/v/abc/seg0.ts", 403, "time_in_milliseconds"},
		{"expired", sign(t, k1, signer.Claims{Expires: now.Add(-2 * time.Minute)}), "/v/abc/seg0.ts", 403, "token_expired"},
		{"not yet valid", sign(t, k1, signer.Claims{NotBefore: now.Add(2 * time.Minute)}), "/v/abc/seg0.ts", 403, "token_not_yet_valid"},
		{"CR LF in the signature", okTok[:len(okTok)-8] + "\r\n" + okTok[len(okTok)-8:], "/v/abc/seg0.ts", 403, "token_malformed"},
		{"payload null", raw(hdr, `null`), "/v/abc/seg0.ts", 403, "token_malformed"},
		{"uri null", raw(hdr, `{"uri":null}`), "/v/abc/seg0.ts", 403, "token_malformed"},
		{"exp null", raw(hdr, `{"uri":"/v/abc","exp":null}`), "/v/abc/seg0.ts", 403, "token_malformed"},
		{"duplicate uri", raw(hdr, `{"uri":"/v/abc","uri":""}`), "/v/abc/seg0.ts", 403, "token_malformed"},
		{"crit", raw(`{"alg":"RS256","kid":"k1","crit":["x"],"x":1}`, `{"uri":""}`), "/v/abc/seg0.ts", 403, "token_malformed"},
		{"valid, hand-written", raw(hdr, `{"uri":"/v/abc"}`), "/v/abc/seg0.ts", 200, ""},
		{"out of scope", okTok, "/v/abcdef/x.ts", 403, "out_of_scope"},
		{"out of scope, up", okTok, "/top.txt", 403, "out_of_scope"},
		{"within leeway", sign(t, k1, signer.Claims{Expires: now.Add(-30 * time.Second)}), "/v/abc/seg0.ts", 200, ""},
		{"valid", okTok, "/v/abc/seg0.ts", 200, ""},
		{"valid, directory itself", sign(t, k1, signer.Claims{URI: "v/abc/seg0.ts"}), "/v/abc/seg0.ts", 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := tc.path
			if tc.token != "" {
				target += "?auth=" + url.QueryEscape(tc.token)
			}
			resp := h.get(mediaHost, target)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.status, body(t, resp))
			}
			if tc.status == 200 {
				if resp.Header.Get("Cache-Control") != "private" {
					t.Errorf("authenticated file with Cache-Control %q", resp.Header.Get("Cache-Control"))
				}
				return
			}
			if got := resp.Header.Get(ReasonHeader); got != tc.reason {
				t.Errorf("%s %q, want %q", ReasonHeader, got, tc.reason)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			b := body(t, resp)
			if tc.token != "" && strings.Contains(b, tc.token) {
				t.Errorf("the body echoes the token")
			}
			if !strings.Contains(b, `"code":"`+tc.reason+`"`) {
				t.Errorf("body %s lacks code %q", b, tc.reason)
			}
		})
	}
	logs := h.logs.String()
	for _, tok := range []string{okTok, hsTok, noneTok, string(flipped)} {
		if strings.Contains(logs, tok) || strings.Contains(logs, strings.Split(tok, ".")[1]) {
			t.Errorf("a token reached the log")
		}
	}
	if strings.Contains(logs, "auth=") {
		t.Errorf("a query string reached the log")
	}
}

func TestTokenSources(t *testing.T) {
	h := newHarness(t, authenticated)
	k1 := h.addKey("key1.pem", "k1", "media")
	now := h.clock.Now()
	good := sign(t, k1, signer.Claims{URI: "/v/abc", Expires: now.Add(time.Hour)})
	bad := sign(t, k1, signer.Claims{URI: "/elsewhere", Expires: now.Add(time.Hour)})
	cookie := func(v string) string { return CookieName + "=" + v }
	for _, tc := range []struct {
		name   string
		query  string
		cookie string
		status int
	}{
		{"cookie", "", cookie(good), 200},
		{"cookie among others", "", "a=1; " + cookie(good) + "; b=2", 200},
		{"query wins over cookie", "auth=" + good, cookie(bad), 200},
		{"bad query, good cookie", "auth=" + bad, cookie(good), 403},
		{"empty auth, cookie", "auth=", cookie(good), 200},
		{"escaped name", "%61uth=" + good, "", 200},
		{"other parameters", "a=1&auth=" + good + "&b=2", "", 200},
		{"two auth parameters", "auth=" + good + "&auth=" + good, "", 403},
		{"two cookies, the first good", "", cookie(good) + "; " + cookie(bad), 200},
		{"two cookies, the second good", "", cookie(bad) + "; " + cookie(good), 200},
		{"two bad cookies", "", cookie(bad) + "; " + cookie(bad+"x"), 403},
		{"too many cookies", "", cookie("a") + "; " + cookie("b") + "; " + cookie("c") + "; " + cookie("d") + "; " + cookie(good), 403},
		{"empty auth alone", "auth=", "", 401},
		{"author is not auth", "author=" + good, "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.cookie != "" {
				hdr = []string{"Cookie", tc.cookie}
			}
			target := "/v/abc/seg0.ts"
			if tc.query != "" {
				target += "?" + tc.query
			}
			resp := h.get(mediaHost, target, hdr...)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tc.status, body(t, resp))
			}
		})
	}
}

func TestVerifiedTokenCache(t *testing.T) {
	h := newHarness(t, authenticated)
	k1 := h.addKey("key1.pem", "k1", "media")
	now := h.clock.Now()
	tok := sign(t, k1, signer.Claims{URI: "/v/abc", Expires: now.Add(10 * time.Minute)})
	get := func(p string) int {
		resp := h.get(mediaHost, p+"?auth="+tok)
		return resp.StatusCode
	}
	if st := get("/v/abc/seg0.ts"); st != 200 {
		t.Fatalf("first request: %d", st)
	}
	if s := h.e.CacheStats(); s.Misses != 1 || s.Hits != 0 || s.Entries != 1 {
		t.Fatalf("after one request: %+v", s)
	}
	if st := get("/v/abc/init.m4s"); st != 200 {
		t.Fatalf("second request: %d", st)
	}
	if st := get("/v/abcdef/x.ts"); st != 403 {
		t.Errorf("a cache hit skipped the scope check: %d", st)
	}
	if s := h.e.CacheStats(); s.Misses != 1 || s.Hits != 2 {
		t.Errorf("after three requests: %+v", s)
	}
	h.clock.Advance(10*time.Minute + time.Minute + time.Second) // past exp and leeway
	resp := h.get(mediaHost, "/v/abc/seg0.ts?auth="+tok)
	if resp.StatusCode != 403 || resp.Header.Get(ReasonHeader) != "token_expired" {
		t.Errorf("a cached token outlived its exp: %d %s", resp.StatusCode, resp.Header.Get(ReasonHeader))
	}
	// The same token on another bucket is checked afresh, not taken
	// from the cache.
	ctx := context.Background()
	if err := h.e.store.SetPolicy(ctx, "other", Authenticated); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(-11 * time.Minute)
	resp = h.get(otherHost, "/o.ts?auth="+tok)
	if resp.StatusCode != 403 || resp.Header.Get(ReasonHeader) != "wrong_bucket" {
		t.Errorf("token of media on other: %d %s", resp.StatusCode, resp.Header.Get(ReasonHeader))
	}
}
