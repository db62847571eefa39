package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const gatewaySecret = "0123456789abcdef0123456789abcdef-cmd-test"

func gatewayEnviron(t *testing.T, keyFile, upstream string) map[string]string {
	return map[string]string{
		"SIGNGATE_LISTEN":            "127.0.0.1:0",
		"SIGNGATE_METRICS_LISTEN":    "127.0.0.1:0",
		"SIGNGATE_UPSTREAM":          upstream,
		"SIGNGATE_AUTH":              "jwt",
		"SIGNGATE_JWT_SECRET":        gatewaySecret,
		"SIGNGATE_WATCH_KEYS":        "false",
		"SIGNGATE_ROUTES_0_PREFIX":   "/media",
		"SIGNGATE_ROUTES_0_CDN_BASE": "https://cdn.example.com",
		"SIGNGATE_ROUTES_0_KEY_FILE": keyFile,
		"SIGNGATE_ROUTES_0_KEY_ID":   "k1",
		"GOGC":                       "100", // leave this test process's GC alone
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestGatewayCommand(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "app:"+r.URL.Path)
	}))
	defer app.Close()
	dir := t.TempDir()
	keyFile, kidFile := filepath.Join(dir, "key.pem"), filepath.Join(dir, "kid")
	copyFile(t, testKeyFile, keyFile)
	if err := os.WriteFile(kidFile, []byte("k1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := gatewayEnviron(t, keyFile, app.URL)
	delete(environ, "SIGNGATE_ROUTES_0_KEY_ID")
	environ["SIGNGATE_ROUTES_0_KEY_ID_FILE"] = kidFile // a rotation changes key and kid
	addrs, out, stop := startCommand(t, environ, []string{"gateway", "metrics"}, "gateway")
	gw, metrics := "http://"+addrs["gateway"], "http://"+addrs["metrics"]

	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(gatewaySecret))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(url string, auth bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	if resp := get(gw+"/healthz", false); resp.StatusCode != 200 {
		t.Errorf("healthz %d", resp.StatusCode)
	}
	if resp := get(gw+"/readyz", false); resp.StatusCode != 200 {
		t.Errorf("readyz %d", resp.StatusCode)
	}
	resp := get(gw+"/media/v/x.mp4", true)
	first := resp.Header.Get("Location")
	if resp.StatusCode != 302 || !strings.HasPrefix(first, "https://cdn.example.com/media/v/x.mp4?auth=") {
		t.Fatalf("redirect %d %q", resp.StatusCode, first)
	}
	if resp := get(gw+"/media/v/x.mp4", false); resp.StatusCode != 401 {
		t.Errorf("unauthenticated %d", resp.StatusCode)
	}
	if resp := get(gw+"/app/page", false); resp.StatusCode != 200 {
		t.Errorf("pass-through %d", resp.StatusCode)
	}
	mresp, err := http.Get(metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !bytes.Contains(mb, []byte(`signgate_requests_total{code="302",handler="redirect"} 1`)) {
		t.Errorf("metrics:\n%s", mb)
	}

	// SIGHUP reloads the key files.
	copyFile(t, "../../signer/testdata/other2048.pem", keyFile)
	if err := os.WriteFile(kidFile, []byte("k2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for get(gw+"/media/v/x.mp4", true).Header.Get("Location") == first {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("SIGHUP did not reload the key\n%s", out)
		}
	}

	if err := stop(); err != nil {
		t.Errorf("gateway stopped with %v", err)
	}
	logs := out.String()
	for _, want := range []string{`"msg":"listening"`, `"msg":"request"`, `"msg":"key reloaded"`, `"msg":"stopped"`, `"GOGC":"100"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s", want)
		}
	}
	for _, secret := range []string{tok, gatewaySecret, "auth=", "PRIVATE KEY"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs show %q", secret)
		}
	}
}

func TestGatewayCommandConfigErrors(t *testing.T) {
	var out bytes.Buffer
	env := map[string]string{
		"SIGNGATE_ROUTES_0_PREFIX": "/media",
		"SIGNGATE_ROUTES_2_PREFIX": "/other",
		"SIGNGATE_CACHE_SIZE":      "many",
	}
	err := run(context.Background(), []string{"gateway"}, env, strings.NewReader(""), &out, &out)
	if code := exitCode(err, &out); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, v := range []string{"SIGNGATE_ROUTES_2_PREFIX", "SIGNGATE_CACHE_SIZE"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("output does not name %s:\n%s", v, out.String())
		}
	}
	// A key file that does not parse stops start-up.
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not a key"), 0o600)
	out.Reset()
	err = run(context.Background(), []string{"gateway"}, gatewayEnviron(t, bad, ""), strings.NewReader(""), &out, &out)
	if err == nil || !strings.Contains(err.Error(), "SIGNGATE_ROUTES_0_KEY_FILE") {
		t.Errorf("bad key file: %v", err)
	}
}

func TestApplyGC(t *testing.T) {
	orig := debug.SetGCPercent(100)
	defer debug.SetGCPercent(orig)
	log := slog.New(slog.DiscardHandler)
	applyGC(map[string]string{}, 400, log)
	if got := debug.SetGCPercent(100); got != 400 {
		t.Errorf("SIGNGATE_GOGC not applied: GC percent %d", got)
	}
	applyGC(map[string]string{"GOGC": "150"}, 400, log)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set by the operator was overridden: GC percent %d", got)
	}
	debug.SetGCPercent(150)
	applyGC(map[string]string{}, 0, log)
	if got := debug.SetGCPercent(100); got != 150 {
		t.Errorf("0 (the runtime's own) changed the GC percent to %d", got)
	}
}
