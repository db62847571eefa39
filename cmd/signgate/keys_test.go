package main

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestKeysReadsBothForms is `signgate keys` against an API that answers in
// the form older signgate edges used (hex id, "name": "", RFC 3339
// created, the other field absent) and in Qencode's (UUID, "name": null,
// "YYYY-MM-DD HH:MM:SS", the other field null): both read alike.
func TestKeysReadsBothForms(t *testing.T) {
	const (
		oldKey = `{"id":"6560300f7f6723d2f86d89b8330452b6","name":"","bucket":"media","created":"2026-12-02T05:53:14Z"}`
		newKey = `{"id":"ec25a6a6-b31e-4ac9-af01-711460421c6b","name":null,"bucket":null,"stream_id":"live-1","created":"2023-06-12 15:00:40"}`
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/v1/signing-keys":
			w.Write([]byte(`{"status":"ok","error":0,"signing_keys":[` + oldKey + `,` + newKey + `]}`))
		case "/v1/signing-keys/6560300f7f6723d2f86d89b8330452b6":
			w.Write([]byte(`{"status":"ok","error":0,"signing_key":` + oldKey + `}`))
		case "/v1/signing-keys/ec25a6a6-b31e-4ac9-af01-711460421c6b":
			w.Write([]byte(`{"error":0,"signing_key":` + newKey + `}`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	environ := map[string]string{"SIGNGATE_API_URL": srv.URL, "SIGNGATE_API_TOKEN": "tok"}

	code, out, errOut := runCLIEnv(t, environ, "keys", "list")
	if code != 0 {
		t.Fatalf("keys list: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		`(?m)^6560300f7f6723d2f86d89b8330452b6\s+-\s+media\s+-\s+2026-12-02 05:53:14 UTC$`,
		`(?m)^ec25a6a6-b31e-4ac9-af01-711460421c6b\s+-\s+-\s+live-1\s+2023-06-12 15:00:40 UTC$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("keys list: no line %s in\n%s", want, out)
		}
	}

	for id, want := range map[string]string{
		"6560300f7f6723d2f86d89b8330452b6":     "name: -\nbucket: media\nstream_id: -\ncreated: 2026-12-02 05:53:14 UTC\n",
		"ec25a6a6-b31e-4ac9-af01-711460421c6b": "name: -\nbucket: -\nstream_id: live-1\ncreated: 2023-06-12 15:00:40 UTC\n",
	} {
		code, out, errOut := runCLIEnv(t, environ, "keys", "get", id)
		if code != 0 || out != "id: "+id+"\n"+want {
			t.Errorf("keys get %s: exit %d, %q %s; want %q", id, code, out, errOut, want)
		}
	}

	code, out, _ = runCLIEnv(t, environ, "keys", "list", "--json")
	if code != 0 || strings.Count(out, `"name": null`) != 2 || !strings.Contains(out, `"stream_id": null`) {
		t.Errorf("keys list --json: exit %d\n%s", code, out)
	}
}
