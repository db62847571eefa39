package signer_test

import (
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

// TestVerifyStrict: every spelling the contract does not allow is refused
// with ErrMalformed, whatever golang-jwt or encoding/base64 would let by.
func TestVerifyStrict(t *testing.T) {
	f := newFixture(t)
	priv := f.key.Key
	const hdr = `{"alg":"RS256","kid":"k1","typ":"JWT"}`
	good := f.sign(t, signer.Claims{URI: "/v", Expires: f.now.Add(time.Hour)})
	i := strings.LastIndexByte(good, '.')
	tests := []struct {
		name  string
		token string
	}{
		{"CR LF in the signature", good[:i+10] + "\r\n" + good[i+10:]},
		{"LF in the payload", good[:strings.IndexByte(good, '.')+3] + "\n" + good[strings.IndexByte(good, '.')+3:]},
		{"padding", good + "=="},
		{"space", good[:i+5] + " " + good[i+5:]},
		{"standard alphabet", good[:i+1] + "+/" + good[i+3:]},
		{"four parts", good + ".x"},
		{"payload null", rawToken(t, hdr, `null`, priv)},
		{"payload array", rawToken(t, hdr, `[{"uri":""}]`, priv)},
		{"payload string", rawToken(t, hdr, `"x"`, priv)},
		{"payload number", rawToken(t, hdr, `1`, priv)},
		{"payload with trailing data", rawToken(t, hdr, `{"uri":"/v"}{}`, priv)},
		{"header null", rawToken(t, `null`, `{"uri":"/v"}`, priv)},
		{"header array", rawToken(t, `["RS256"]`, `{"uri":"/v"}`, priv)},
		{"duplicate uri", rawToken(t, hdr, `{"uri":"/v","uri":""}`, priv)},
		{"duplicate exp", rawToken(t, hdr, `{"exp":1800003600,"exp":null}`, priv)},
		{"duplicate, nested", rawToken(t, hdr, `{"uri":"/v","x":{"a":1,"a":2}}`, priv)},
		{"duplicate, in an array", rawToken(t, hdr, `{"uri":"/v","x":[{"a":1,"a":2}]}`, priv)},
		{"duplicate kid", rawToken(t, `{"alg":"RS256","kid":"nope","kid":"k1"}`, `{"uri":"/v"}`, priv)},
		{"duplicate alg", rawToken(t, `{"alg":"none","alg":"RS256","kid":"k1"}`, `{"uri":"/v"}`, priv)},
		{"exp null", rawToken(t, hdr, `{"uri":"/v","exp":null}`, priv)},
		{"nbf null", rawToken(t, hdr, `{"uri":"/v","nbf":null}`, priv)},
		{"exp true", rawToken(t, hdr, `{"uri":"/v","exp":true}`, priv)},
		{"nbf false", rawToken(t, hdr, `{"uri":"/v","nbf":false}`, priv)},
		{"exp empty string", rawToken(t, hdr, `{"uri":"/v","exp":""}`, priv)},
		{"exp object", rawToken(t, hdr, `{"uri":"/v","exp":{}}`, priv)},
		{"uri null", rawToken(t, hdr, `{"uri":null}`, priv)},
		{"uri array", rawToken(t, hdr, `{"uri":["/v"]}`, priv)},
		{"crit", rawToken(t, `{"alg":"RS256","kid":"k1","crit":["exp"]}`, `{"uri":"/v"}`, priv)},
		{"crit empty", rawToken(t, `{"alg":"RS256","kid":"k1","crit":[]}`, `{"uri":"/v"}`, priv)},
		{"kid not a string", rawToken(t, `{"alg":"RS256","kid":1}`, `{"uri":"/v"}`, priv)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.v.Verify(tt.token, "/v/x.ts")
			if !errors.Is(err, signer.ErrMalformed) {
				t.Fatalf("Verify = %v, want %v", err, signer.ErrMalformed)
			}
			if strings.Contains(err.Error(), tt.token) {
				t.Errorf("error echoes the token: %v", err)
			}
			if got := signer.Reason(err); got != "token_malformed" {
				t.Errorf("Reason = %q", got)
			}
		})
	}
	// The untouched token still verifies: the table refuses for its
	// changes, not for the fixture.
	if _, err := f.v.Verify(good, "/v/x.ts"); err != nil {
		t.Fatalf("good token: %v", err)
	}
}

// TestVerifyIgnoresEmbeddedKeys: jwk, jku, x5u and x5c never choose the
// key. A token signed by an attacker's key, which it carries in its own
// header, is refused.
func TestVerifyIgnoresEmbeddedKeys(t *testing.T) {
	f := newFixture(t)
	evil := testKey(t, "other2048.pem")
	jwk := `{"kty":"RSA","kid":"k1","n":"` + b64u(evil.N.Bytes()) + `","e":"` + b64u(big.NewInt(int64(evil.E)).Bytes()) + `"}`
	tests := []struct {
		name   string
		header string
		want   error
	}{
		{"jwk, known kid", `{"alg":"RS256","kid":"k1","jwk":` + jwk + `}`, signer.ErrSignature},
		{"jwk, unknown kid", `{"alg":"RS256","kid":"evil","jwk":` + jwk + `}`, signer.ErrUnknownKey},
		{"jku", `{"alg":"RS256","kid":"k1","jku":"https://evil.example/jwks.json"}`, signer.ErrSignature},
		{"x5u", `{"alg":"RS256","kid":"k1","x5u":"https://evil.example/cert.pem"}`, signer.ErrSignature},
		{"x5c", `{"alg":"RS256","kid":"k1","x5c":["` + base64.StdEncoding.EncodeToString([]byte("not a cert")) + `"]}`, signer.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := rawToken(t, tt.header, `{"uri":""}`, evil)
			if _, err := f.v.Verify(tok, "/v/x.ts"); !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	// The same headers on a token signed with the real key are ignored,
	// not refused: they carry no weight either way.
	tok := rawToken(t, `{"alg":"RS256","kid":"k1","jwk":`+jwk+`}`, `{"uri":""}`, f.key.Key)
	if _, err := f.v.Verify(tok, "/v/x.ts"); err != nil {
		t.Fatalf("real key with a jwk header: %v", err)
	}
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
