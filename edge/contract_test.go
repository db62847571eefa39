package edge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/testenv"
)

// The control API's answers, pinned field by field from the raw bytes: a
// client written against Qencode's documentation decodes them unchanged.

var (
	uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	// pemBody is a PEM block in a JSON string, shortened in the logs.
	pemBody = regexp.MustCompile(`(-----BEGIN [A-Z ]+-----\\n)[^"]*(\\n-----END)`)
)

// field checks one raw JSON value.
type field func(json.RawMessage) error

// jsonType is the JSON type of a raw value, from its first byte.
func jsonType(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "string"
	case 'n':
		return "null"
	case 't', 'f':
		return "boolean"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "number"
}

func isNull(raw json.RawMessage) error {
	if jsonType(raw) != "null" {
		return fmt.Errorf("is %s %s, want null", jsonType(raw), raw)
	}
	return nil
}

// isString wants a string for which ok holds.
func isString(what string, ok func(string) bool) field {
	return func(raw json.RawMessage) error {
		var s string
		if jsonType(raw) != "string" || json.Unmarshal(raw, &s) != nil {
			return fmt.Errorf("is %s %s, want a string", jsonType(raw), raw)
		}
		if !ok(s) {
			return fmt.Errorf("is %q, want %s", s, what)
		}
		return nil
	}
}

func isJSONText(want string) field {
	return isString(fmt.Sprintf("%q", want), func(s string) bool { return s == want })
}

func isZero(raw json.RawMessage) error {
	if jsonType(raw) != "number" || string(raw) != "0" {
		return fmt.Errorf("is %s %s, want the number 0", jsonType(raw), raw)
	}
	return nil
}

// object checks that raw is a JSON object with exactly the fields of want,
// each as want says, and returns its fields.
func object(t *testing.T, what string, raw json.RawMessage, want map[string]field) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if jsonType(raw) != "object" || json.Unmarshal(raw, &m) != nil {
		t.Fatalf("%s: not a JSON object: %s", what, raw)
	}
	var got, exp []string
	for k := range m {
		got = append(got, k)
	}
	for k := range want {
		exp = append(exp, k)
	}
	slices.Sort(got)
	slices.Sort(exp)
	if !slices.Equal(got, exp) {
		t.Errorf("%s: fields %v, want %v", what, got, exp)
	}
	for k, check := range want {
		if v, ok := m[k]; ok {
			if err := check(v); err != nil {
				t.Errorf("%s: %q %v", what, k, err)
			}
		}
	}
	return m
}

// rawCall is call, answering the body's bytes, and logs the exchange
// with private keys shortened.
func (h *harness) rawCall(method, path, bearer, body string) (int, json.RawMessage) {
	h.t.Helper()
	st, data, _ := h.send(method, path, bearer, body)
	shown := pemBody.ReplaceAllString(strings.TrimSpace(string(data)), "$1...$2")
	h.t.Logf("%s %s %s\n  -> %d %s", method, path, body, st, shown)
	return st, data
}

// keyFields are a key object's fields: name, bucket and stream_id as given
// ("" wants null), the public key, and in the create answer alone the
// private key.
func keyFields(h *harness, name, bucket, stream string, private bool) map[string]field {
	orNull := func(s string) field {
		if s == "" {
			return isNull
		}
		return isJSONText(s)
	}
	m := map[string]field{
		"id":        isString("a lower-case UUID v4", uuidV4.MatchString),
		"name":      orNull(name),
		"bucket":    orNull(bucket),
		"stream_id": orNull(stream),
		"created":   isJSONText(h.clock.Now().UTC().Format("2006-01-02 15:04:05")),
	}
	m["public_key"] = isString("PKIX PEM", func(s string) bool { return strings.HasPrefix(s, "-----BEGIN PUBLIC KEY-----\n") })
	if private {
		m["private_key"] = isString("PKCS#1 PEM", func(s string) bool { return strings.HasPrefix(s, "-----BEGIN RSA PRIVATE KEY-----\n") })
	}
	return m
}

// oneKey is the answer holding one key: {"status", "error", "signing_key"}.
func oneKey() map[string]field {
	return map[string]field{"status": isJSONText("ok"), "error": isZero, "signing_key": func(json.RawMessage) error { return nil }}
}

