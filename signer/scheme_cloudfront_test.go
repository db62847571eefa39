package signer_test

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// cfCase is one generated CloudFront input.
type cfCase struct {
	key     string // testdata file
	path    string
	prefix  bool
	custom  bool
	ip      string
	nbf     bool
	sha256  bool
	exp     time.Time
	cookies bool
}

// randPath makes a canonical bucket path from characters that Go's
// EscapePath and the npm signer's encodeURIComponent escape alike (the
// URL is signed as written, so both must write it the same way).
func randPath(r *rand.Rand) string {
	const alpha = "abcXYZ019-_.~ éü"
	var sb strings.Builder
	for range 1 + r.IntN(3) {
		sb.WriteByte('/')
		seg := []rune(alpha)
		for {
			var s strings.Builder
			for range 1 + r.IntN(8) {
				s.WriteRune(seg[r.IntN(len(seg))])
			}
			if v := s.String(); v != "." && v != ".." {
				sb.WriteString(v)
				break
			}
		}
	}
	return sb.String()
}

func cfSigner(t testing.TB, c cfCase) signer.Signer {
	t.Helper()
	pemBytes, err := os.ReadFile(filepath.Join("testdata", c.key))
	if err != nil {
		t.Fatal(err)
	}
	base, _ := signer.ParseBase("https://d111111abcdef8.cloudfront.net")
	opts := map[string]string{"CLOUDFRONT_POLICY": "canned"}
	scope := signer.ScopeFile
	if c.custom {
		opts["CLOUDFRONT_POLICY"] = "custom"
		scope = signer.ScopeDir
	}
	if c.ip != "" {
		opts["CLOUDFRONT_IP_ADDRESS"] = c.ip
	}
	if c.nbf {
		opts["CLOUDFRONT_NOT_BEFORE"] = "true"
	}
	if c.sha256 {
		opts["CLOUDFRONT_HASH"] = "sha256"
	}
	s, err := signer.CloudFront{}.New(signer.Settings{Base: base, KeyID: "K2JCJMDEHXQW5F", Key: pemBytes, Scope: scope, TTL: time.Hour, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCloudFrontMatchesVendor compares signed URLs and cookies with the
// vendor's own signer, npm @aws-sdk/cloudfront-signer (getSignedUrl,
// getSignedCookies, run by node), over generated paths, expiries and
// options, RSA and ECDSA, SHA-1 and SHA-256:
//
//   - canned policies (Expires): byte for byte, the whole URL (RSA
//     PKCS#1 v1.5 is deterministic);
//   - custom policies: the npm signer builds its own policy from the
//     same conditions, which must be the same JSON object as ours (it
//     writes the Condition members in another order); and, given our
//     policy, it must produce our Policy, Signature and Key-Pair-Id byte
//     for byte;
//   - ECDSA signatures are randomized: the policy must match, and both
//     signatures must verify with the public key.
func TestCloudFrontMatchesVendor(t *testing.T) {
	o := newOracle(t, "@aws-sdk/cloudfront-signer")
	r := rand.New(rand.NewPCG(14, 1))
	for i := range 120 {
		c := cfCase{key: "rsa2048.pem", path: randPath(r), exp: time.Unix(1_800_000_000+r.Int64N(1e8), 0)}
		if i%4 == 3 {
			c.key = "ec.pem"
		}
		c.sha256 = r.IntN(2) == 0
		if r.IntN(2) == 0 {
			c.custom = true
			c.prefix = r.IntN(2) == 0
			c.nbf = r.IntN(2) == 0
			if r.IntN(2) == 0 {
				c.ip = fmt.Sprintf("192.0.%d.0/24", r.IntN(256))
			}
			c.cookies = r.IntN(2) == 0
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkCloudFront(t, o, c) })
	}
}

func checkCloudFront(t *testing.T, o *oracle, c cfCase) {
	s := cfSigner(t, c)
	cf := s.(*signer.CloudFrontSigner)
	g := signer.Grant{Path: c.path, Prefix: c.prefix}
	tok, err := s.Mint(g, c.exp)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, _ := os.ReadFile(filepath.Join("testdata", c.key))
	args := map[string]any{
		"url":          cf.Resource(g),
		"keyPairId":    "K2JCJMDEHXQW5F",
		"privateKey":   string(pemBytes),
		"dateLessThan": c.exp.UTC().Format(time.RFC3339),
	}
	if c.sha256 {
		args["algorithm"] = "SHA256"
	}
	ecdsa := c.key == "ec.pem"
	want := map[string]string{}
	if !c.custom {
		var a struct{ URL string }
		o.ask(map[string]any{"kind": "cloudfront-url", "args": args}, &a)
		want = queryOf(t, a.URL)
		got, err := s.URL(c.path, "x=1", tok)
		if err != nil {
			t.Fatal(err)
		}
		if !ecdsa && got != a.URL {
			t.Fatalf("canned URL\n got %s\nwant %s", got, a.URL)
		}
	} else {
		// The npm signer's own custom policy, from the same conditions.
		if c.nbf || c.ip != "" {
			if c.nbf {
				args["dateGreaterThan"] = c.exp.Add(-time.Hour).UTC().Format(time.RFC3339)
			}
			if c.ip != "" {
				args["ipAddress"] = c.ip
			}
			var a struct{ URL string }
			o.ask(map[string]any{"kind": "cloudfront-url", "args": args}, &a)
			theirs, ours := decodePolicy(t, queryOf(t, a.URL)["Policy"]), decodePolicy(t, tok.Get("Policy"))
			if !jsonEqual(t, theirs, ours) {
				t.Fatalf("custom policy\n ours %s\ntheirs %s", ours, theirs)
			}
		}
		// Given our policy, the npm signer must sign it as we did.
		pol, err := cf.Policy(g, c.exp)
		if err != nil {
			t.Fatal(err)
		}
		delete(args, "url")
		delete(args, "dateGreaterThan")
		delete(args, "ipAddress")
		args["policy"] = string(pol)
		if c.cookies {
			var a struct{ Cookies map[string]string }
			o.ask(map[string]any{"kind": "cloudfront-cookies", "args": args}, &a)
			cks, err := s.Cookies(tok)
			if err != nil {
				t.Fatal(err)
			}
			for _, ck := range cks {
				want[strings.TrimPrefix(ck.Name, "CloudFront-")] = a.Cookies[ck.Name]
			}
			if len(cks) != len(a.Cookies) {
				t.Fatalf("cookies %v, want the names of %v", cks, a.Cookies)
			}
		} else {
			var a struct{ URL string }
			o.ask(map[string]any{"kind": "cloudfront-url", "args": args}, &a)
			want = queryOf(t, a.URL)
		}
	}
	for _, p := range tok.Params {
		w, ok := want[p.Name]
		switch {
		case !ok:
			t.Errorf("%s: the vendor's signer has no such parameter (it has %v)", p.Name, want)
		case p.Name == "Signature" && ecdsa:
			checkCFSig(t, c, tok, w)
			checkCFSig(t, c, tok, p.Value)
		case w != p.Value:
			t.Errorf("%s\n got %s\nwant %s", p.Name, p.Value, w)
		}
	}
	if len(want) != len(tok.Params) {
		t.Errorf("parameters %v, the vendor's %v", tok.Params, want)
	}
	checkCloudFrontChecker(t, c, s, tok)
}

// checkCloudFrontChecker: the cloudfront Checker (signgate verify)
// accepts the token for a path the grant covers, at a time and address
// its policy allows, and refuses it past DateLessThan, outside IpAddress
// and outside the Resource.
func checkCloudFrontChecker(t *testing.T, c cfCase, s signer.Signer, tok signer.Token) {
	t.Helper()
	pemBytes, _ := os.ReadFile(filepath.Join("testdata", c.key))
	base, _ := signer.ParseBase("https://d111111abcdef8.cloudfront.net")
	ck, err := signer.CloudFront{}.NewChecker(signer.Settings{Base: base, KeyID: "K2JCJMDEHXQW5F", Key: pemBytes})
	if err != nil {
		t.Fatal(err)
	}
	p := c.path
	if c.prefix {
		p += "/seg 1.ts"
	}
	ip := "192.0.2.1"
	if c.ip != "" {
		ip = strings.Replace(c.ip, ".0/24", ".7", 1)
	}
	u, _ := s.URL(p, "", tok)
	pu, _ := url.Parse(u)
	req := signer.Request{Path: p, RawQuery: pu.RawQuery, ClientIP: ip, Now: c.exp.Add(-time.Minute)}
	if c.cookies {
		cks, _ := s.Cookies(tok)
		req.RawQuery = ""
		for i := range cks {
			req.Cookies = append(req.Cookies, &cks[i])
		}
	}
	if _, err := ck.Check(req); err != nil {
		t.Errorf("Check: %v", err)
	}
	late := req
	late.Now = c.exp
	if _, err := ck.Check(late); !errors.Is(err, signer.ErrExpired) {
		t.Errorf("Check at DateLessThan: %v, want ErrExpired", err)
	}
	other := req
	other.Path = "/elsewhere" + c.path
	if _, err := ck.Check(other); err == nil {
		t.Errorf("Check outside the Resource passed")
	}
	if c.ip != "" {
		away := req
		away.ClientIP = "198.51.100.1"
		if _, err := ck.Check(away); !errors.Is(err, signer.ErrScope) {
			t.Errorf("Check from outside IpAddress: %v, want ErrScope", err)
		}
	}
}

func queryOf(t *testing.T, u string) map[string]string {
	t.Helper()
	i := strings.IndexByte(u, '?')
	out := map[string]string{}
	for _, kv := range strings.Split(u[i+1:], "&") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

func cfDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.NewReplacer("-", "+", "_", "=", "~", "/").Replace(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodePolicy(t *testing.T, s string) []byte { return cfDecode(t, s) }

func jsonEqual(t *testing.T, a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		t.Fatalf("not JSON: %s / %s", a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// checkCFSig verifies a CloudFront signature with the public half of the
// case's key, over the token's policy (canned: rebuilt from Expires).
func checkCFSig(t *testing.T, c cfCase, tok signer.Token, sig string) {
	t.Helper()
	pemBytes, _ := os.ReadFile(filepath.Join("testdata", c.key))
	block, _ := pem.Decode(pemBytes)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pol := tok.Get("Policy")
	var js []byte
	if pol != "" {
		js = cfDecode(t, pol)
	} else {
		s := cfSigner(t, c).(*signer.CloudFrontSigner)
		js, _ = s.Policy(signer.Grant{Path: c.path}, c.exp)
	}
	if err := signer.CloudFrontVerify(k.(crypto.Signer).Public(), js, cfDecode(t, sig), c.sha256); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
}

func TestCloudFrontRefuses(t *testing.T) {
	base, _ := signer.ParseBase("https://d1.cloudfront.net")
	for name, tc := range map[string]struct {
		st      signer.Settings
		setting string
	}{
		"canned dir":     {signer.Settings{Base: base, Scope: signer.ScopeDir, Options: map[string]string{"CLOUDFRONT_POLICY": "canned"}}, "SCOPE"},
		"canned cookies": {signer.Settings{Base: base, Streaming: "cookie", Options: map[string]string{"CLOUDFRONT_POLICY": "canned"}}, "SCOPE"},
		"bad ip":         {signer.Settings{Base: base, Options: map[string]string{"CLOUDFRONT_POLICY": "custom", "CLOUDFRONT_IP_ADDRESS": "10.0.0.1/8"}}, "CLOUDFRONT_IP_ADDRESS"},
		"bad hash":       {signer.Settings{Base: base, Options: map[string]string{"CLOUDFRONT_HASH": "md5"}}, "CLOUDFRONT_HASH"},
		"canned ip":      {signer.Settings{Base: base, Options: map[string]string{"CLOUDFRONT_POLICY": "canned", "CLOUDFRONT_IP_ADDRESS": "10.0.0.0/8"}}, "CLOUDFRONT_POLICY"},
		"foreign option": {signer.Settings{Base: base, Options: map[string]string{"S3_BUCKET": "b"}}, "S3_BUCKET"},
	} {
		t.Run(name, func(t *testing.T) {
			err := signer.CloudFront{}.Check(tc.st)
			var se *signer.SettingError
			if !errors.As(err, &se) || se.Setting != tc.setting {
				t.Errorf("Check: %v, want a SettingError naming %s", err, tc.setting)
			}
		})
	}
	// The default policy follows the scope: dir is custom, and works.
	s := cfSigner(t, cfCase{key: "rsa2048.pem"})
	if _, err := s.Mint(signer.Grant{Path: "/v", Prefix: true}, time.Unix(1_900_000_000, 0)); !errors.Is(err, signer.ErrSchemeScope) {
		t.Errorf("canned signer minted a prefix grant: %v", err)
	}
	u, _ := s.URL("/v/a.mp4", "auth=x&y=2", signer.Token{Params: []signer.Param{{Name: "Expires", Value: "1"}}})
	if pu, _ := url.Parse(u); pu.RawQuery != "Expires=1" {
		t.Errorf("the client's query was kept: %s", u)
	}
}

// TestCloudFrontOpensNoMore: a CloudFront token opens, as CloudFront
// matches its Resource (the Checker's wildcard rule), only paths its
// grant covers: over generated grants and paths, among them siblings
// that share the directory's name as a prefix (/v/abc and /v/abcdef).
func TestCloudFrontOpensNoMore(t *testing.T) {
	pemBytes, _ := os.ReadFile(filepath.Join("testdata", "rsa2048.pem"))
	base, _ := signer.ParseBase("https://d111111abcdef8.cloudfront.net/m")
	s, err := signer.CloudFront{}.New(signer.Settings{Base: base, KeyID: "K", Key: pemBytes, Scope: signer.ScopeDir, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ck, _ := signer.CloudFront{}.NewChecker(signer.Settings{Base: base, KeyID: "K", Key: pemBytes})
	r := rand.New(rand.NewPCG(14, 9))
	exp := time.Unix(1_900_000_000, 0)
	for range 300 {
		g := signer.Grant{Path: randPath(r), Prefix: r.IntN(3) > 0}
		if r.IntN(20) == 0 {
			g = signer.Grant{Prefix: true}
		}
		tok, err := s.Mint(g, exp)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := s.URL("/x", "", tok)
		q := u[strings.IndexByte(u, '?')+1:]
		for _, p := range []string{g.Path, g.Path + "/a", g.Path + "a", g.Path + "x/y", randPath(r), g.Path + "/" + randPath(r)[1:]} {
			if p == "" {
				p = "/"
			}
			_, err := ck.Check(signer.Request{Path: p, RawQuery: q, Now: exp.Add(-time.Minute)})
			if err == nil && !g.Covers(p) {
				t.Fatalf("grant %+v opened %q", g, p)
			}
			if err != nil && g.Prefix && g.Path != "" && strings.HasPrefix(p, g.Path+"/") {
				t.Errorf("grant %+v refused %q below it: %v", g, p, err)
			}
		}
	}
}
