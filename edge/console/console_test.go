package console

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/edge"
	"github.com/signgate/signgate/signer"
)

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} } // httptest's own certificate

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSignInFailure(t *testing.T) {
	p := startPortal(t, false)
	c := p.browserClient(t)

	resp, body := p.signIn(t, c, "not-the-api-key-0123456789")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "That API key is not valid.") {
		t.Errorf("wrong key: %d, want 401 and the sign-in form saying why\n%s", resp.StatusCode, body)
	}
	if ck := cookieNamed(resp, SessionCookie); ck != nil {
		t.Errorf("wrong key set a session cookie: %v", ck)
	}
	if resp, _ := get(t, c, p.api+"/console/buckets"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/sign-in" {
		t.Errorf("after a failed sign-in, buckets: %d to %q; want 303 to the sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}

	// The sign-in form's own token is required (login CSRF).
	resp, _ = post(t, p.browserClient(t), p.api+"/console/sign-in", url.Values{"api_key": {testAPIKey}}, nil)
	if resp.StatusCode != http.StatusForbidden || cookieNamed(resp, SessionCookie) != nil {
		t.Errorf("sign-in without the form's token: %d, want 403 and no session", resp.StatusCode)
	}
	if strings.Contains(p.logs.String(), testAPIKey) || strings.Contains(p.logs.String(), "not-the-api-key") {
		t.Errorf("an API key reached the log:\n%s", p.logs)
	}
}

func TestCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tls        bool
		forwarded  string
		wantSecure bool
	}{
		{"http", false, "", false},
		{"behind a TLS proxy", false, "https", true},
		{"tls", true, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startPortal(t, tc.tls)
			c := p.browserClient(t)
			_, page := get(t, c, p.api+"/console/sign-in")
			resp, _ := post(t, c, p.api+"/console/sign-in",
				url.Values{"csrf": {csrfOf(t, page)}, "api_key": {testAPIKey}}, map[string]string{"X-Forwarded-Proto": tc.forwarded})
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/buckets" {
				t.Fatalf("sign in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			ck := cookieNamed(resp, SessionCookie)
			if ck == nil {
				t.Fatalf("no session cookie in %q", resp.Header["Set-Cookie"])
			}
			if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console/" || ck.Secure != tc.wantSecure || ck.MaxAge <= 0 {
				t.Errorf("session cookie %q: want HttpOnly, SameSite=Strict, Path=/console/, Secure=%v, a Max-Age",
					resp.Header.Get("Set-Cookie"), tc.wantSecure)
			}
			// The cookie holds an ordinary API bearer token.
			if err := p.edge.CheckAccessToken(context.Background(), configSecret(ck.Value)); err != nil {
				t.Errorf("the session cookie is not a live bearer token: %v", err)
			}
			if strings.Contains(p.logs.String(), ck.Value) {
				t.Errorf("the session token reached the log:\n%s", p.logs)
			}
		})
	}
}

func TestCSRFRefused(t *testing.T) {
	p := startPortal(t, false)
	c := p.signedIn(t)
	_, page := get(t, c, p.api+"/console/buckets")
	token := csrfOf(t, page)
	target := p.api + "/console/buckets/media/policy"
	form := func(csrf string) url.Values {
		v := url.Values{"policy": {"authenticated"}}
		if csrf != "" {
			v.Set("csrf", csrf)
		}
		return v
	}
	for _, tc := range []struct {
		name string
		form url.Values
		hdr  map[string]string
	}{
		{"no token", form(""), nil},
		{"wrong token", form(flipLast(token)), nil},
		{"another session's token", form(csrfOf(t, signedInPage(t, p))), nil},
		{"cross-site, right token", form(token), map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"foreign Origin, right token", form(token), map[string]string{"Sec-Fetch-Site": "", "Origin": "http://evil.example"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(t, c, target, tc.form, tc.hdr)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "stale or came from another site") {
				t.Errorf("%d, want 403\n%s", resp.StatusCode, body)
			}
			if got := p.policy(t); got != edge.Public {
				t.Errorf("policy is %s after a refused change", got)
			}
		})
	}
	resp, _ := post(t, c, target, form(token), map[string]string{"Origin": p.api})
	if resp.StatusCode != http.StatusSeeOther || p.policy(t) != edge.Authenticated {
		t.Errorf("same-origin change with the token: %d, policy %s; want 303, authenticated", resp.StatusCode, p.policy(t))
	}
}

