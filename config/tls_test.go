package config

import (
	"strings"
	"testing"
)

func TestTLSVariables(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // a variable the error names; "" for none
	}{
		{"off", map[string]string{}, ""},
		{"pair", map[string]string{"SIGNGATE_TLS_CERT_FILE": "c.pem", "SIGNGATE_TLS_KEY_FILE": "k.pem", "SIGNGATE_TLS_MIN_VERSION": "1.3", "SIGNGATE_TLS_HSTS_MAX_AGE": "24h"}, ""},
		{"cert alone", map[string]string{"SIGNGATE_TLS_CERT_FILE": "c.pem"}, "SIGNGATE_TLS_KEY_FILE"},
		{"old version", map[string]string{"SIGNGATE_TLS_CERT_FILE": "c.pem", "SIGNGATE_TLS_KEY_FILE": "k.pem", "SIGNGATE_TLS_MIN_VERSION": "1.1"}, "SIGNGATE_TLS_MIN_VERSION"},
		{"hsts without tls", map[string]string{"SIGNGATE_TLS_HSTS_MAX_AGE": "1h"}, "SIGNGATE_TLS_HSTS_MAX_AGE"},
		{"hsts not a duration", map[string]string{"SIGNGATE_TLS_HSTS_MAX_AGE": "soon"}, "SIGNGATE_TLS_HSTS_MAX_AGE"},
		{"acme without cache", map[string]string{"SIGNGATE_TLS_ACME_HOSTS": "media.example.com"}, "SIGNGATE_TLS_ACME_CACHE_DIR"},
		{"acme and files", map[string]string{"SIGNGATE_TLS_ACME_HOSTS": "media.example.com", "SIGNGATE_TLS_ACME_CACHE_DIR": "/c", "SIGNGATE_TLS_CERT_FILE": "c.pem", "SIGNGATE_TLS_KEY_FILE": "k.pem"}, "SIGNGATE_TLS_ACME_HOSTS"},
		{"acme plain directory", map[string]string{"SIGNGATE_TLS_ACME_HOSTS": "media.example.com", "SIGNGATE_TLS_ACME_CACHE_DIR": "/c", "SIGNGATE_TLS_ACME_DIRECTORY": "http://ca/dir"}, "SIGNGATE_TLS_ACME_DIRECTORY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadGateway(gatewayEnvWith(tc.env))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error naming %s, got %v", tc.want, err)
			}
		})
	}
}

func TestEdgeTLSVariables(t *testing.T) {
	env := map[string]string{"SIGNGATE_EDGE_API_LISTEN": "off", "SIGNGATE_EDGE_TLS_MIN_VERSION": "1.0", "SIGNGATE_EDGE_TLS_HSTS_MAX_AGE": "x"}
	_, err := LoadEdge(env)
	if err == nil || !strings.Contains(err.Error(), "SIGNGATE_EDGE_TLS_HSTS_MAX_AGE") {
		t.Fatalf("want an error naming SIGNGATE_EDGE_TLS_HSTS_MAX_AGE, got %v", err)
	}
	env["SIGNGATE_EDGE_TLS_HSTS_MAX_AGE"] = "0s"
	if _, err = LoadEdge(env); err == nil || !strings.Contains(err.Error(), "SIGNGATE_EDGE_TLS_MIN_VERSION") {
		t.Fatalf("want an error naming SIGNGATE_EDGE_TLS_MIN_VERSION, got %v", err)
	}
}
