package signer_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

func TestLookupScheme(t *testing.T) {
	for _, s := range signer.Schemes() {
		got, err := signer.LookupScheme(s.Name())
		if err != nil || got.Name() != s.Name() {
			t.Errorf("LookupScheme(%q) = %v, %v", s.Name(), got, err)
		}
		if !s.Caps().Exact {
			t.Errorf("%s: every scheme signs one file", s.Name())
		}
	}
	if s, err := signer.LookupScheme(""); err != nil || s.Name() != signer.DefaultScheme {
		t.Errorf(`LookupScheme("") = %v, %v, want the default`, s, err)
	}
	if _, err := signer.LookupScheme("nope"); !errors.Is(err, signer.ErrUnknownScheme) {
		t.Errorf("LookupScheme(nope): %v, want ErrUnknownScheme", err)
	}
}

// TestQencodeSchemeIsTheCache: the qencode scheme through Cache.Mint
// places the same token, in the same URL, as Cache.Token and Base.URL
// did before schemes existed; and its checker accepts it.
func TestQencodeSchemeIsTheCache(t *testing.T) {
	pemBytes, err := os.ReadFile(filepath.Join("testdata", "rsa2048.pem"))
	if err != nil {
		t.Fatal(err)
	}
	base, err := signer.ParseBase("https://cdn.example.com/m")
	if err != nil {
		t.Fatal(err)
	}
	sch, _ := signer.LookupScheme("qencode")
	st := signer.Settings{Base: base, KeyID: "k1", Key: pemBytes, Scope: signer.ScopeDir, TTL: time.Hour}
	s, err := sch.New(st)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	c, _ := signer.NewCache(0, func() time.Time { return now })
	l := signer.Lifetime{TTL: time.Hour}
	tok, exp, err := c.Mint("r", s, signer.Grant{Path: "/v", Prefix: true}, l)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.URL("/v/a b.ts", "x=1&auth=evil", tok)
	if err != nil {
		t.Fatal(err)
	}
	key := s.(*signer.QencodeSigner).Key
	old, exp2, err := c.Token("r", key, "/v", l)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := base.URL("/v/a b.ts", "x=1&auth=evil", old)
	if got != want || !exp.Equal(exp2) {
		t.Errorf("scheme URL\n %s\nwant\n %s", got, want)
	}
	if st := c.Stats(); st.Signatures != 2 {
		// Two cache identities (signer and key), one token each.
		t.Errorf("signatures = %d, want 2", st.Signatures)
	}
	ck, err := sch.(signer.VerifyingScheme).NewChecker(signer.Settings{KeyID: "k1", Key: pemBytes})
	if err != nil {
		t.Fatal(err)
	}
	v, err := ck.Check(signer.Request{Path: "/v/a b.ts", RawQuery: "x=1&auth=" + tok.Get("auth"), Now: now})
	if err != nil || v.Grant.Path != "/v" || !v.Expires.Equal(exp) {
		t.Errorf("Check = %+v, %v", v, err)
	}
	if _, err := ck.Check(signer.Request{Path: "/w/x", RawQuery: "auth=" + tok.Get("auth"), Now: now}); !errors.Is(err, signer.ErrScope) {
		t.Errorf("Check outside the grant: %v, want ErrScope", err)
	}
}

func TestSchemeSettingErrors(t *testing.T) {
	sch, _ := signer.LookupScheme("qencode")
	err := sch.Check(signer.Settings{Options: map[string]string{"CLOUDFRONT_POLICY": "custom"}})
	var se *signer.SettingError
	if !errors.As(err, &se) || se.Setting != "CLOUDFRONT_POLICY" {
		t.Errorf("foreign option: %v, want a SettingError naming CLOUDFRONT_POLICY", err)
	}
	_, err = sch.New(signer.Settings{KeyID: "k", Key: []byte("not a key")})
	if !errors.As(err, &se) || se.Setting != "KEY_FILE" || !errors.Is(err, signer.ErrKey) {
		t.Errorf("bad key: %v, want a SettingError naming KEY_FILE wrapping ErrKey", err)
	}
}

// TestSignerLogsNoKey: a Signer logged as JSON shows its scheme and key
// id, never its key material.
func TestSignerLogsNoKey(t *testing.T) {
	pemBytes, _ := os.ReadFile(filepath.Join("testdata", "rsa2048.pem"))
	base, _ := signer.ParseBase("http://127.0.0.1:9000/media")
	for _, tc := range []struct {
		sch signer.Scheme
		st  signer.Settings
		key string
	}{
		{signer.Qencode{}, signer.Settings{Base: base, KeyID: "k", Key: pemBytes}, "MII"},
		{signer.CloudFront{}, signer.Settings{Base: base, KeyID: "k", Key: pemBytes}, "MII"},
		{signer.S3{}, signer.Settings{Base: base, KeyID: "k", Key: []byte("topsecretvalue"), TTL: time.Hour, Options: map[string]string{"S3_BUCKET": "media"}}, "topsecretvalue"},
	} {
		s, err := tc.sch.New(tc.st)
		if err != nil {
			t.Fatal(err)
		}
		var buf strings.Builder
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "signer", s, "settings", tc.st)
		fmt.Fprintf(&buf, "%v %+v %#v", s, s, s)
		b64 := base64.StdEncoding.EncodeToString(tc.st.Key)[:12]
		if strings.Contains(buf.String(), tc.key) || strings.Contains(buf.String(), b64) || !strings.Contains(buf.String(), "REDACTED") {
			t.Errorf("%s: %s", tc.sch.Name(), buf.String())
		}
	}
}
