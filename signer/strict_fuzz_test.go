package signer_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// FuzzVerifyStrict is differential: a header and a payload, encoded and
// then mutated (a string inserted into one of the three parts), are signed
// over whatever the first two parts then spell, so the signature is always
// right and only the form can be wrong. signgate may accept only what the
// reference strict parse (refStrict, written independently below) accepts,
// and it must read the same uri.
func FuzzVerifyStrict(f *testing.F) {
	fx := newFixture(f)
	const hdr = `{"alg":"RS256","kid":"k1","typ":"JWT"}`
	seeds := []struct {
		header, payload string
		part            uint8
		pos             uint16
		ins             string
	}{
		{hdr, `{"uri":"/v"}`, 0, 0, ""},
		{hdr, `{"uri":"/v","exp":1800003600}`, 2, 10, "\r\n"},
		{hdr, `{"uri":"/v","exp":"1800003600"}`, 1, 3, "\n"},
		{hdr, `{"uri":"/v"}`, 0, 0xffff, "="},
		{hdr, `{"uri":"/v"}`, 2, 0xffff, "=="},
		{hdr, `{"uri":"/v"}`, 1, 4, " "},
		{hdr, `null`, 0, 0, ""},
		{hdr, `[]`, 0, 0, ""},
		{hdr, `{"uri":null}`, 0, 0, ""},
		{hdr, `{"uri":"/v","uri":""}`, 0, 0, ""},
		{hdr, `{"uri":"/v","x":{"a":1,"a":2}}`, 0, 0, ""},
		{hdr, `{"exp":null}`, 0, 0, ""},
		{hdr, `{"exp":true}`, 0, 0, ""},
		{hdr, `{"nbf":""}`, 0, 0, ""},
		{hdr, `{"uri":"/v"} `, 0, 0, ""},
		{`{"alg":"RS256","kid":"k1","crit":["b64"]}`, `{"uri":"/v"}`, 0, 0, ""},
		{`{"alg":"RS256","kid":"k1","kid":"k2"}`, `{"uri":"/v"}`, 0, 0, ""},
		{`{"alg":"RS256","kid":"k1","jwk":{}}`, `{"uri":""}`, 0, 0, ""},
		{`{"alg":"none","kid":"k1"}`, `{"uri":""}`, 0, 0, ""},
		{`{"alg":"RS256","kid":"k1"}`, `{"uri":"/v","exp":1.8e9}`, 0, 0, ""},
	}
	for _, s := range seeds {
		f.Add(s.header, s.payload, s.part, s.pos, s.ins)
	}
	pub := &fx.key.Key.PublicKey
	f.Fuzz(func(t *testing.T, header, payload string, part uint8, pos uint16, ins string) {
		parts := [3]string{b64(header), b64(payload), ""}
		k := int(part % 4) // 3: no mutation
		if k < 2 {
			parts[k] = insertAt(parts[k], int(pos), ins)
		}
		in := parts[0] + "." + parts[1]
		sum := sha256.Sum256([]byte(in))
		sig, err := rsa.SignPKCS1v15(nil, fx.key.Key, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		parts[2] = base64.RawURLEncoding.EncodeToString(sig)
		if k == 2 {
			parts[2] = insertAt(parts[2], int(pos), ins)
		}
		tok := strings.Join(parts[:], ".")
		c, err := fx.v.Parse(tok)
		if err != nil {
			return
		}
		uri, ok := refStrict(tok, pub)
		if !ok {
			t.Fatalf("signgate accepts what the reference refuses: header %q payload %q part %d pos %d ins %q", header, payload, k, pos, ins)
		}
		if c.URI != uri {
			t.Fatalf("uri %q, reference reads %q", c.URI, uri)
		}
		if !c.Expires.IsZero() && fx.now.After(c.Expires.Add(time.Minute)) {
			t.Fatalf("expired token accepted: exp %s", c.Expires)
		}
	})
}

func insertAt(s string, pos int, ins string) string {
	pos %= len(s) + 1
	return s[:pos] + ins + s[pos:]
}

// refStrict is the reference strict parse, written plainly and apart from
// signer: three parts, each decoded with strict base64url and re-encoded to
// the same text; header and payload single JSON objects with no repeated
// member name at any depth; no crit; alg RS256 and kid "k1" strings; exp
// and nbf numbers or digit strings; uri a string when present; and an
// RS256 signature by pub. It returns the uri claim.
func refStrict(tok string, pub *rsa.PublicKey) (string, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", false
	}
	var raw [3][]byte
	for i, p := range parts {
		b, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil || base64.RawURLEncoding.EncodeToString(b) != p {
			return "", false
		}
		raw[i] = b
	}
	var h, c map[string]any
	if !refObject(raw[0]) || !refObject(raw[1]) ||
		json.Unmarshal(raw[0], &h) != nil || json.Unmarshal(raw[1], &c) != nil {
		return "", false
	}
	if _, ok := h["crit"]; ok {
		return "", false
	}
	if alg, _ := h["alg"].(string); alg != "RS256" {
		return "", false
	}
	if kid, _ := h["kid"].(string); kid != "k1" {
		return "", false
	}
	for _, name := range []string{"exp", "nbf"} {
		v, ok := c[name]
		if !ok {
			continue
		}
		switch v := v.(type) {
		case float64:
		case string:
			if v == "" || strings.Trim(v, "0123456789") != "" {
				return "", false
			}
		default:
			return "", false
		}
	}
	uri := ""
	if v, ok := c["uri"]; ok {
		s, isString := v.(string)
		if !isString {
			return "", false
		}
		uri = s
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], raw[2]) != nil {
		return "", false
	}
	return uri, true
}

// refObject walks b with encoding/json's token stream: exactly one
// object, and no object anywhere in it repeats a name.
func refObject(b []byte) bool {
	d := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		obj   bool
		names map[string]bool
		key   bool // the next token in this object is a name
	}
	var stack []*frame
	// done records that a value ended inside the innermost container.
	done := func() {
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
	}
	first := true
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return !first && len(stack) == 0
		}
		if err != nil {
			return false
		}
		if first {
			if tok != json.Delim('{') {
				return false
			}
			first = false
			stack = append(stack, &frame{obj: true, names: map[string]bool{}, key: true})
			continue
		}
		if len(stack) == 0 {
			return false // something after the object
		}
		top := stack[len(stack)-1]
		if top.obj && top.key {
			if tok == json.Delim('}') {
				stack = stack[:len(stack)-1]
				done()
				continue
			}
			name := tok.(string)
			if top.names[name] {
				return false
			}
			top.names[name] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, names: map[string]bool{}, key: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			done()
		default:
			done()
		}
	}
}
