package edge

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

func TestClient(t *testing.T) {
	h := newHarness(t, nil)
	ctx := t.Context()
	c := &Client{BaseURL: h.api.URL + "/"}

	tok, exp, err := c.AccessToken(ctx, testAPIKey)
	if err != nil || tok == "" || exp.IsZero() {
		t.Fatalf("AccessToken = %v, %v", exp, err)
	}
	c.Token = tok
	if err := c.SetPolicy(ctx, "media", Authenticated); err != nil {
		t.Fatal(err)
	}
	if p, err := c.Policy(ctx, "media"); err != nil || p != Authenticated {
		t.Errorf("Policy = %q, %v", p, err)
	}
	nk, err := c.CreateKey(ctx, CreateKeyRequest{Bucket: "media", Name: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprintf("%v %+v", nk, nk); strings.Contains(s, "PRIVATE") {
		t.Errorf("printing a NewKey shows the private key: %s", s)
	}
	priv, err := signer.ParsePrivateKey([]byte(nk.PrivateKey.Reveal()))
	if err != nil {
		t.Fatal(err)
	}
	signed := sign(t, &signer.SigningKey{ID: nk.ID, Key: priv}, signer.Claims{})
	if resp := h.get(mediaHost, "/top.txt?auth="+signed); resp.StatusCode != 200 {
		t.Errorf("key from the client: %d", resp.StatusCode)
	}
	if _, err := c.CreateKey(ctx, CreateKeyRequest{StreamID: "live-1"}); err != nil {
		t.Fatal(err)
	}
	ks, err := c.Keys(ctx)
	if err != nil || len(ks) != 2 {
		t.Fatalf("Keys = %+v, %v", ks, err)
	}
	for _, k := range ks { // made within one second: the order is by id
		if k.ID == nk.ID && (k.Bucket != "media" || k.Name != "cli") || k.ID != nk.ID && k.StreamID != "live-1" {
			t.Errorf("listed %+v", k)
		}
	}
	if k, err := c.RenameKey(ctx, nk.ID, "renamed"); err != nil || k.Name != "renamed" {
		t.Errorf("RenameKey = %+v, %v", k, err)
	}
	if k, err := c.Key(ctx, nk.ID); err != nil || k.Name != "renamed" || k.Bucket != "media" {
		t.Errorf("Key = %+v, %v", k, err)
	}
	if err := c.DeleteKey(ctx, nk.ID); err != nil {
		t.Fatal(err)
	}
	var ae *APIError
	if err := c.DeleteKey(ctx, nk.ID); !errors.As(err, &ae) || ae.Status != 404 || ae.Code != "not_found" {
		t.Errorf("second DeleteKey = %v", err)
	}
	if err := c.SetPolicy(ctx, "nope", Public); !errors.As(err, &ae) || ae.Code != "bucket_not_found" {
		t.Errorf("SetPolicy(nope) = %v", err)
	}
	bad := &Client{BaseURL: h.api.URL, Token: "wrong"}
	if _, err := bad.Keys(ctx); !errors.As(err, &ae) || ae.Status != 401 || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := (&Client{BaseURL: h.api.URL}).Keys(ctx); err == nil || !strings.Contains(err.Error(), "no API token") {
		t.Errorf("no token: %v", err)
	}
}

func TestClientKeepsSecretsOutOfErrors(t *testing.T) {
	const key = config.Secret("client-secret-api-key-42")
	h := newHarness(t, nil)
	c := &Client{BaseURL: h.api.URL}
	_, _, err := c.AccessToken(t.Context(), key)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 401 {
		t.Errorf("wrong API key: %v", err)
	}
	if strings.Contains(err.Error(), key.Reveal()) {
		t.Errorf("error shows the API key: %v", err)
	}
	// Unreachable API: the transport's error names the URL, which holds
	// the key; the client's must not.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c = &Client{BaseURL: srv.URL, Token: "bearer-secret-1234"}
	_, _, err = c.AccessToken(t.Context(), key)
	if err == nil || strings.Contains(err.Error(), key.Reveal()) {
		t.Errorf("unreachable: %v", err)
	}
	if _, err := c.Keys(t.Context()); err == nil || strings.Contains(err.Error(), "bearer-secret-1234") {
		t.Errorf("unreachable: %v", err)
	}
}

func TestClientQencodeShapes(t *testing.T) {
	// Qencode's answers: {"access_token": ...}, and errors as
	// {"error": 1, "message": ...}.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/v1/access_token/"):
			w.Write([]byte(`{"access_token":"qt"}`))
		case r.URL.Path == "/v1/signing-keys" && r.Method == "GET":
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":1,"message":"forbidden here"}`))
		default:
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("oops"))
		}
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL}
	tok, exp, err := c.AccessToken(t.Context(), "k")
	if err != nil || tok.Reveal() != "qt" || !exp.IsZero() {
		t.Errorf("AccessToken = %v, %v", exp, err)
	}
	c.Token = tok
	var ae *APIError
	if _, err := c.Keys(t.Context()); !errors.As(err, &ae) || ae.Status != 403 || ae.Message != "forbidden here" {
		t.Errorf("Keys = %v", err)
	}
	if err := c.DeleteKey(t.Context(), "x"); !errors.As(err, &ae) || ae.Status != 500 || ae.Message != "oops" {
		t.Errorf("DeleteKey = %v", err)
	}
}

