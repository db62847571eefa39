package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyJSONFileFlow: "keys create --out KEY.json" writes the API's
// answer, kid and key in one file; "config -check gateway" reads it as
// start-up does (and checks it against the bucket's JWKS); the gateway
// signs with it, and the edge opens what it signed.
func TestKeyJSONFileFlow(t *testing.T) {
	environ, root := edgeTestEnviron(t)
	media, api, _ := startEdgeCommand(t, environ)
	client := map[string]string{"SIGNGATE_API_URL": api, "SIGNGATE_API_KEY": edgeTestAPIKey}
	if _, errOut, code := cli(t, client, "policy", "set", "media", "authenticated"); code != 0 {
		t.Fatalf("policy set: exit %d: %s", code, errOut)
	}
	keyFile := filepath.Join(root, "media.json")
	out, errOut, code := cli(t, client, "keys", "create", "--bucket", "media", "--out", keyFile)
	if code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "PRIVATE KEY") {
		t.Error("keys create printed the private key unasked")
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		SigningKey struct {
			ID, Bucket, PrivateKey string
		} `json:"signing_key"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", keyFile, err)
	}
	var raw map[string]map[string]any
	json.Unmarshal(data, &raw)
	k := doc.SigningKey
	if k.ID == "" || k.Bucket != "media" || !strings.Contains(raw["signing_key"]["private_key"].(string), "BEGIN RSA PRIVATE KEY") {
		t.Fatalf("%s holds %s", keyFile, strings.ReplaceAll(string(data), "\n", " ")[:80])
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi, err)
	}

	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app") }))
	defer app.Close()
	gwEnv := map[string]string{
		"SIGNGATE_LISTEN":                 "127.0.0.1:0",
		"SIGNGATE_METRICS_LISTEN":         "127.0.0.1:0",
		"SIGNGATE_UPSTREAM":               app.URL,
		"SIGNGATE_AUTH":                   "header",
		"SIGNGATE_TRUSTED_PROXIES":        "127.0.0.1/32",
		"SIGNGATE_ROUTES_0_PREFIX":        "/media/",
		"SIGNGATE_ROUTES_0_STRIP_PREFIX":  "true",
		"SIGNGATE_ROUTES_0_CDN_BASE":      media,
		"SIGNGATE_ROUTES_0_KEY_JSON_FILE": keyFile,
		"SIGNGATE_ROUTES_0_JWKS_URL":      api + "/v1/buckets/media/jwks.json",
		"SIGNGATE_ROUTES_0_SCOPE":         "dir",
		"GOGC":                            "100",
	}
	if out, errOut, code := cli(t, gwEnv, "config", "-check", "gateway"); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("config -check gateway: exit %d: %s%s", code, out, errOut)
	}
	// A PEM where the JSON is expected, and a JSON without the private
	// key: both named by their variable, the key never shown.
	pem := filepath.Join(root, "plain.pem")
	os.WriteFile(pem, []byte(raw["signing_key"]["private_key"].(string)), 0o600)
	noKey := filepath.Join(root, "listed.json")
	os.WriteFile(noKey, []byte(`{"signing_key":{"id":"`+k.ID+`","bucket":"media"}}`), 0o600)
	for _, bad := range []string{pem, noKey} {
		env := map[string]string{}
		for k, v := range gwEnv {
			env[k] = v
		}
		env["SIGNGATE_ROUTES_0_KEY_JSON_FILE"] = bad
		out, errOut, code := cli(t, env, "config", "-check", "gateway")
		if code != 1 || !strings.Contains(errOut, "SIGNGATE_ROUTES_0_KEY_JSON_FILE: ") || strings.Contains(out+errOut, "MII") {
			t.Errorf("config -check with %s: exit %d: %s%s", filepath.Base(bad), code, out, errOut)
		}
	}

	addrs, _, _ := startCommand(t, gwEnv, []string{"gateway", "metrics"}, "gateway")
	req, _ := http.NewRequest(http.MethodGet, "http://"+addrs["gateway"]+"/media/v/seg.ts", nil)
	req.Header.Set("X-Forwarded-User", "alice")
	resp, err := http.DefaultClient.Do(req) // follows the redirect to the edge
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(b) != "SEGMENT" {
		t.Fatalf("through gateway and edge: %d %q", resp.StatusCode, b)
	}
	if !strings.Contains(resp.Request.URL.String(), "auth=") {
		t.Errorf("not signed: %s", resp.Request.URL)
	}
	st, body := httpGet(t, "http://"+addrs["metrics"]+"/readyz")
	if st != http.StatusOK || !strings.Contains(body, `"status":"ok"`) || !strings.Contains(body, `"kid":"`+k.ID+`"`) {
		t.Errorf("readyz %d %s", st, body)
	}
}
