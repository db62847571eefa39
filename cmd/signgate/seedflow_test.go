package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSeedFlow is the whole scheme end to end, with the real commands on
// real listeners: set the bucket's policy to authenticated, create a key
// through the edge's API, start the gateway with the private key the API
// returned, request media through the gateway, follow its redirect to the
// edge and get the bytes; delete the key and get 403; set the policy back
// to public and get 200 without a token.
func TestSeedFlow(t *testing.T) {
	environ, root := edgeTestEnviron(t)
	media, api, edgeLog := startEdgeCommand(t, environ)
	client := map[string]string{"SIGNGATE_API_URL": api, "SIGNGATE_API_KEY": edgeTestAPIKey}

	if _, errOut, code := cli(t, client, "policy", "set", "media", "authenticated"); code != 0 {
		t.Fatalf("policy set authenticated: exit %d: %s", code, errOut)
	}
	if st, _ := httpGet(t, media+"/v/seg.ts"); st != http.StatusUnauthorized {
		t.Fatalf("authenticated bucket without a token: %d, want 401", st)
	}
	keyFile := filepath.Join(root, "gateway-key.pem")
	out, errOut, code := cli(t, client, "keys", "create", "--bucket", "media", "--name", "seed", "--out", keyFile)
	if code != 0 {
		t.Fatalf("keys create: exit %d: %s", code, errOut)
	}
	kid := regexp.MustCompile(`(?m)^id: (\S+)$`).FindStringSubmatch(out)[1]
	if strings.Contains(out, "PRIVATE KEY") {
		t.Error("keys create printed the private key without --print-private-key")
	}

	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "app:"+r.URL.Path)
	}))
	defer app.Close()
	addrs, gwLog, _ := startCommand(t, map[string]string{
		"SIGNGATE_LISTEN":                "127.0.0.1:0",
		"SIGNGATE_METRICS_LISTEN":        "127.0.0.1:0",
		"SIGNGATE_UPSTREAM":              app.URL,
		"SIGNGATE_AUTH":                  "header",
		"SIGNGATE_TRUSTED_PROXIES":       "127.0.0.1/32",
		"SIGNGATE_ROUTES_0_PREFIX":       "/media/",
		"SIGNGATE_ROUTES_0_STRIP_PREFIX": "true",
		"SIGNGATE_ROUTES_0_CDN_BASE":     media,
		"SIGNGATE_ROUTES_0_KEY_FILE":     keyFile,
		"SIGNGATE_ROUTES_0_KEY_ID":       kid,
		"SIGNGATE_ROUTES_0_SCOPE":        "dir",
		"GOGC":                           "100",
	}, []string{"gateway", "metrics"}, "gateway")
	gw := "http://" + addrs["gateway"]

	get := func(user string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, gw+"/media/v/seg.ts?start=1", nil)
		if user != "" {
			req.Header.Set("X-Forwarded-User", user)
		}
		resp, err := http.DefaultClient.Do(req) // follows the redirect to the edge
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, body := get("alice")
	if resp.StatusCode != http.StatusOK || body != "SEGMENT" {
		t.Fatalf("through gateway and edge: %d %q", resp.StatusCode, body)
	}
	signed := resp.Request.URL.String()
	if !strings.HasPrefix(signed, media+"/v/seg.ts?start=1&auth=") {
		t.Fatalf("redirected to %s", signed)
	}
	t.Logf("signed URL: %.90s...", signed)
	if resp, _ := get(""); resp.StatusCode != http.StatusUnauthorized || resp.Request.URL.Host != addrs["gateway"] {
		t.Fatalf("without a user: %d from %s, want 401 from the gateway", resp.StatusCode, resp.Request.URL.Host)
	}
	// The app behind the gateway still answers everything else.
	if st, b := httpGet(t, gw+"/account"); st != 200 || b != "app:/account" {
		t.Fatalf("pass-through: %d %q", st, b)
	}

	if _, errOut, code := cli(t, client, "keys", "delete", kid); code != 0 {
		t.Fatalf("keys delete: exit %d: %s", code, errOut)
	}
	if st, b := httpGet(t, signed); st != http.StatusForbidden || !strings.Contains(b, "unknown_key") {
		t.Fatalf("the signed URL after the delete: %d %q, want 403 unknown_key", st, b)
	}
	if resp, b := get("alice"); resp.StatusCode != http.StatusForbidden || !strings.Contains(b, "unknown_key") {
		t.Fatalf("a fresh redirect after the delete: %d %q, want 403 unknown_key", resp.StatusCode, b)
	}

	if _, errOut, code := cli(t, client, "policy", "set", "media", "public"); code != 0 {
		t.Fatalf("policy set public: exit %d: %s", code, errOut)
	}
	if st, b := httpGet(t, media+"/v/seg.ts"); st != http.StatusOK || b != "SEGMENT" {
		t.Fatalf("public bucket without a token: %d %q", st, b)
	}

	pemBytes, _ := os.ReadFile(keyFile)
	tok := signed[strings.Index(signed, "auth=")+5:]
	for name, l := range map[string]string{"edge": edgeLog.String(), "gateway": gwLog.String()} {
		for _, secret := range []string{tok, string(pemBytes[40:80]), edgeTestAPIKey} {
			if strings.Contains(l, secret) {
				t.Errorf("the %s's log holds a secret (%.12s...)", name, secret)
			}
		}
	}
}