// Qencode can answer 200 with an error in the body: the client fails then,
// and succeeds on "error": 0.
func TestClientErrorIn2xx(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/buckets/gone/policy/public":
			w.Write([]byte(`{"error":5,"message":"no such bucket"}`))
		case "/v1/signing-keys":
			w.Write([]byte(`{"error":{"code":"not_found","message":"no keys here"},"signing_keys":[]}`))
		case "/v1/signing-keys/k1":
			w.Write([]byte(`{"error":0,"status":"ok"}`))
		case "/v1/signing-keys/k2":
			w.Write([]byte(`{"error":"0","status":"ok"}`)) // a string is no error code
		default:
			w.Write([]byte(`{"status":"ok","error":null}`))
		}
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Token: "t"}
	ctx := t.Context()
	var ae *APIError
	if err := c.SetPolicy(ctx, "gone", Public); !errors.As(err, &ae) || ae.Status != 200 || ae.Code != "5" || ae.Message != "no such bucket" {
		t.Errorf("SetPolicy with error 5 = %v", err)
	}
	if _, err := c.Keys(ctx); !errors.As(err, &ae) || ae.Code != "not_found" || ae.Message != "no keys here" {
		t.Errorf("Keys with an error object = %v", err)
	}
	for _, id := range []string{"k1", "k2", "k3"} {
		if err := c.DeleteKey(ctx, id); err != nil {
			t.Errorf("DeleteKey(%s) = %v", id, err)
		}
	}
}

// A key deletion's or a policy change's confirmation, as a signgate edge
// answers it, and none from an API that does not tell.
func TestClientConfirmation(t *testing.T) {
	answer := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(answer)) }))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Token: "t"}
	for _, tc := range []struct {
		answer string
		known  bool
		want   Confirmation
	}{
		{`{"status":"ok","error":0,"confirmed":false,"edges":2,"pending":["b"]}`, true, Confirmation{Edges: 2, Pending: []string{"b"}}},
		{`{"status":"ok","error":0,"confirmed":true,"edges":2,"pending":[]}`, true, Confirmation{Confirmed: true, Edges: 2, Pending: []string{}}},
		{`{"status":"ok","error":0}`, false, Confirmation{Pending: []string{}}},
	} {
		answer = tc.answer
		for name, call := range map[string]func() (Confirmation, bool, error){
			"delete": func() (Confirmation, bool, error) { return c.DeleteKeyConfirmed(t.Context(), "k") },
			"policy": func() (Confirmation, bool, error) { return c.SetPolicyConfirmed(t.Context(), "media", Public) },
		} {
			got, known, err := call()
			if err != nil || known != tc.known || got.Confirmed != tc.want.Confirmed || got.Edges != tc.want.Edges || !slices.Equal(got.Pending, tc.want.Pending) {
				t.Errorf("%s on %s: %+v, %v, %v; want %+v, %v", name, tc.answer, got, known, err, tc.want, tc.known)
			}
		}
	}
}
