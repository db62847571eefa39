package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/signgate/signgate/internal/testenv"
)

const edgeTestAPIKey = "cmd-test-api-key-0123456789"

// edgeTestEnviron is a single-bucket edge over dir, on ports picked by
// the system.
func edgeTestEnviron(t *testing.T) (map[string]string, string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "media")
	if err := os.MkdirAll(filepath.Join(dir, "v"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "v", "seg.ts"), []byte("SEGMENT"), 0o644); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"SIGNGATE_EDGE_LISTEN":           "127.0.0.1:0",
		"SIGNGATE_EDGE_API_LISTEN":       "127.0.0.1:0",
		"SIGNGATE_EDGE_METRICS_LISTEN":   "127.0.0.1:0",
		"SIGNGATE_EDGE_DB":               filepath.Join(root, "edge.db"),
		"SIGNGATE_EDGE_SINGLE_BUCKET":    "true",
		"SIGNGATE_EDGE_BUCKETS_0_NAME":   "media",
		"SIGNGATE_EDGE_BUCKETS_0_ORIGIN": dir,
		"SIGNGATE_EDGE_API_KEYS":         edgeTestAPIKey,
	}, root
}

// startEdgeCommand runs "signgate edge" until the test ends, and returns
// the media and API base URLs and the command's log.
func startEdgeCommand(t *testing.T, environ map[string]string) (media, api string, logs *lockedBuffer) {
	t.Helper()
	addrs, logs, stop := startCommand(t, environ, []string{"edge", "api"}, "edge")
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("edge: %v", err)
		}
	})
	return "http://" + addrs["edge"], "http://" + addrs["api"], logs
}

