package signer_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signgate/signgate/signer"
)

func readPEM(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func jsonDoc(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseKeyJSON(t *testing.T) {
	pem := readPEM(t, "rsa2048.pem")
	want := testKey(t, "rsa2048.pem")
	inner := map[string]any{"id": "k-1", "name": nil, "bucket": "media", "stream_id": nil, "created": "2026-01-01 00:00:00", "private_key": pem}
	for _, tc := range []struct {
		name, doc string
		bucket    string
	}{
		{"the create answer", jsonDoc(t, map[string]any{"status": "ok", "error": 0, "signing_key": inner}), "media"},
		{"the inner object", jsonDoc(t, inner), "media"},
		{"a stream key", jsonDoc(t, map[string]any{"signing_key": map[string]any{"id": "k-1", "bucket": nil, "stream_id": "live", "private_key": pem}}), ""},
		{"PKCS#8", jsonDoc(t, map[string]any{"id": "k-1", "private_key": readPEM(t, "rsa2048-pkcs8.pem")}), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := signer.ParseKeyJSON([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if k.ID != "k-1" || k.Bucket != tc.bucket {
				t.Errorf("kid %q bucket %q", k.ID, k.Bucket)
			}
			if tc.name != "PKCS#8" && !k.Key.Equal(want) {
				t.Error("another key")
			}
		})
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"a PEM", pem, "not valid JSON"},
		{"empty", "", "not valid JSON"},
		{"an array", `[1]`, "not a JSON object"},
		{"no key", `{"status":"ok"}`, `no "signing_key"`},
		{"the list answer", jsonDoc(t, map[string]any{"signing_keys": []any{inner}}), `no "signing_key"`},
		{"a get answer", `{"signing_key":{"id":"k-1","public_key":"x"}}`, `has no "private_key"`},
		{"no id", jsonDoc(t, map[string]any{"private_key": pem}), `has no "id"`},
		{"a bad id", jsonDoc(t, map[string]any{"id": "two words", "private_key": pem}), "not one key id"},
		{"both forms", jsonDoc(t, map[string]any{"id": "k-1", "private_key": pem, "signing_key": inner}), "both"},
		{"a public key", jsonDoc(t, map[string]any{"id": "k-1", "private_key": readPEM(t, "rsa2048-pub.pem")}), "public key"},
		{"a small key", jsonDoc(t, map[string]any{"id": "k-1", "private_key": readPEM(t, "rsa1024.pem")}), "1024 bits"},
		{"an EC key", jsonDoc(t, map[string]any{"id": "k-1", "private_key": readPEM(t, "ec.pem")}), ""},
		{"a number for the key", `{"id":"k-1","private_key":7}`, "unexpected JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := signer.ParseKeyJSON([]byte(tc.doc))
			if !errors.Is(err, signer.ErrKey) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrKey saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "MII") {
				t.Errorf("key material in the error: %v", err)
			}
		})
	}
}

// FuzzParseKeyJSON: whatever the document, an error never quotes the
// private key in it, and a key that parses is the key in it, under a
// valid kid.
func FuzzParseKeyJSON(f *testing.F) {
	pem := readPEM(f, "rsa2048.pem")
	body := strings.Join(strings.Split(pem, "\n")[1:4], "")
	good := jsonDoc(f, map[string]any{"signing_key": map[string]any{"id": "k", "private_key": pem}})
	for _, s := range []string{good, good[:len(good)/2], strings.Replace(good, `"id":"k"`, `"id":""`, 1),
		`{"id":"k","private_key":"` + body + `"}`, `{"signing_key":null}`, `{"signing_key":{"id":"k","private_key":"x` + body[:40] + `"}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		k, err := signer.ParseKeyJSON([]byte(doc))
		if err != nil {
			msg := err.Error()
			for i := 0; i+24 <= len(body); i += 24 {
				if strings.Contains(msg, body[i:i+24]) {
					t.Fatalf("the error quotes the private key: %v", err)
				}
			}
			if !errors.Is(err, signer.ErrKey) {
				t.Fatalf("error without ErrKey: %v", err)
			}
			return
		}
		if !signer.ValidKeyID(k.ID) || k.Key == nil || k.Key.N.BitLen() < signer.MinKeyBits {
			t.Fatalf("accepted %q with kid %q", doc, k.ID)
		}
		// The oracle: the kid and the key are one of the document's
		// "id" and "private_key" (matched as encoding/json matches
		// field names), at the top or under "signing_key".
		var top map[string]any
		if err := json.Unmarshal([]byte(doc), &top); err != nil {
			t.Fatalf("accepted a document that is no JSON object: %q", doc)
		}
		obj := top
		for name, v := range top {
			if m, ok := v.(map[string]any); ok && strings.EqualFold(name, "signing_key") {
				obj = m
			}
		}
		var idOK, keyOK bool
		for name, v := range obj {
			s, _ := v.(string)
			switch {
			case strings.EqualFold(name, "id"):
				idOK = idOK || s == k.ID
			case strings.EqualFold(name, "private_key"):
				if pk, err := signer.ParsePrivateKey([]byte(s)); err == nil && pk.Equal(k.Key) {
					keyOK = true
				}
			}
		}
		if !idOK || !keyOK {
			t.Fatalf("kid %q (found %v) or key (found %v) not from %q", k.ID, idOK, keyOK, doc)
		}
	})
}
