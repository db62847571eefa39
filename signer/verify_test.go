package signer_test

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// rawToken assembles a JWT by hand, with the standard library alone.
func rawToken(t testing.TB, header, payload string, key *rsa.PrivateKey) string {
	t.Helper()
	in := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestVerifyErrors(t *testing.T) {
	f := newFixture(t)
	other := &signer.SigningKey{ID: "k2", Bucket: "other", Key: testKey(t, "rsa2048.pem")}
	f.v.Keys = signer.NewKeys(f.key.Public(), other.Public())
	priv := f.key.Key
	hs := func(header string) string {
		in := b64(header) + "." + b64(`{"uri":""}`)
		// HS256 keyed with the RSA public key's bytes: the classic confusion attack.
		m := hmac.New(sha256.New, signer.EncodePublicKey(&priv.PublicKey))
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	good := f.sign(t, signer.Claims{URI: "/v/abc", Expires: f.now.Add(time.Hour)})
	flipped := []byte(good)
	flipped[len(flipped)-5] ^= 1
	// A 256-byte signature ends in a base64 character that carries 2 bits
	// and 4 padding bits; setting a padding bit must not give a second valid
	// spelling of the same token.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	malleable := []byte(good)
	malleable[len(malleable)-1] = alphabet[strings.IndexByte(alphabet, good[len(good)-1])|1]

	tests := []struct {
		name  string
		token string
		path  string
		want  error
	}{
		{"missing", "", "/v/abc/x.ts", signer.ErrMissing},
		{"too large", strings.Repeat("a", signer.MaxTokenSize+1), "/v/abc", signer.ErrTooLarge},
		{"not a JWT", "hello", "/v/abc", signer.ErrMalformed},
		{"two segments", "a.b", "/v/abc", signer.ErrMalformed},
		{"bad base64", "!!!.###.$$$", "/v/abc", signer.ErrMalformed},
		{"header not JSON", b64("nope") + "." + b64("{}") + ".sig", "/v/abc", signer.ErrMalformed},
		{"payload not JSON", rawToken(t, `{"alg":"RS256","kid":"k1"}`, `[1,2]`, priv), "/v/abc", signer.ErrMalformed},
		{"no kid", rawToken(t, `{"alg":"RS256","typ":"JWT"}`, `{"uri":""}`, priv), "/v/abc", signer.ErrMalformed},
		{"uri not a string", rawToken(t, `{"alg":"RS256","kid":"k1"}`, `{"uri":7}`, priv), "/v/abc", signer.ErrMalformed},
		{"exp not a number", rawToken(t, `{"alg":"RS256","kid":"k1"}`, `{"exp":"soon"}`, priv), "/v/abc", signer.ErrMalformed},
		{"exp negative", rawToken(t, `{"alg":"RS256","kid":"k1"}`, `{"exp":-5}`, priv), "/v/abc", signer.ErrMalformed},
		{"alg none", b64(`{"alg":"none","kid":"k1"}`) + "." + b64(`{"uri":""}`) + ".", "/v/abc", signer.ErrAlgorithm},
		{"alg HS256 with the public key", hs(`{"alg":"HS256","kid":"k1","typ":"JWT"}`), "/v/abc", signer.ErrAlgorithm},
		{"alg RS512", rawToken(t, `{"alg":"RS512","kid":"k1"}`, `{"uri":""}`, priv), "/v/abc", signer.ErrAlgorithm},
		{"alg unknown", rawToken(t, `{"alg":"XX999","kid":"k1"}`, `{"uri":""}`, priv), "/v/abc", signer.ErrAlgorithm},
		{"unknown kid", rawToken(t, `{"alg":"RS256","kid":"nope"}`, `{"uri":""}`, priv), "/v/abc", signer.ErrUnknownKey},
		{"bad signature", string(flipped), "/v/abc", signer.ErrSignature},
		{"non-canonical base64", string(malleable), "/v/abc/x.ts", signer.ErrMalformed},
		{"signed by another key", rawToken(t, `{"alg":"RS256","kid":"k1"}`, `{"uri":""}`, testKey(t, "other2048.pem")), "/v/abc", signer.ErrSignature},
		{"key of another bucket", rawToken(t, `{"alg":"RS256","kid":"k2"}`, `{"uri":""}`, priv), "/v/abc", signer.ErrWrongBucket},
		{"exp in milliseconds", rawToken(t, `{"alg":"RS256","kid":"k1"}`, `{"exp":1800000000000}`, priv), "/v/abc", signer.ErrMilliseconds},
		{"nbf in milliseconds, quoted", rawToken(t, `{"alg":"RS256","kid":"k1"}`, `{"nbf":"1800000000000"}`, priv), "/v/abc", signer.ErrMilliseconds},
		{"expired", f.sign(t, signer.Claims{Expires: f.now.Add(-61 * time.Second)}), "/v/abc", signer.ErrExpired},
		{"expired, quoted", rawToken(t, `{"alg":"RS256","kid":"k1"}`, `{"exp":"1799999000"}`, priv), "/v/abc", signer.ErrExpired},
		{"not yet valid", f.sign(t, signer.Claims{NotBefore: f.now.Add(61 * time.Second)}), "/v/abc", signer.ErrNotYetValid},
		{"out of scope: sibling with common prefix", good, "/v/abcdef", signer.ErrScope},
		{"out of scope: parent", good, "/v", signer.ErrScope},
		{"out of scope: elsewhere", good, "/w/abc/x.ts", signer.ErrScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.v.Verify(tt.token, tt.path)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if tt.token != "" && len(tt.token) > 20 && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error echoes the token: %v", err)
			}
			if r := signer.Reason(err); r == "" || r == "invalid_token" {
				t.Errorf("Reason(%v) = %q, want a specific reason", err, r)
			}
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	f := newFixture(t)
	priv := f.key.Key
	tests := []struct {
		name  string
		token string
		path  string
	}{
		{"file", f.sign(t, signer.Claims{URI: "/v/abc/x.ts", Expires: f.now.Add(time.Minute)}), "/v/abc/x.ts"},
		{"directory", f.sign(t, signer.Claims{URI: "/v/abc"}), "/v/abc/x.ts"},
		{"directory itself", f.sign(t, signer.Claims{URI: "/v/abc"}), "/v/abc"},
		{"directory with trailing slash", f.sign(t, signer.Claims{URI: "/v/abc/"}), "/v/abc/1/2.ts"},
		{"no leading slash", f.sign(t, signer.Claims{URI: "v/abc"}), "/v/abc/x.ts"},
		{"whole bucket", f.sign(t, signer.Claims{URI: ""}), "/any/thing.mp4"},
		{"no uri claim at all", rawToken(t, `{"alg":"RS256","kid":"k1","typ":"JWT"}`, `{}`, priv), "/x.mp4"},
		{"expired within leeway", f.sign(t, signer.Claims{Expires: f.now.Add(-59 * time.Second)}), "/x"},
		{"active within leeway", f.sign(t, signer.Claims{NotBefore: f.now.Add(59 * time.Second)}), "/x"},
		{"quoted exp and nbf", rawToken(t, `{"alg":"RS256","kid":"k1","typ":"JWT"}`, `{"exp":"1800000100","nbf":"1799999900","uri":""}`, priv), "/x"},
		{"fractional exp", rawToken(t, `{"alg":"RS256","kid":"k1"}`, `{"exp":1800000100.5}`, priv), "/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.v.Verify(tt.token, tt.path); err != nil {
				t.Fatalf("Verify = %v", err)
			}
		})
	}
}

func TestVerifyLeewayConfigurable(t *testing.T) {
	f := newFixture(t)
	tok := f.sign(t, signer.Claims{Expires: f.now.Add(-10 * time.Second)})
	if _, err := f.v.Verify(tok, "/x"); err != nil {
		t.Fatalf("default leeway: %v", err)
	}
	f.v.Leeway = 0
	if _, err := f.v.Verify(tok, "/x"); !errors.Is(err, signer.ErrExpired) {
		t.Fatalf("no leeway: %v, want ErrExpired", err)
	}
}

func TestVerifyNoBucketRequirement(t *testing.T) {
	f := newFixture(t)
	f.v.Bucket = ""
	if _, err := f.v.Verify(f.sign(t, signer.Claims{}), "/x"); err != nil {
		t.Fatal(err)
	}
}

func TestClaimsRoundTrip(t *testing.T) {
	f := newFixture(t)
	in := signer.Claims{
		URI:       "/v/abc",
		Expires:   f.now.Add(time.Hour),
		NotBefore: f.now.Add(-time.Minute),
		Extra:     map[string]any{"user": "ann", "tier": float64(2)},
	}
	got, err := f.v.Verify(f.sign(t, in), "/v/abc/1.ts")
	if err != nil {
		t.Fatal(err)
	}
	if got.URI != in.URI || !got.Expires.Equal(in.Expires) || !got.NotBefore.Equal(in.NotBefore) ||
		got.Extra["user"] != "ann" || got.Extra["tier"] != float64(2) || len(got.Extra) != 2 {
		t.Errorf("claims = %+v, want %+v", got, in)
	}
}

// TestMintContract checks the exact header and payload the contract fixes.
func TestMintContract(t *testing.T) {
	f := newFixture(t)
	tok := f.sign(t, signer.Claims{URI: "/v/a b", Expires: time.Unix(1800003600, 0), Extra: map[string]any{"sub": "u1"}})
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	h, _ := base64.RawURLEncoding.DecodeString(parts[0])
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if string(h) != `{"alg":"RS256","kid":"k1","typ":"JWT"}` {
		t.Errorf("header = %s", h)
	}
	if string(p) != `{"exp":1800003600,"sub":"u1","uri":"/v/a b"}` {
		t.Errorf("payload = %s", p)
	}
	again := f.sign(t, signer.Claims{URI: "/v/a b", Expires: time.Unix(1800003600, 0), Extra: map[string]any{"sub": "u1"}})
	if again != tok {
		t.Error("same key and claims gave different tokens")
	}
}

func TestMintRefusesKeyWithoutID(t *testing.T) {
	k := &signer.SigningKey{Key: testKey(t, "rsa2048.pem")}
	if _, err := k.Sign(signer.Claims{}); err == nil || !strings.Contains(err.Error(), "kid") {
		t.Fatalf("Sign without kid = %v, want an error naming the kid", err)
	}
}

// TestInteropStdlibVerifiesSigngate verifies a signgate token with the
// standard library alone: base64url and RSASSA-PKCS1-v1_5 over SHA-256 of
// the signing input.
func TestInteropStdlibVerifiesSigngate(t *testing.T) {
	f := newFixture(t)
	tok := f.sign(t, signer.Claims{URI: "/v", Expires: f.now.Add(time.Hour)})
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(tok[:i]))
	if err := rsa.VerifyPKCS1v15(&f.key.Key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("stdlib verify: %v", err)
	}
	var payload map[string]any
	p, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err := json.Unmarshal(p, &payload); err != nil || payload["uri"] != "/v" {
		t.Fatalf("payload %s: %v", p, err)
	}
}

