package edge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
)

func TestAPIAccessToken(t *testing.T) {
	h := newHarness(t, nil)
	st, m, hdr := h.call("POST", "/v1/access_token/"+testAPIKey, "", "")
	if st != 200 || m["status"] != "ok" || m["error"] != float64(0) {
		t.Fatalf("access_token: %d %v", st, m)
	}
	tok, _ := m["token"].(string)
	if tok == "" || m["access_token"] != tok || hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("token %q, access_token %v, Cache-Control %q", tok, m["access_token"], hdr.Get("Cache-Control"))
	}
	exp, err := time.Parse(time.RFC3339, m["expire"].(string))
	if err != nil || !exp.Equal(h.clock.Now().Add(24*time.Hour)) {
		t.Errorf("expire %v (%v), want now+24h", m["expire"], err)
	}
	for _, key := range []string{"wrong-key-0123456789", testAPIKey + "x", testAPIKey[:len(testAPIKey)-1], "%00"} {
		st, m, hdr := h.call("POST", "/v1/access_token/"+key, "", "")
		if st != 401 || code(m) != "unauthorized" || hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("key %q: %d %v", key, st, m)
		}
	}
	if st, m, _ := h.call("GET", "/v1/access_token/"+testAPIKey, "", ""); st != 405 || code(m) != "method_not_allowed" {
		t.Errorf("GET access_token: %d %v", st, m)
	}
	// Paths the router would redirect: neither the redirect nor the log
	// shows the key.
	for _, p := range []string{"//v1/access_token/", "/v1/./access_token/", "/v1/x/../access_token/"} {
		req, _ := http.NewRequest("POST", h.api.URL+p+testAPIKey, nil)
		req.URL.Opaque = p + testAPIKey // keep the path as written
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if strings.Contains(resp.Header.Get("Location"), testAPIKey) {
			t.Errorf("%s: redirect shows the key", p)
		}
	}
	if strings.Contains(h.logs.String(), testAPIKey) || strings.Contains(h.logs.String(), tok) {
		t.Errorf("an API key or a bearer token reached the log:\n%s", h.logs.String())
	}
}

// code returns an error body's code, or "" when its "error" is not a
// non-zero number.
func code(m map[string]any) string {
	if n, _ := m["error"].(float64); n == 0 {
		return ""
	}
	c, _ := m["code"].(string)
	return c
}

func TestAPIBearerRequired(t *testing.T) {
	h := newHarness(t, nil)
	good := h.bearer()
	endpoints := []struct{ method, path, body string }{
		{"PUT", "/v1/buckets/media/policy/authenticated", ""},
		{"GET", "/v1/buckets/media/policy", ""},
		{"POST", "/v1/signing-keys", `{"bucket":"media"}`},
		{"GET", "/v1/signing-keys", ""},
		{"GET", "/v1/signing-keys/k1", ""},
		{"PUT", "/v1/signing-keys/k1", `{"name":"x"}`},
		{"DELETE", "/v1/signing-keys/k1", ""},
	}
	for _, ep := range endpoints {
		for _, bearer := range []string{"", "wrong", good + "x", strings.Repeat("a", 600)} {
			t.Run(ep.method+" "+ep.path+" "+bearer[:min(len(bearer), 8)], func(t *testing.T) {
				st, m, hdr := h.call(ep.method, ep.path, bearer, ep.body)
				if st != 401 || code(m) != "unauthorized" || hdr.Get("WWW-Authenticate") != `Bearer realm="signgate"` {
					t.Errorf("%d %v", st, m)
				}
			})
		}
	}
	// Other schemes, and the token outside Authorization, do not count.
	req, _ := http.NewRequest("GET", h.api.URL+"/v1/signing-keys", nil)
	req.Header.Set("Authorization", "Basic "+good)
	resp, err := h.api.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("Basic scheme: %d", resp.StatusCode)
	}
	// A bearer token dies after 24 hours.
	if st, _, _ := h.call("GET", "/v1/signing-keys", good, ""); st != 200 {
		t.Fatalf("fresh token: %d", st)
	}
	h.clock.Advance(24*time.Hour - time.Second)
	if st, _, _ := h.call("GET", "/v1/signing-keys", good, ""); st != 200 {
		t.Errorf("token at 23:59:59: %d", st)
	}
	h.clock.Advance(time.Second)
	if st, m, _ := h.call("GET", "/v1/signing-keys", good, ""); st != 401 {
		t.Errorf("token at 24:00:00: %d %v", st, m)
	}
}

func TestAPIRemovedKeyEndsItsTokens(t *testing.T) {
	root := t.TempDir()
	cfg := baseConfig(t, root)
	cfg.APIKeys = []config.Secret{testAPIKey, "second-api-key-0123456789"}
	h := startHarness(t, cfg, newClock())
	tok := h.bearer()
	h.media.Close()
	h.api.Close()
	h.e.Close()
	// Restart without testAPIKey: its tokens stop working, though stored.
	cfg.APIKeys = cfg.APIKeys[1:]
	h2 := startHarness(t, cfg, h.clock)
	if st, m, _ := h2.call("GET", "/v1/signing-keys", tok, ""); st != 401 {
		t.Errorf("token of a removed API key: %d %v", st, m)
	}
}