// testKeyContract replays the seed's calls (create, list, rename, delete)
// and pins every field of the answers.
func testKeyContract(t *testing.T, h *harness) {
	h.clock.Advance(40*time.Second + 500*time.Millisecond) // created drops the fraction
	tok := h.bearer()
	create := func(body, name, bucket, stream string) string {
		t.Helper()
		st, raw := h.rawCall("POST", "/v1/signing-keys", tok, body)
		if st != http.StatusOK {
			t.Fatalf("create %s: %d", body, st)
		}
		top := object(t, "create "+body, raw, oneKey())
		k := object(t, "create "+body+": signing_key", top["signing_key"], keyFields(h, name, bucket, stream, true))
		var id string
		json.Unmarshal(k["id"], &id)
		return id
	}
	id := create(`{"bucket":"media"}`, "", "media", "")
	idNull := create(`{"bucket":"media","name":null}`, "", "media", "")
	idStream := create(`{"stream_id":"live-1","name":"camera"}`, "camera", "", "live-1")
	if id == idNull {
		t.Fatalf("two keys with id %s", id)
	}

	st, raw := h.rawCall("GET", "/v1/signing-keys", tok, "")
	top := object(t, "list", raw, map[string]field{"status": isJSONText("ok"), "error": isZero, "signing_keys": func(json.RawMessage) error { return nil }})
	var list []json.RawMessage
	if st != http.StatusOK || jsonType(top["signing_keys"]) != "array" || json.Unmarshal(top["signing_keys"], &list) != nil || len(list) != 3 {
		t.Fatalf("list: %d %s", st, raw)
	}
	for i, item := range list { // one created time: the order is the ids'
		var k struct{ ID string }
		json.Unmarshal(item, &k)
		want := keyFields(h, "", "media", "", false)
		if k.ID == idStream {
			want = keyFields(h, "camera", "", "live-1", false)
		}
		object(t, fmt.Sprintf("list[%d]", i), item, want)
	}

	for _, tc := range []struct{ method, id, body, name string }{
		{"GET", idStream, "", "camera"},
		{"PUT", id, `{"name":"web player"}`, "web player"},
		{"GET", id, "", "web player"},
		{"PUT", id, `{"name":null}`, ""},
		{"PUT", idNull, `{"name":""}`, ""},
	} {
		st, raw := h.rawCall(tc.method, "/v1/signing-keys/"+tc.id, tok, tc.body)
		what := tc.method + " " + tc.id + " " + tc.body
		top := object(t, what, raw, oneKey())
		bucket, stream := "media", ""
		if tc.id == idStream {
			bucket, stream = "", "live-1"
		}
		object(t, what+": signing_key", top["signing_key"], keyFields(h, tc.name, bucket, stream, false))
		if st != http.StatusOK {
			t.Errorf("%s: %d", what, st)
		}
	}

	st, raw = h.rawCall("DELETE", "/v1/signing-keys/"+id, tok, "")
	object(t, "delete", raw, confirmFields())
	if st != http.StatusOK {
		t.Errorf("delete: %d", st)
	}
}

// confirmFields are the answer of a key deletion or a policy change on
// one edge: Qencode's {"status","error"}, then "confirmed" (true),
// "edges" (1) and "pending" (empty), which Qencode's clients ignore.
func confirmFields() map[string]field {
	return map[string]field{
		"status": isJSONText("ok"), "error": isZero,
		"confirmed": func(raw json.RawMessage) error {
			if string(raw) != "true" {
				return fmt.Errorf("is %s, want true", raw)
			}
			return nil
		},
		"edges": func(raw json.RawMessage) error {
			if string(raw) != "1" {
				return fmt.Errorf("is %s, want 1", raw)
			}
			return nil
		},
		"pending": func(raw json.RawMessage) error {
			if string(raw) != "[]" {
				return fmt.Errorf("is %s, want []", raw)
			}
			return nil
		},
	}
}

// testPolicyContract pins the other answers: the bearer token exchange
// and the bucket policy.
func testPolicyContract(t *testing.T, h *harness) {
	st, raw := h.rawCall("POST", "/v1/access_token/"+testAPIKey, "", "")
	token := isString("a token of 256 bits", func(s string) bool { return len(s) >= 43 })
	top := object(t, "access_token", raw, map[string]field{
		"status": isJSONText("ok"), "error": isZero,
		"token":        token,
		"access_token": token,
		"expire": isString("RFC 3339, 24 h on", func(s string) bool {
			exp, err := time.Parse(time.RFC3339, s)
			return err == nil && exp.Equal(h.clock.Now().Add(24*time.Hour).Truncate(time.Second))
		}),
	})
	var tok, again string
	json.Unmarshal(top["token"], &tok)
	json.Unmarshal(top["access_token"], &again)
	if st != http.StatusOK || tok == "" || again != tok {
		t.Fatalf("access_token: %d; token %q, access_token %q, want the same token", st, tok, again)
	}
	st, raw = h.rawCall("PUT", "/v1/buckets/media/policy/authenticated", tok, "")
	object(t, "set policy", raw, confirmFields())
	if st != http.StatusOK {
		t.Errorf("set policy: %d", st)
	}
	st, raw = h.rawCall("GET", "/v1/buckets/media/policy", tok, "")
	object(t, "get policy", raw, map[string]field{
		"status": isJSONText("ok"), "error": isZero, "bucket": isJSONText("media"), "policy": isJSONText("authenticated"),
	})
	if st != http.StatusOK {
		t.Errorf("get policy: %d", st)
	}
}

func TestAPIContractSQLite(t *testing.T) {
	h := newHarness(t, nil)
	testKeyContract(t, h)
	testPolicyContract(t, h)
}

func TestAPIContractPostgres(t *testing.T) {
	dbURL := testenv.PostgresSchema(t)
	h := newHarness(t, func(c *config.Edge) { c.DB = config.Database(dbURL) })
	testKeyContract(t, h)
	testPolicyContract(t, h)
}
