package edge

import (
	"strings"
	"testing"

	"github.com/signgate/signgate/signer"
)

// createKey creates a key through the API and returns the answer's key.
func (h *harness) createKey(tok, body string) map[string]any {
	h.t.Helper()
	st, m, _ := h.call("POST", "/v1/signing-keys", tok, body)
	if st != 200 || m["status"] != "ok" {
		h.t.Fatalf("create key %s: %d %v", body, st, m)
	}
	return m["signing_key"].(map[string]any)
}

func TestAPISigningKeys(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.bearer()

	created := h.createKey(tok, `{"bucket":"media","name":"first"}`)
	id, _ := created["id"].(string)
	priv, err := signer.ParsePrivateKey([]byte(created["private_key"].(string)))
	if err != nil || !strings.HasPrefix(created["private_key"].(string), "-----BEGIN RSA PRIVATE KEY-----") {
		t.Fatalf("private key is not PKCS#1 PEM: %v", err)
	}
	if created["name"] != "first" || created["bucket"] != "media" || created["created"] != h.clock.Now().UTC().Format(CreatedLayout) {
		t.Errorf("created key: %v", created)
	}
	pub, err := signer.ParsePublicKey([]byte(created["public_key"].(string)))
	if err != nil || !pub.Equal(&priv.PublicKey) {
		t.Errorf("public key does not match the private key: %v", err)
	}
	stream := h.createKey(tok, `{"stream_id":"live-42"}`)

	// Never stored, never shown again.
	st, m, _ := h.call("GET", "/v1/signing-keys", tok, "")
	list, _ := m["signing_keys"].([]any)
	if st != 200 || len(list) != 2 {
		t.Fatalf("list: %d %v", st, m)
	}
	raw := signer.EncodePrivateKey(priv)
	rows, _ := h.e.store.Keys(t.Context())
	for _, k := range rows {
		if strings.Contains(string(k.PublicKey), "PRIVATE") {
			t.Errorf("a private key is stored")
		}
	}
	for _, item := range list {
		if _, ok := item.(map[string]any)["private_key"]; ok {
			t.Errorf("the list shows a private key")
		}
	}
	if strings.Contains(h.logs.String(), string(raw[40:80])) {
		t.Errorf("the private key reached the log")
	}
	st, m, _ = h.call("GET", "/v1/signing-keys?bucket=media", tok, "")
	if list, _ := m["signing_keys"].([]any); st != 200 || len(list) != 1 {
		t.Errorf("list ?bucket=media: %d %v", st, m)
	}

	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"get", "GET", "/v1/signing-keys/" + id, "", 200, ""},
		{"get stream key", "GET", "/v1/signing-keys/" + stream["id"].(string), "", 200, ""},
		{"get unknown", "GET", "/v1/signing-keys/nope", "", 404, "not_found"},
		{"rename", "PUT", "/v1/signing-keys/" + id, `{"name":"renamed"}`, 200, ""},
		{"rename unknown", "PUT", "/v1/signing-keys/nope", `{"name":"x"}`, 404, "not_found"},
		{"rename malformed", "PUT", "/v1/signing-keys/" + id, `{"name":`, 400, "invalid_json"},
		{"rename wrong type", "PUT", "/v1/signing-keys/" + id, `{"name":5}`, 400, "invalid_json"},
		{"rename unknown field", "PUT", "/v1/signing-keys/" + id, `{"nam":"x"}`, 400, "invalid_json"},
		{"rename control char", "PUT", "/v1/signing-keys/" + id, `{"name":"a\u0007"}`, 400, "invalid_request"},
		{"create empty body", "POST", "/v1/signing-keys", ``, 400, "invalid_json"},
		{"create malformed", "POST", "/v1/signing-keys", `{bucket:media}`, 400, "invalid_json"},
		{"create array", "POST", "/v1/signing-keys", `[]`, 400, "invalid_json"},
		{"create two objects", "POST", "/v1/signing-keys", `{"bucket":"media"}{}`, 400, "invalid_json"},
		{"create trailing garbage", "POST", "/v1/signing-keys", `{"bucket":"media"} x`, 400, "invalid_json"},
		{"create neither", "POST", "/v1/signing-keys", `{}`, 400, "invalid_request"},
		{"create both", "POST", "/v1/signing-keys", `{"bucket":"media","stream_id":"s"}`, 400, "invalid_request"},
		{"create bad stream", "POST", "/v1/signing-keys", `{"stream_id":"a/b"}`, 400, "invalid_request"},
		{"create unknown bucket", "POST", "/v1/signing-keys", `{"bucket":"nope"}`, 404, "bucket_not_found"},
		{"create long name", "POST", "/v1/signing-keys", `{"bucket":"media","name":"` + strings.Repeat("n", 200) + `"}`, 400, "invalid_request"},
		{"create too large", "POST", "/v1/signing-keys", `{"bucket":"media","name":"` + strings.Repeat("n", MaxBody) + `"}`, 413, "request_too_large"},
		{"delete", "DELETE", "/v1/signing-keys/" + id, "", 200, ""},
		{"delete again", "DELETE", "/v1/signing-keys/" + id, "", 404, "not_found"},
		{"get deleted", "GET", "/v1/signing-keys/" + id, "", 404, "not_found"},
		{"patch", "PATCH", "/v1/signing-keys/" + id, "", 405, "method_not_allowed"},
		{"unknown path", "GET", "/v1/nothing", "", 404, "not_found"},
		{"outside v1", "GET", "/", "", 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, m, hdr := h.call(tc.method, tc.path, tok, tc.body)
			if st != tc.status {
				t.Fatalf("%d %v, want %d", st, m, tc.status)
			}
			if tc.code != "" && code(m) != tc.code {
				t.Errorf("code %q, want %q (%v)", code(m), tc.code, m)
			}
			if tc.code == "" && m["status"] != "ok" {
				t.Errorf("no status ok: %v", m)
			}
			if hdr.Get("Content-Type") != "application/json" || hdr.Get("Cache-Control") != "no-store" {
				t.Errorf("Content-Type %q, Cache-Control %q", hdr.Get("Content-Type"), hdr.Get("Cache-Control"))
			}
			if tc.name == "rename" {
				if k := m["signing_key"].(map[string]any); k["name"] != "renamed" || k["id"] != id {
					t.Errorf("renamed key: %v", k)
				}
			}
		})
	}
	if ks, _ := h.e.store.Keys(t.Context()); len(ks) != 1 {
		t.Errorf("%d keys left, want the stream key alone (rejected creates must store nothing)", len(ks))
	}
}