// flipLast returns s with its last character changed.
func flipLast(s string) string {
	last := byte('A')
	if s[len(s)-1] == last {
		last = 'B'
	}
	return s[:len(s)-1] + string(last)
}

// signedInPage signs in a second browser and returns its buckets page.
func signedInPage(t *testing.T, p *portal) string {
	_, page := get(t, p.signedIn(t), p.api+"/console/buckets")
	return page
}

var pemBlock = regexp.MustCompile(`(?s)-----BEGIN RSA PRIVATE KEY-----.*?-----END RSA PRIVATE KEY-----\n?`)

func TestKeyShownOnce(t *testing.T) {
	p := startPortal(t, false)
	c := p.signedIn(t)
	_, page := get(t, c, p.api+"/console/keys")
	resp, body := post(t, c, p.api+"/console/keys",
		url.Values{"csrf": {csrfOf(t, page)}, "for": {"bucket"}, "bucket": {"media"}, "name": {"once"}}, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create: %d\n%s", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the one-time page has Cache-Control %q, want no-store", cc)
	}
	for _, want := range []string{"the only time it is shown", `id="copy"`, `download="`, "data:application/x-pem-file;base64,"} {
		if !strings.Contains(body, want) {
			t.Errorf("the one-time page lacks %q", want)
		}
	}
	pem := html.UnescapeString(pemBlock.FindString(body))
	priv, err := signer.ParsePrivateKey([]byte(pem))
	if err != nil {
		t.Fatalf("the page's private key: %v", err)
	}
	keys, err := p.edge.Keys(context.Background())
	if err != nil || len(keys) != 1 || keys[0].Name != "once" {
		t.Fatalf("keys = %+v, %v", keys, err)
	}
	pub, err := signer.ParsePublicKey(keys[0].PublicKey)
	if err != nil || !pub.Equal(&priv.PublicKey) {
		t.Fatalf("the stored public key is not the shown private key's: %v", err)
	}
	id := keys[0].ID
	for _, u := range []string{"/console/keys", "/console/keys/" + id, "/console/keys/" + id + "/delete", "/console/buckets"} {
		_, page := get(t, c, p.api+u)
		if strings.Contains(page, "PRIVATE KEY") || strings.Contains(page, "base64,") {
			t.Errorf("%s shows the private key again", u)
		}
		if !strings.Contains(page, id) && u != "/console/buckets" {
			t.Errorf("%s does not show the key id", u)
		}
	}
	// Nor does the API, nor the log.
	if strings.Contains(p.logs.String(), "PRIVATE KEY") {
		t.Errorf("the private key reached the log")
	}
	tok, _, err := p.edge.IssueAccessToken(context.Background(), testAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, p.api+"/v1/signing-keys/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	resp, body = do(t, req)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "PRIVATE KEY") {
		t.Errorf("GET /v1/signing-keys/%s: %d %s", id, resp.StatusCode, body)
	}
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestRenameDeleteAndSignOut(t *testing.T) {
	p := startPortal(t, false)
	k, _, err := p.edge.CreateKey(context.Background(), "media", "", "")
	if err != nil {
		t.Fatal(err)
	}
	c := p.signedIn(t)
	_, page := get(t, c, p.api+"/console/keys/"+k.ID)
	resp, _ := post(t, c, p.api+"/console/keys/"+k.ID+"/name", url.Values{"csrf": {csrfOf(t, page)}, "name": {"renamed"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d", resp.StatusCode)
	}
	if got, _ := p.edge.Key(context.Background(), k.ID); got.Name != "renamed" {
		t.Errorf("name = %q after the rename", got.Name)
	}
	_, page = get(t, c, p.api+"/console/keys/"+k.ID+"/delete")
	if !strings.Contains(page, "stops working") || !strings.Contains(page, "cannot be undone") {
		t.Errorf("the confirmation does not say what deleting does:\n%s", page)
	}
	resp, _ = post(t, c, p.api+"/console/keys/"+k.ID+"/delete", url.Values{"csrf": {csrfOf(t, page)}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/keys?done=deleted" {
		t.Fatalf("delete: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, err := p.edge.Key(context.Background(), k.ID); err == nil {
		t.Error("the key is still there")
	}
	if resp, _ := get(t, c, p.api+"/console/keys/"+k.ID); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a deleted key's page: %d, want 404", resp.StatusCode)
	}

	// Sign-out revokes the bearer token behind the cookie.
	u, _ := url.Parse(p.api + "/console/")
	var tok string
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == SessionCookie {
			tok = ck.Value
		}
	}
	_, page = get(t, c, p.api+"/console/buckets")
	resp, _ = post(t, c, p.api+"/console/sign-out", url.Values{"csrf": {csrfOf(t, page)}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/sign-in" {
		t.Fatalf("sign out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ := http.NewRequest(http.MethodGet, p.api+"/v1/signing-keys", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, _ := do(t, req); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the signed-out session's token as a bearer: %d, want 401", resp.StatusCode)
	}
}

// TestAPIUnchanged: beside the portal, the API answers as it did, to the
// bearer tokens of the access_token flow.
func TestAPIUnchanged(t *testing.T) {
	p := startPortal(t, false)
	resp, err := http.Post(p.api+"/v1/access_token/"+testAPIKey, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Token string `json:"token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	if err != nil || tr.Token == "" {
		t.Fatalf("access token: %d %v", resp.StatusCode, err)
	}
	req, _ := http.NewRequest(http.MethodPut, p.api+"/v1/buckets/media/policy/authenticated", nil)
	req.Header.Set("Authorization", "Bearer "+tr.Token)
	if resp, body := do(t, req); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"status":"ok"`) {
		t.Errorf("PUT policy with a bearer token: %d %s", resp.StatusCode, body)
	}
	if resp, body := do(t, mustRequest(t, p.api+"/v1/nope")); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"code":"not_found"`) {
		t.Errorf("an unknown API path: %d %s, want the API's JSON 404", resp.StatusCode, body)
	}
	// An API key typed into a portal path reaches no log.
	if resp, _ := do(t, mustRequest(t, p.api+"/console/access_token/"+testAPIKey)); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/console/access_token/KEY: %d, want 404", resp.StatusCode)
	}
	if strings.Contains(p.logs.String(), testAPIKey) {
		t.Errorf("the API key reached the log:\n%s", p.logs)
	}
	if resp, _ := do(t, mustRequest(t, p.api+"/console")); resp.Request.URL.Path != "/console/sign-in" {
		t.Errorf("/console ends at %s, want the sign-in page", resp.Request.URL.Path)
	}
}

func mustRequest(t *testing.T, u string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func configSecret(s string) config.Secret { return config.Secret(s) }

// TestCreateForStream: a key for a live stream id, and the form's answers
// to a stream without an id and to an id the API would refuse.
func TestCreateForStream(t *testing.T) {
	p := startPortal(t, false)
	c := p.signedIn(t)
	_, page := get(t, c, p.api+"/console/keys")
	csrf := csrfOf(t, page)
	for _, tc := range []struct {
		name, stream string
		status       int
		want         string
	}{
		{"no id", "", http.StatusBadRequest, "Enter the live stream&#39;s id"},
		{"bad id", "live 1", http.StatusBadRequest, "Stream_id must be 1 to 128 letters"},
		{"ok", "live-1", http.StatusOK, "<dt>Stream</dt><dd>live-1</dd>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(t, c, p.api+"/console/keys",
				url.Values{"csrf": {csrf}, "for": {"stream"}, "bucket": {"media"}, "stream_id": {tc.stream}}, nil)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("%d, want %d and %q\n%s", resp.StatusCode, tc.status, tc.want, body)
			}
		})
	}
	keys, err := p.edge.Keys(context.Background())
	if err != nil || len(keys) != 1 || keys[0].StreamID != "live-1" || keys[0].Bucket != "" {
		t.Errorf("keys = %+v, %v; want one key for stream live-1", keys, err)
	}
}