func TestAPIPolicy(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.bearer()
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"PUT", "/v1/buckets/media/policy/authenticated", 200, ""},
		{"PUT", "/v1/buckets/media/policy/public", 200, ""},
		{"PUT", "/v1/buckets/media/policy/private", 400, "invalid_request"},
		{"PUT", "/v1/buckets/nope/policy/public", 404, "bucket_not_found"},
		{"POST", "/v1/buckets/media/policy/public", 405, "method_not_allowed"},
		{"GET", "/v1/buckets/nope/policy", 404, "bucket_not_found"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			st, m, _ := h.call(tc.method, tc.path, tok, "")
			if st != tc.status || (tc.code != "" && code(m) != tc.code) || (tc.code == "" && m["status"] != "ok") {
				t.Errorf("%d %v, want %d %s", st, m, tc.status, tc.code)
			}
		})
	}
	st, m, _ := h.call("GET", "/v1/buckets/other/policy", tok, "")
	if st != 200 || m["policy"] != "authenticated" || m["bucket"] != "other" {
		t.Errorf("policy of other: %d %v", st, m)
	}
}

// TestAPIConcurrent runs API calls in parallel on one edge: every one
// succeeds and the end state is whole: the policy stored and in force is
// one that was written, and every key created is there with its last name.
func TestAPIConcurrent(t *testing.T) {
	h := newHarness(t, nil)
	tok := h.bearer()
	kids := []string{}
	for _, name := range []string{"a", "b", "c", "d"} {
		h.addKey("key1.pem", name, "media")
		kids = append(kids, name)
	}
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan string, 400)
	created := make(chan [2]string, workers) // id, final name
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var id string
			for i := range 10 {
				p := []string{"public", "authenticated"}[(w+i)%2]
				if st, m, _ := h.call("PUT", "/v1/buckets/media/policy/"+p, tok, ""); st != 200 {
					errs <- "policy: " + code(m)
				}
				kid := kids[(w+i)%len(kids)]
				if st, m, _ := h.call("PUT", "/v1/signing-keys/"+kid, tok, `{"name":"n"}`); st != 200 {
					errs <- "rename: " + code(m)
				}
				if st, m, _ := h.call("GET", "/v1/signing-keys", tok, ""); st != 200 {
					errs <- "list: " + code(m)
				}
				switch i {
				case 0:
					st, m, _ := h.call("POST", "/v1/signing-keys", tok, fmt.Sprintf(`{"bucket":"media","name":"w%d-first"}`, w))
					sk, _ := m["signing_key"].(map[string]any)
					if id, _ = sk["id"].(string); st != 200 || id == "" {
						errs <- fmt.Sprintf("create: %d %s", st, code(m))
					}
				case 9:
					name := fmt.Sprintf("w%d-final", w)
					if st, m, _ := h.call("PUT", "/v1/signing-keys/"+id, tok, `{"name":"`+name+`"}`); st != 200 {
						errs <- "rename the new key: " + code(m)
					}
					created <- [2]string{id, name}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(created)
	for e := range errs {
		t.Error(e)
	}

	ctx := t.Context()
	stored, err := h.e.store.Policies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p := stored["media"]; p != Public && p != Authenticated {
		t.Errorf("stored policy %q, want public or authenticated", p)
	}
	if st, m, _ := h.call("GET", "/v1/buckets/media/policy", tok, ""); st != 200 || m["policy"] != string(stored["media"]) {
		t.Errorf("policy in force %v, stored %q", m["policy"], stored["media"])
	}
	keys, err := h.e.store.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, k := range keys {
		names[k.ID] = k.Name
	}
	if len(keys) != len(kids)+workers {
		t.Errorf("%d keys stored, want %d", len(keys), len(kids)+workers)
	}
	for _, kid := range kids {
		if names[kid] != "n" {
			t.Errorf("key %s: name %q, want n", kid, names[kid])
		}
	}
	n := 0
	for c := range created {
		n++
		if got, ok := names[c[0]]; !ok || got != c[1] {
			t.Errorf("created key %s: stored %v with name %q, want %q", c[0], ok, got, c[1])
		}
		if _, ok := h.e.snap.Load().keys[c[0]]; !ok {
			t.Errorf("created key %s is not in force", c[0])
		}
	}
	if n != workers {
		t.Errorf("%d keys created and renamed, want %d", n, workers)
	}
}

// One typed Qencode-style struct decodes the API's successes and errors
// alike: "error" is an int, 0 on success.
func TestAPIErrorShape(t *testing.T) {
	h := newHarness(t, nil)
	type answer struct {
		Error   int    `json:"error"`
		Status  string `json:"status"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	decode := func(method, path, bearer string) (int, answer) {
		req, _ := http.NewRequest(method, h.api.URL+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a answer
		dec := json.NewDecoder(resp.Body)
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("%s %s: %d, body does not decode: %v", method, path, resp.StatusCode, err)
		}
		return resp.StatusCode, a
	}
	tok := h.bearer()
	if st, a := decode("PUT", "/v1/buckets/media/policy/public", tok); st != 200 || a.Error != 0 || a.Status != "ok" {
		t.Errorf("success: %d %+v", st, a)
	}
	for _, tc := range []struct {
		method, path, bearer string
		status               int
		code                 string
	}{
		{"GET", "/v1/signing-keys", "", 401, "unauthorized"},
		{"GET", "/v1/signing-keys/nope", tok, 404, "not_found"},
		{"PUT", "/v1/buckets/nope/policy/public", tok, 404, "bucket_not_found"},
		{"PUT", "/v1/buckets/media/policy/secret", tok, 400, "invalid_request"},
	} {
		st, a := decode(tc.method, tc.path, tc.bearer)
		if st != tc.status || a.Error != tc.status || a.Code != tc.code || a.Message == "" || a.Status != "" {
			t.Errorf("%s %s: %d %+v; want %d with error %d, code %q", tc.method, tc.path, st, a, tc.status, tc.status, tc.code)
		}
	}
}