func TestAPIJWKS(t *testing.T) {
	cfg := baseConfig(t, t.TempDir())
	sq, err := OpenSQLite(t.Context(), cfg.DB.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	fs := &flakyStore{Store: sq}
	h := startHarnessStore(t, cfg, newClock(), fs)
	k1 := h.addKey("key1.pem", "k1", "media")
	h.addKey("key2.pem", "ko", "other")
	// The JWKS is public: it comes from the edge's snapshot, and no
	// anonymous request reads the store.
	fs.fail.Store(true)
	st, m, _ := h.call("GET", "/v1/buckets/media/jwks.json", "", "")
	keys, _ := m["keys"].([]any)
	if st != 200 || len(keys) != 1 {
		t.Fatalf("jwks: %d %v", st, m)
	}
	jwk := keys[0].(map[string]any)
	if jwk["kid"] != "k1" || jwk["alg"] != "RS256" || jwk["kty"] != "RSA" || jwk["d"] != nil {
		t.Errorf("jwk %v", jwk)
	}
	// What the JWKS holds verifies the bucket's tokens.
	resp, err := h.api.Client().Get(h.api.URL + "/v1/buckets/media/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	set, err := signer.ParseJWKSet([]byte(body(t, resp)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signer.NewVerifier(set).Verify(sign(t, k1, signer.Claims{}), "/x"); err != nil {
		t.Errorf("JWKS key does not verify: %v", err)
	}
	if st, m, _ := h.call("GET", "/v1/buckets/nope/jwks.json", "", ""); st != 404 || code(m) != "bucket_not_found" {
		t.Errorf("unknown bucket: %d %v", st, m)
	}
	if st, m, _ := h.call("GET", "/v1/buckets/other/jwks.json", "", ""); st != 200 || len(m["keys"].([]any)) != 1 {
		t.Errorf("other: %d %v", st, m)
	}
}
