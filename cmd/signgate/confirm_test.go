package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestChangeNotConfirmed: when the edge answers that some live edges have
// not applied a key deletion or a policy change yet, the CLI says so on
// stderr (the change is stored: stdout and the exit code are as ever); an
// answer that does not tell (Qencode's) adds nothing.
func TestChangeNotConfirmed(t *testing.T) {
	for _, tc := range []struct {
		name, answer, warn string
	}{
		{"unconfirmed", `{"status":"ok","error":0,"confirmed":false,"edges":3,"pending":["b-1-aa","c-2-bb"]}`,
			"warning: stored, but not yet applied by 2 of 3 edges (b-1-aa, c-2-bb)"},
		{"confirmed", `{"status":"ok","error":0,"confirmed":true,"edges":3,"pending":[]}`, ""},
		{"Qencode's answer", `{"status":"ok","error":0}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(tc.answer))
			}))
			defer api.Close()
			env := map[string]string{"SIGNGATE_API_TOKEN": "t"}
			for _, args := range [][]string{{"keys", "delete", "k1"}, {"policy", "set", "media", "public"}} {
				out, errOut, code := cli(t, env, append(args, "--api-url="+api.URL)...)
				if code != 0 || out == "" {
					t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
				}
				if tc.warn == "" && errOut != "" || !strings.Contains(errOut, tc.warn) {
					t.Errorf("%v: stderr %q, want %q", args, errOut, tc.warn)
				}
			}
		})
	}
}