// TestInteropSigngateVerifiesStdlib verifies a token assembled by hand,
// as Qencode's docs show, in signgate.
func TestInteropSigngateVerifiesStdlib(t *testing.T) {
	f := newFixture(t)
	tok := rawToken(t, `{"kid":"k1","alg":"RS256","typ":"JWT"}`, `{"uri":"/v/abc","exp":"1800000600"}`, f.key.Key)
	c, err := f.v.Verify(tok, "/v/abc/seg1.ts")
	if err != nil {
		t.Fatal(err)
	}
	if c.URI != "/v/abc" || c.Expires.Unix() != 1800000600 {
		t.Errorf("claims = %+v", c)
	}
}

func TestReasonUnknownError(t *testing.T) {
	if got := signer.Reason(errors.New("x")); got != "invalid_token" {
		t.Errorf("Reason = %q", got)
	}
	if got := signer.Reason(nil); got != "" {
		t.Errorf("Reason(nil) = %q", got)
	}
}

// uri, exp and nbf among the custom claims would either mint a token that
// fails later or be overwritten unseen: minting refuses them.
func TestMintRefusesReservedExtra(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"uri", "exp", "nbf"} {
		for _, c := range []signer.Claims{
			{Extra: map[string]any{name: "1"}},
			{URI: "/v", Expires: time.Unix(1800000000, 0), NotBefore: time.Unix(1700000000, 0), Extra: map[string]any{name: "/x"}},
		} {
			if tok, err := f.key.Sign(c); !errors.Is(err, signer.ErrReservedClaim) || tok != "" || !strings.Contains(err.Error(), name) {
				t.Errorf("Sign with Extra[%q]: token minted %v, %v; want ErrReservedClaim", name, tok != "", err)
			}
			if _, err := json.Marshal(c); !errors.Is(err, signer.ErrReservedClaim) {
				t.Errorf("Marshal with Extra[%q] = %v; want ErrReservedClaim", name, err)
			}
		}
	}
	// Other registered names are custom claims to the contract.
	tok, err := f.key.Sign(signer.Claims{Extra: map[string]any{"iat": 1700000000, "sub": "u1"}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := f.v.Verify(tok, "/x"); err != nil || c.Extra["iat"] != float64(1700000000) {
		t.Errorf("Verify = %+v, %v", c, err)
	}
}
