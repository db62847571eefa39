package edge

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestTracingAPI: the API's spans are named after the route pattern, and
// neither the API key (in the access-token path) nor the bearer token
// reaches a span; a refresh is a span with the store reads below it.
func TestTracingAPI(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	cfg := baseConfig(t, t.TempDir())
	e, err := New(cfg, Options{Now: newClock().Now, TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(e.APIHandler())
	t.Cleanup(func() {
		api.Close()
		e.Close()
	})
	key := testAPIKey
	resp, err := http.Post(api.URL+"/v1/access_token/"+key, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		Token string `json:"token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || tok.Token == "" {
		t.Fatalf("access token: status %d, token %q", resp.StatusCode, tok.Token)
	}
	req, _ := http.NewRequest("GET", api.URL+"/v1/signing-keys", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list keys: status %d", resp.StatusCode)
	}

	ss := exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	for _, s := range ss {
		byName[s.Name] = s
		var texts []string
		texts = append(texts, s.Name, s.Status.Description)
		for _, kv := range s.Attributes {
			texts = append(texts, kv.Value.Emit())
		}
		for _, x := range texts {
			if strings.Contains(x, key) || strings.Contains(x, tok.Token) {
				t.Errorf("span %q holds a secret: %q", s.Name, x)
			}
		}
	}
	for _, name := range []string{"POST /v1/access_token/{api_key}", "GET /v1/signing-keys", SpanRefresh, SpanStoreKeys, SpanStorePolicies} {
		if _, ok := byName[name]; !ok {
			t.Errorf("no span %q among %d", name, len(ss))
		}
	}
	refresh := byName[SpanRefresh]
	for _, name := range []string{SpanStoreKeys, SpanStorePolicies} {
		if c := byName[name]; c.Parent.SpanID() != refresh.SpanContext.SpanID() {
			t.Errorf("%s is not a child of %s", name, SpanRefresh)
		}
	}
}
