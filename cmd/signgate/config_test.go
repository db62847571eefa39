package main

import (
	"os"
	"strings"
	"testing"
)

// TestConfigPrintsTheReference: the binary prints exactly the committed
// docs/config.md, so an operator with only the image reads the same page.
func TestConfigPrintsTheReference(t *testing.T) {
	want, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "config")
	if code != 0 || stdout != string(want) {
		t.Errorf("signgate config: exit %d, stderr %q; output differs from docs/config.md (run go generate ./internal/configref)", code, stderr)
	}
	code, stdout, _ = runCLI(t, "config", "-format", "env")
	if code != 0 || !strings.Contains(stdout, "\n#SIGNGATE_LISTEN=:8080\n") || !strings.Contains(stdout, "\n#SIGNGATE_ROUTES_0_TTL=1h\n") {
		t.Errorf("-format env: exit %d:\n%s", code, stdout)
	}
}

func TestConfigCheck(t *testing.T) {
	const secret = "check-test-secret-0123456789-abcdefgh"
	gateway := map[string]string{
		"SIGNGATE_AUTH":              "jwt",
		"SIGNGATE_JWT_SECRET":        secret,
		"SIGNGATE_ROUTES_0_PREFIX":   "/media",
		"SIGNGATE_ROUTES_0_BUCKET":   "my-bucket",
		"SIGNGATE_ROUTES_0_REGION":   "us-west",
		"SIGNGATE_ROUTES_0_KEY_FILE": "/run/secrets/signgate/media.pem",
		"SIGNGATE_ROUTES_0_KEY_ID":   "k1",
	}
	edge := map[string]string{
		"SIGNGATE_EDGE_DB":               "postgres://edge:" + secret + "@db.example.com/signgate",
		"SIGNGATE_EDGE_SINGLE_BUCKET":    "true",
		"SIGNGATE_EDGE_BUCKETS_0_NAME":   "media",
		"SIGNGATE_EDGE_BUCKETS_0_ORIGIN": "/srv/media",
		"SIGNGATE_EDGE_API_KEYS":         secret,
	}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		name    string
		environ map[string]string
		args    []string
		code    int
		want    []string // in stdout+stderr
	}{
		{"gateway ok", with(gateway, "SIGNGATE_ROUTES_0_KEY_FILE", testKeyFile), []string{"-check", "gateway"}, 0, []string{"gateway configuration: ok"}},
		{"gateway key files, in the same round as a misspelt name", with(gateway, "SIGNGATE_JWT_ISSUR", "x",
			"SIGNGATE_ROUTES_1_PREFIX", "/b", "SIGNGATE_ROUTES_1_CDN_BASE", "https://b.example.com",
			"SIGNGATE_ROUTES_1_KEY_FILE", "../../signer/testdata/rsa1024.pem", "SIGNGATE_ROUTES_1_KEY_ID", "k",
			"SIGNGATE_ROUTES_2_PREFIX", "/c", "SIGNGATE_ROUTES_2_CDN_BASE", "https://c.example.com",
			"SIGNGATE_ROUTES_2_KEY_FILE", "../../signer/testdata/ec.pem", "SIGNGATE_ROUTES_2_KEY_ID", "k",
			"SIGNGATE_ROUTES_3_PREFIX", "/d", "SIGNGATE_ROUTES_3_CDN_BASE", "https://d.example.com",
			"SIGNGATE_ROUTES_3_KEY_FILE", "../../signer/testdata/README", "SIGNGATE_ROUTES_3_KEY_ID", "k"),
			[]string{"-check", "gateway"}, 1, []string{"SIGNGATE_JWT_ISSUR", "SIGNGATE_ROUTES_0_KEY_FILE", "SIGNGATE_ROUTES_1_KEY_FILE", "SIGNGATE_ROUTES_2_KEY_FILE", "SIGNGATE_ROUTES_3_KEY_FILE"}},
		{"edge ok", edge, []string{"-check", "edge"}, 0, []string{"edge configuration: ok"}},
		{"gateway problems, all named", with(gateway, "SIGNGATE_ROUTES_2_PREFIX", "/x", "SIGNGATE_ROUTES_0_TTL", "soon"),
			[]string{"-check", "gateway"}, 1, []string{"SIGNGATE_ROUTES_2_PREFIX", "SIGNGATE_ROUTES_0_TTL"}},
		{"gateway invalid", with(gateway, "SIGNGATE_ROUTES_0_KEY_ID", "", "SIGNGATE_ROUTES_0_KEY_FILE", testKeyFile), []string{"-check", "gateway"}, 1, []string{"SIGNGATE_ROUTES_0_KEY_ID: required"}},
		{"gateway routes whose rules would not hold", with(gateway,
			"SIGNGATE_ROUTES_0_STRIP_PREFIX", "true", "SIGNGATE_ROUTES_0_PUBLIC", "true", "SIGNGATE_AUTH", "jwt",
			"SIGNGATE_ROUTES_1_PREFIX", "/paid", "SIGNGATE_ROUTES_1_BUCKET", "my-bucket", "SIGNGATE_ROUTES_1_REGION", "us-west",
			"SIGNGATE_ROUTES_1_KEY_FILE", "/run/secrets/signgate/paid.pem", "SIGNGATE_ROUTES_1_KEY_ID", "k2"),
			[]string{"-check", "gateway"}, 1, []string{"SIGNGATE_ROUTES_0_PREFIX and SIGNGATE_ROUTES_1_PREFIX", "different access rules"}},
		{"edge invalid", with(edge, "SIGNGATE_EDGE_BUCKETS_0_POLICY", "private", "SIGNGATE_EDGE_LEEWAY", "1h"),
			[]string{"-check", "edge"}, 1, []string{"SIGNGATE_EDGE_BUCKETS_0_POLICY", "SIGNGATE_EDGE_LEEWAY"}},
		{"unknown command", gateway, []string{"-check", "proxy"}, 2, []string{"want gateway or edge"}},
		{"check and format", gateway, []string{"-check", "gateway", "-format", "env"}, 2, []string{"do not go together"}},
		{"bad format", gateway, []string{"-format", "yaml"}, 2, []string{`"yaml": want markdown or env`}},
		{"argument", gateway, []string{"gateway"}, 2, []string{`unexpected argument "gateway"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLIEnv(t, tt.environ, append([]string{"config"}, tt.args...)...)
			out := stdout + stderr
			if code != tt.code {
				t.Errorf("exit %d, want %d: %s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, secret) {
				t.Error("a secret reached the output")
			}
		})
	}
}
