package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestEdgeCommandConsole: "signgate edge" serves the portal on its API
// listener by default, and SIGNGATE_EDGE_CONSOLE=false leaves the API
// alone there, answering /console/ with the API's JSON 404.
func TestEdgeCommandConsole(t *testing.T) {
	for _, tc := range []struct {
		name, setting string
		status        int
		want          string
	}{
		{"default", "", http.StatusOK, `name="api_key"`},
		{"off", "false", http.StatusNotFound, `"code":"not_found"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			environ, _ := edgeTestEnviron(t)
			if tc.setting != "" {
				environ["SIGNGATE_EDGE_CONSOLE"] = tc.setting
			}
			_, api, _ := startEdgeCommand(t, environ)
			if code, body := httpGet(t, api+"/console/sign-in"); code != tc.status || !strings.Contains(body, tc.want) {
				t.Errorf("/console/sign-in: %d, want %d and %s\n%s", code, tc.status, tc.want, body)
			}
			if code, _ := httpGet(t, api+"/healthz"); code != http.StatusOK {
				t.Errorf("/healthz beside the portal: %d", code)
			}
		})
	}
}