// cli runs a signgate command line and returns stdout, stderr and the
// exit code main would give.
func cli(t *testing.T, environ map[string]string, args ...string) (string, string, int) {
	t.Helper()
	code, stdout, stderr := runCLIEnv(t, environ, args...)
	return stdout, stderr, code
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEdgeCommandWithKeysAndPolicy(t *testing.T) {
	environ, root := edgeTestEnviron(t)
	media, api, logs := startEdgeCommand(t, environ)
	client := map[string]string{"SIGNGATE_API_KEY": edgeTestAPIKey}
	apiFlag := "--api-url=" + api

	if st, b := httpGet(t, media+"/v/seg.ts"); st != 200 || b != "SEGMENT" {
		t.Fatalf("public bucket: %d %q", st, b)
	}
	out, errOut, code := cli(t, client, "policy", "set", "media", "authenticated", apiFlag)
	if code != 0 || out != "bucket media: authenticated\n" {
		t.Fatalf("policy set: %d %q %q", code, out, errOut)
	}
	if st, _ := httpGet(t, media+"/v/seg.ts"); st != 401 {
		t.Fatalf("authenticated without a token: %d", st)
	}

	keyFile := filepath.Join(root, "k.pem")
	out, errOut, code = cli(t, client, "keys", "create", "--bucket", "media", "--name", "demo", "--out", keyFile, apiFlag)
	if code != 0 {
		t.Fatalf("keys create: %d %q", code, errOut)
	}
	if strings.Contains(out, "PRIVATE KEY") {
		t.Errorf("keys create printed the private key unasked")
	}
	m := regexp.MustCompile(`(?m)^id: ([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no id in %q", out)
	}
	kid := m[1]
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}

	// The same --out again: refused before anything is created.
	_, errOut, code = cli(t, client, "keys", "create", "--bucket", "media", "--out", keyFile, apiFlag)
	if code != 1 || !strings.Contains(errOut, "exists; not overwriting") {
		t.Errorf("second create on the same file: %d %q", code, errOut)
	}

	// Sign with the key file, fetch through the edge.
	out, errOut, code = cli(t, nil, "sign", "--key", keyFile, "--kid", kid, "--scope", "dir", media+"/v/seg.ts")
	if code != 0 {
		t.Fatalf("sign: %q", errOut)
	}
	signed := strings.TrimSpace(out)
	if st, b := httpGet(t, signed); st != 200 || b != "SEGMENT" {
		t.Fatalf("signed URL: %d %q", st, b)
	}

	// An Ed25519 key beside it: the ed25519 scheme's URLs are served too.
	edFile := filepath.Join(root, "ed.pem")
	out, errOut, code = cli(t, client, "keys", "create", "--bucket", "media", "--algorithm", "EdDSA", "--out", edFile, apiFlag)
	if code != 0 {
		t.Fatalf("keys create --algorithm EdDSA: %d %q", code, errOut)
	}
	em := regexp.MustCompile(`(?m)^id: (\S+)$`).FindStringSubmatch(out)
	if em == nil {
		t.Fatalf("no id in %q", out)
	}
	out, errOut, code = cli(t, nil, "sign", "--scheme", "ed25519", "--key", edFile, "--kid", em[1], "--scope", "dir", media+"/v/seg.ts")
	if code != 0 {
		t.Fatalf("sign --scheme ed25519: %q", errOut)
	}
	if st, b := httpGet(t, strings.TrimSpace(out)); st != 200 || b != "SEGMENT" {
		t.Fatalf("EdDSA-signed URL: %d %q", st, b)
	}
	if _, errOut, code = cli(t, client, "keys", "delete", em[1], apiFlag); code != 0 {
		t.Fatalf("keys delete of the Ed25519 key: %d %q", code, errOut)
	}

	out, _, code = cli(t, client, "keys", "list", apiFlag)
	if code != 0 || !strings.Contains(out, kid) || !strings.Contains(out, "demo") || strings.Count(out, "\n") != 2 {
		t.Errorf("keys list: %d %q", code, out)
	}
	if _, errOut, code = cli(t, client, "keys", "rename", kid, "renamed", apiFlag); code != 0 {
		t.Errorf("keys rename: %q", errOut)
	}
	out, _, code = cli(t, client, "keys", "get", kid, apiFlag)
	if code != 0 || !strings.Contains(out, "name: renamed") || !strings.Contains(out, "BEGIN PUBLIC KEY") {
		t.Errorf("keys get: %d %q", code, out)
	}

	// A stream key, printed on request, into the default ID.pem.
	t.Chdir(root)
	out, errOut, code = cli(t, map[string]string{"SIGNGATE_API_URL": api, "SIGNGATE_API_KEY": edgeTestAPIKey},
		"keys", "create", "--stream-id", "live-1", "--print-private-key")
	if code != 0 || !strings.Contains(out, "-----BEGIN RSA PRIVATE KEY-----") || !strings.Contains(out, "stream_id: live-1") {
		t.Fatalf("keys create --stream-id: %d %q %q", code, out, errOut)
	}
	sid := regexp.MustCompile(`(?m)^id: (\S+)$`).FindStringSubmatch(out)[1]
	if fi, err := os.Stat(filepath.Join(root, sid+".pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("default key file: %v %v", fi, err)
	}
	out, _, _ = cli(t, client, "keys", "list", "--json", apiFlag)
	var listed []map[string]any
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 2 {
		t.Errorf("keys list --json: %v %q", err, out)
	}

	// Delete: the very next request is refused.
	if out, errOut, code = cli(t, client, "keys", "delete", kid, apiFlag); code != 0 || out != "deleted "+kid+"\n" {
		t.Fatalf("keys delete: %d %q %q", code, out, errOut)
	}
	if st, b := httpGet(t, signed); st != 403 || !strings.Contains(b, "unknown_key") {
		t.Errorf("after delete: %d %q", st, b)
	}
	if _, errOut, code = cli(t, client, "keys", "delete", kid, apiFlag); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("delete again: %d %q", code, errOut)
	}
	if _, _, code = cli(t, client, "policy", "set", "media", "public", apiFlag); code != 0 {
		t.Fatal("policy set public failed")
	}
	if st, b := httpGet(t, media+"/v/seg.ts"); st != 200 || b != "SEGMENT" {
		t.Errorf("public again: %d %q", st, b)
	}
	if out, _, _ = cli(t, client, "policy", "get", "media", apiFlag); out != "bucket media: public\n" {
		t.Errorf("policy get: %q", out)
	}

	// With a bearer token instead of the API key.
	tok := accessToken(t, api)
	if out, _, code = cli(t, map[string]string{"SIGNGATE_API_TOKEN": tok}, "keys", "list", apiFlag); code != 0 || !strings.Contains(out, sid) {
		t.Errorf("keys list with SIGNGATE_API_TOKEN: %d %q", code, out)
	}

	l := logs.String()
	for _, secret := range []string{edgeTestAPIKey, tok, "PRIVATE KEY", strings.Split(signed, "auth=")[1]} {
		if strings.Contains(l, secret) {
			t.Errorf("the edge's log holds a secret: %.20s...", secret)
		}
	}
}

func accessToken(t *testing.T, api string) string {
	t.Helper()
	resp, err := http.Post(api+"/v1/access_token/"+edgeTestAPIKey, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || m.Token == "" {
		t.Fatalf("access token: %v", err)
	}
	return m.Token
}

func TestKeysAndPolicyErrors(t *testing.T) {
	environ, _ := edgeTestEnviron(t)
	_, api, _ := startEdgeCommand(t, environ)
	apiFlag := "--api-url=" + api
	good := map[string]string{"SIGNGATE_API_KEY": edgeTestAPIKey}
	for _, tc := range []struct {
		name    string
		environ map[string]string
		args    []string
		code    int
		stderr  string
	}{
		{"no credentials", nil, []string{"keys", "list", apiFlag}, 2, "set SIGNGATE_API_TOKEN"},
		{"wrong API key", map[string]string{"SIGNGATE_API_KEY": "wrong-key-0123456789"}, []string{"keys", "list", apiFlag}, 1, "401"},
		{"wrong token", map[string]string{"SIGNGATE_API_TOKEN": "nope"}, []string{"keys", "list", apiFlag}, 1, "unauthorized"},
		{"no subcommand", good, []string{"keys"}, 2, "Usage: signgate keys"},
		{"unknown subcommand", good, []string{"keys", "rotate"}, 2, "unknown subcommand"},
		{"create without target", good, []string{"keys", "create", apiFlag}, 2, "one of --bucket and --stream-id"},
		{"create with both", good, []string{"keys", "create", "--bucket", "b", "--stream-id", "s", apiFlag}, 2, "one of --bucket"},
		{"create unknown bucket", good, []string{"keys", "create", "--bucket", "nope", "--out", filepath.Join(t.TempDir(), "x.pem"), apiFlag}, 1, "bucket_not_found"},
		{"rename without name", good, []string{"keys", "rename", "id", apiFlag}, 2, "want a key id and a name"},
		{"delete unknown", good, []string{"keys", "delete", "nope", apiFlag}, 1, "not_found"},
		{"bad policy", good, []string{"policy", "set", "media", "private", apiFlag}, 2, "not a policy"},
		{"policy of unknown bucket", good, []string{"policy", "set", "nope", "public", apiFlag}, 1, "bucket_not_found"},
		{"policy without subcommand", good, []string{"policy"}, 2, "Usage: signgate policy"},
		{"unreachable API", good, []string{"keys", "list", "--api-url=http://127.0.0.1:1"}, 1, "connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := cli(t, tc.environ, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.stderr)
			}
			if strings.Contains(errOut, edgeTestAPIKey) || strings.Contains(errOut, "wrong-key-0123456789") {
				t.Errorf("stderr shows an API key: %q", errOut)
			}
		})
	}
	// A failed create leaves no file behind.
	out := filepath.Join(t.TempDir(), "x.pem")
	cli(t, good, "keys", "create", "--bucket", "nope", "--out", out, apiFlag)
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed create left %s: %v", out, err)
	}
}

func TestEdgeCommandConfigErrors(t *testing.T) {
	environ, _ := edgeTestEnviron(t)
	environ["SIGNGATE_EDGE_BUCKETS_0_POLICY"] = "private"
	environ["SIGNGATE_EDGE_LEEWAY"] = "soon"
	_, errOut, code := cli(t, environ, "edge")
	if code != 1 || !strings.Contains(errOut, "SIGNGATE_EDGE_LEEWAY") {
		t.Errorf("unparsable leeway: %d %q", code, errOut)
	}
	delete(environ, "SIGNGATE_EDGE_LEEWAY")
	_, errOut, code = cli(t, environ, "edge")
	if code != 1 || !strings.Contains(errOut, "SIGNGATE_EDGE_BUCKETS_0_POLICY") {
		t.Errorf("bad policy: %d %q", code, errOut)
	}
	environ["SIGNGATE_EDGE_BUCKETS_0_POLICY"] = "public"
	environ["SIGNGATE_EDGE_BUCKETS_0_ORIGIN"] = filepath.Join(t.TempDir(), "missing")
	_, errOut, code = cli(t, environ, "edge")
	if code != 1 || !strings.Contains(errOut, "SIGNGATE_EDGE_BUCKETS_0_ORIGIN") {
		t.Errorf("missing origin directory: %d %q", code, errOut)
	}
	if _, _, code = cli(t, environ, "edge", "extra"); code != 2 {
		t.Errorf("edge with an argument: exit %d", code)
	}
}

// TestEdgeCommandPostgres runs "signgate edge" on PostgreSQL: the log
// names the database with its password masked, and a wrong password stops
// start-up with an error that names the variable, not the password.
func TestEdgeCommandPostgres(t *testing.T) {
	dbURL := testenv.PostgresSchema(t)
	environ, _ := edgeTestEnviron(t)
	environ["SIGNGATE_EDGE_DB"] = dbURL
	media, api, logs := startEdgeCommand(t, environ)
	client := map[string]string{"SIGNGATE_API_KEY": edgeTestAPIKey}
	if _, errOut, code := cli(t, client, "policy", "set", "media", "authenticated", "--api-url="+api); code != 0 {
		t.Fatalf("policy set: %q", errOut)
	}
	if st, _ := httpGet(t, media+"/v/seg.ts"); st != http.StatusUnauthorized {
		t.Errorf("authenticated bucket without a token: %d", st)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	masked := strings.Replace(dbURL, ":"+pw+"@", ":xxxxx@", 1)
	l := logs.String()
	if !strings.Contains(l, `"db":"`+masked+`"`) {
		t.Errorf("the start-up log does not name the database as %s:\n%s", masked, l)
	}
	if strings.Contains(l, ":"+pw+"@") {
		t.Error("the log holds the database password")
	}

	const wrong = "wrong-pw-never-shown-91c"
	u.User = url.UserPassword(u.User.Username(), wrong)
	environ["SIGNGATE_EDGE_DB"] = u.String()
	environ["SIGNGATE_EDGE_LISTEN"], environ["SIGNGATE_EDGE_API_LISTEN"] = "127.0.0.1:0", "127.0.0.1:0"
	environ["SIGNGATE_EDGE_METRICS_LISTEN"] = "127.0.0.1:0"
	out, errOut, code := cli(t, environ, "edge")
	if code != 1 || !strings.Contains(errOut, "SIGNGATE_EDGE_DB") || !strings.Contains(errOut, "password authentication failed") {
		t.Errorf("wrong password: exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(out+errOut, wrong) {
		t.Errorf("the output shows the password: %q %q", out, errOut)
	}
}

// TestEdgeCommandMetrics: the edge serves its metrics, and the probes, on
// the metrics listener.
func TestEdgeCommandMetrics(t *testing.T) {
	environ, _ := edgeTestEnviron(t)
	addrs, _, stop := startCommand(t, environ, []string{"edge", "api", "metrics"}, "edge")
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("edge: %v", err)
		}
	})
	if st, _ := httpGet(t, "http://"+addrs["edge"]+"/v/seg.ts"); st != 200 {
		t.Fatalf("media: %d", st)
	}
	st, page := httpGet(t, "http://"+addrs["metrics"]+"/metrics")
	if st != 200 || !strings.Contains(page, `signgate_edge_requests_total{bucket="media",code="200"} 1`+"\n") {
		t.Errorf("/metrics: %d\n%s", st, page)
	}
	if st, _ := httpGet(t, "http://"+addrs["metrics"]+"/readyz"); st != 200 {
		t.Errorf("/readyz on the metrics listener: %d", st)
	}
}
