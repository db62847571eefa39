package signer

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/internal/testenv"
)

// oracleNode is the fixture with the vendors' npm signers, installed from
// its package-lock.json by `npm ci` (.ci/test does it).
const oracleNode = "testdata/node"

// runNodeOracle runs script of the oracle fixture with in as JSON on stdin
// and decodes its JSON answer into out. A missing node or fixture skips
// the test (fails it under CI).
func runNodeOracle(t *testing.T, script, pkg string, in, out any) {
	t.Helper()
	node := testenv.Program(t, "node")
	if _, err := os.Stat(filepath.Join(oracleNode, "node_modules", pkg, "package.json")); err != nil {
		testenv.Missing(t, "the npm package "+pkg+" in signer/"+oracleNode, "run npm ci there")
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(oracleNode, script))
	cmd.Stdin = bytes.NewReader(b)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	if err := json.Unmarshal(res, out); err != nil {
		t.Fatalf("node %s answered %q: %v", script, res, err)
	}
}

type edgeAuthCase struct {
	Key         string   `json:"key"`
	Algorithm   string   `json:"algorithm"`
	Salt        string   `json:"salt,omitempty"`
	EscapeEarly bool     `json:"escapeEarly"`
	StartTime   int64    `json:"startTime,omitempty"`
	EndTime     int64    `json:"endTime"`
	IP          string   `json:"ip,omitempty"`
	SessionID   string   `json:"sessionId,omitempty"`
	Payload     string   `json:"payload,omitempty"`
	ACL         []string `json:"acl,omitempty"`
	URL         string   `json:"url,omitempty"`
}

// genEdgeAuthCases makes n cases over every option: ACL lists with
// wildcards, URLs with reserved and non-ASCII bytes, ip, id, data, start,
// salt, escape-early and the three algorithms.
func genEdgeAuthCases(r *rand.Rand, n int) []edgeAuthCase {
	const alpha = "abcXYZ019-_.!*'()%+,;=@:$&é/ ?"
	str := func(max int) string {
		var b strings.Builder
		for range 1 + r.IntN(max) {
			b.WriteString(string([]rune(alpha)[r.IntN(len([]rune(alpha)))]))
		}
		return b.String()
	}
	opt := func(s string) string {
		if r.IntN(2) == 0 {
			return ""
		}
		return s
	}
	algs := []string{"sha256", "sha1", "md5"}
	cases := make([]edgeAuthCase, n)
	for i := range cases {
		key := make([]byte, 1+r.IntN(32))
		for j := range key {
			key[j] = byte(r.IntN(256))
		}
		c := edgeAuthCase{
			Key: strings.ToLower(strings.TrimSpace(hexString(key))), Algorithm: algs[i%3],
			EscapeEarly: r.IntN(2) == 0, EndTime: 1 + r.Int64N(1<<32),
			IP:        opt([]string{"203.0.113.7", "2001:db8::1", "10.1.2.3"}[r.IntN(3)]),
			SessionID: opt(str(10)), Payload: opt(str(12)), Salt: opt(str(6)),
		}
		if r.IntN(2) == 0 {
			c.StartTime = c.EndTime - r.Int64N(c.EndTime)
			if c.StartTime == 0 {
				c.StartTime = 1
			}
		}
		if r.IntN(3) == 0 {
			c.URL = "/" + str(20)
		} else {
			for range 1 + r.IntN(3) {
				c.ACL = append(c.ACL, "/"+strings.NewReplacer("!", "", "~", "").Replace(str(8))+[]string{"/*", "*", "", "/?.ts"}[r.IntN(4)])
			}
		}
		for _, s := range []*string{&c.SessionID, &c.Payload, &c.Salt} {
			*s = strings.ReplaceAll(*s, "~", "")
		}
		cases[i] = c
	}
	return cases
}

func hexString(b []byte) string {
	const h = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = h[c>>4], h[c&15]
	}
	return string(out)
}

func (c edgeAuthCase) mint(t *testing.T) (*EdgeAuth, string) {
	t.Helper()
	e, err := NewEdgeAuth(c.Key, c.Algorithm)
	if err != nil {
		t.Fatal(err)
	}
	e.Salt, e.EscapeEarly = c.Salt, c.EscapeEarly
	tok := EdgeAuthToken{End: time.Unix(c.EndTime, 0), IP: c.IP, SessionID: c.SessionID, Data: c.Payload}
	if c.StartTime != 0 {
		tok.Start = time.Unix(c.StartTime, 0)
	}
	var s string
	if c.URL != "" {
		s, err = e.URLToken(c.URL, tok)
	} else {
		s, err = e.ACLToken(c.ACL, tok)
	}
	if err != nil {
		t.Fatalf("%+v: %v", c, err)
	}
	return e, s
}

// TestEdgeAuthOracle mints generated cases with EdgeAuth and with Akamai's
// own library (npm akamai-edgeauth 0.2.0, run by node), byte for byte,
// and verifies each token with VerifyACL or VerifyURL.
func TestEdgeAuthOracle(t *testing.T) {
	cases := genEdgeAuthCases(rand.New(rand.NewPCG(14, 2)), 300)
	var want []struct{ Token, Error string }
	runNodeOracle(t, "edgeauth.js", "akamai-edgeauth", cases, &want)
	if len(want) != len(cases) {
		t.Fatalf("oracle answered %d cases of %d", len(want), len(cases))
	}
	for i, c := range cases {
		if want[i].Error != "" {
			t.Fatalf("case %d %+v: oracle error %s", i, c, want[i].Error)
		}
		e, got := c.mint(t)
		if got != want[i].Token {
			t.Fatalf("case %d %+v\n got %s\nwant %s", i, c, got, want[i].Token)
		}
		at := time.Unix(c.EndTime, 0)
		if c.URL != "" {
			if _, err := e.VerifyURL(got, c.URL, c.IP, at); err != nil {
				t.Fatalf("case %d: VerifyURL = %v", i, err)
			}
			continue
		}
		if _, err := e.VerifyACL(got, strings.NewReplacer("*", "x/y", "?", "z").Replace(c.ACL[0]), c.IP, at); err != nil {
			t.Fatalf("case %d: VerifyACL = %v", i, err)
		}
		if _, err := e.VerifyACL(got, c.ACL[0], c.IP, at.Add(time.Second)); !errors.Is(err, ErrExpired) {
			t.Fatalf("case %d: VerifyACL late = %v", i, err)
		}
	}
}

func TestEdgeAuthVerify(t *testing.T) {
	e, err := NewEdgeAuth("0a1b2c3d", "sha256")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.ACLToken([]string{"/v/abc/*", "/keys/?.key"}, EdgeAuthToken{Start: time.Unix(100, 0), End: time.Unix(200, 0), IP: "203.0.113.7"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, ip string
		at       int64
		want     error
	}{
		{"/v/abc/x.ts", "203.0.113.7", 150, nil},
		{"/v/abc/a/b/c.ts", "", 200, nil},
		{"/keys/1.key", "203.0.113.7", 150, nil},
		{"/v/abcdef", "203.0.113.7", 150, ErrScope},
		{"/keys/12.key", "203.0.113.7", 150, ErrScope},
		{"/v/abc/x.ts", "198.51.100.1", 150, ErrScope},
		{"/v/abc/x.ts", "203.0.113.7", 99, ErrNotYetValid},
		{"/v/abc/x.ts", "203.0.113.7", 201, ErrExpired},
	} {
		if _, err := e.VerifyACL(tok, c.path, c.ip, time.Unix(c.at, 0)); !errors.Is(err, c.want) {
			t.Errorf("VerifyACL(%s, %s, %d) = %v, want %v", c.path, c.ip, c.at, err, c.want)
		}
	}
	other, _ := NewEdgeAuth("0a1b2c3e", "sha256")
	if _, err := other.VerifyACL(tok, "/v/abc/x", "", time.Unix(150, 0)); !errors.Is(err, ErrSignature) {
		t.Errorf("VerifyACL with another key = %v", err)
	}
	for _, k := range []string{"", "abc", "zz"} {
		if _, err := NewEdgeAuth(k, "sha256"); !errors.Is(err, ErrKey) {
			t.Errorf("NewEdgeAuth(%q) = %v", k, err)
		}
	}
	if _, err := NewEdgeAuth("ab", "sha512"); !errors.Is(err, ErrAlgorithm) {
		t.Errorf("NewEdgeAuth(sha512) = %v", err)
	}
}

// FuzzEdgeAuth: a minted ACL token verifies for a path its ACL covers,
// and a changed byte never verifies.
func FuzzEdgeAuth(f *testing.F) {
	f.Add("/v/abc", "id-1", int64(1700000000), uint(5))
	e, err := NewEdgeAuth("5ec0e7", "sha256")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, dir, id string, end int64, flip uint) {
		if end <= 0 || dir == "" || strings.ContainsAny(dir+id, "~!*?") {
			return
		}
		tok, err := e.ACLToken([]string{dir + "/*"}, EdgeAuthToken{End: time.Unix(end, 0), SessionID: id})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.VerifyACL(tok, dir+"/x", "", time.Unix(end, 0)); err != nil {
			t.Fatalf("VerifyACL(own) = %v", err)
		}
		b := []byte(tok)
		b[int(flip%uint(len(b)))] ^= 0x01
		if _, err := e.VerifyACL(string(b), dir+"/x", "", time.Unix(end, 0)); err == nil {
			t.Fatalf("accepted %q", b)
		}
	})
}
