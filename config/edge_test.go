package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// edgeEnv is a valid configuration for one bucket; cases change it.
func edgeEnv() map[string]string {
	return map[string]string{
		"SIGNGATE_EDGE_DOMAIN":           "example.com",
		"SIGNGATE_EDGE_API_KEYS":         "0123456789abcdef0123,fedcba9876543210fedc",
		"SIGNGATE_EDGE_BUCKETS_0_NAME":   "media",
		"SIGNGATE_EDGE_BUCKETS_0_REGION": "us-west",
		"SIGNGATE_EDGE_BUCKETS_0_ORIGIN": "/srv/media",
	}
}

func TestLoadEdgeDefaults(t *testing.T) {
	c, err := LoadEdge(edgeEnv())
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":8081" || c.APIListen != "127.0.0.1:8082" || c.DB != "signgate-edge.db" {
		t.Errorf("listen %q, api %q, db %q", c.Listen, c.APIListen, c.DB)
	}
	if c.MetricsListen != "127.0.0.1:9091" || !c.MetricsEnabled() {
		t.Errorf("metrics listen %q, enabled %v", c.MetricsListen, c.MetricsEnabled())
	}
	if c.Leeway != 60*time.Second || c.CacheSize != 100000 || c.GOGC != 400 || c.Refresh != 5*time.Second {
		t.Errorf("leeway %s, cache %d, refresh %s", c.Leeway, c.CacheSize, c.Refresh)
	}
	if c.ConfirmWait() != 2*time.Second || c.HeartbeatEvery() != time.Second || c.LiveFor() != 5*time.Second {
		t.Errorf("confirm timeout %s, heartbeat %s, expiry %s", c.ConfirmWait(), c.HeartbeatEvery(), c.LiveFor())
	}
	if z := (EdgeFleet{}); z.ConfirmWait() != c.ConfirmWait() || z.HeartbeatEvery() != c.HeartbeatEvery() || z.LiveFor() != c.LiveFor() {
		t.Errorf("the zero EdgeFleet is not the defaults: %s %s %s", z.ConfirmWait(), z.HeartbeatEvery(), z.LiveFor())
	}
	if len(c.APIKeys) != 2 || c.APIKeys[1].Reveal() != "fedcba9876543210fedc" {
		t.Errorf("API keys not read")
	}
	if len(c.Buckets) != 1 || c.Buckets[0].Policy != PolicyPublic || c.Buckets[0].IsURL() {
		t.Errorf("buckets = %+v", c.Buckets)
	}
	if got := c.HostsOf(0); len(got) != 1 || got[0] != "media.media-storage.us-west.example.com" {
		t.Errorf("HostsOf(0) = %q", got)
	}
	if s := fmt.Sprintf("%v %+v", c, c); strings.Contains(s, "0123456789abcdef0123") {
		t.Errorf("an API key prints: %s", s)
	}
}

func TestLoadEdgeBuckets(t *testing.T) {
	m := edgeEnv()
	m["SIGNGATE_EDGE_BUCKETS_0_HOSTS"] = "Cdn.Example.org, media.example.net"
	m["SIGNGATE_EDGE_BUCKETS_0_POLICY"] = "authenticated"
	m["SIGNGATE_EDGE_BUCKETS_1_NAME"] = "live.v2"
	m["SIGNGATE_EDGE_BUCKETS_1_ORIGIN"] = "https://minio.internal:9000/live"
	m["SIGNGATE_EDGE_BUCKETS_1_HOSTS"] = "live.example.org"
	c, err := LoadEdge(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Buckets) != 2 || !c.Buckets[1].IsURL() || c.Buckets[0].Policy != PolicyAuthenticated {
		t.Fatalf("buckets = %+v", c.Buckets)
	}
	want := []string{"media.media-storage.us-west.example.com", "cdn.example.org", "media.example.net"}
	if got := c.HostsOf(0); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("HostsOf(0) = %q, want %q", got, want)
	}
}

func TestLoadEdgeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  map[string]string // "" deletes
		want []string          // each must appear in the error
	}{
		{"no bucket", map[string]string{"SIGNGATE_EDGE_BUCKETS_0_NAME": "", "SIGNGATE_EDGE_BUCKETS_0_REGION": "", "SIGNGATE_EDGE_BUCKETS_0_ORIGIN": ""},
			[]string{"SIGNGATE_EDGE_BUCKETS_0_NAME: at least one bucket"}},
		{"bad name", map[string]string{"SIGNGATE_EDGE_BUCKETS_0_NAME": "Media_1"}, []string{"SIGNGATE_EDGE_BUCKETS_0_NAME"}},
		{"no origin", map[string]string{"SIGNGATE_EDGE_BUCKETS_0_ORIGIN": ""}, []string{"SIGNGATE_EDGE_BUCKETS_0_ORIGIN: required"}},
		{"ftp origin", map[string]string{"SIGNGATE_EDGE_BUCKETS_0_ORIGIN": "ftp://x/y"}, []string{"SIGNGATE_EDGE_BUCKETS_0_ORIGIN"}},
		{"origin with user", map[string]string{"SIGNGATE_EDGE_BUCKETS_0_ORIGIN": "https://u:p@x/y"}, []string{"SIGNGATE_EDGE_BUCKETS_0_ORIGIN: the origin URL must not hold user info"}},
		{"origin with query", map[string]string{"SIGNGATE_EDGE_BUCKETS_0_ORIGIN": "https://x/y?a=b"}, []string{"SIGNGATE_EDGE_BUCKETS_0_ORIGIN"}},
		{"bad policy", map[string]string{"SIGNGATE_EDGE_BUCKETS_0_POLICY": "private"}, []string{"SIGNGATE_EDGE_BUCKETS_0_POLICY"}},
		{"bad region", map[string]string{"SIGNGATE_EDGE_BUCKETS_0_REGION": "US West"}, []string{"SIGNGATE_EDGE_BUCKETS_0_REGION"}},
		{"bad host", map[string]string{"SIGNGATE_EDGE_BUCKETS_0_HOSTS": "https://cdn.example.com"}, []string{"SIGNGATE_EDGE_BUCKETS_0_HOSTS"}},
		{"no host", map[string]string{"SIGNGATE_EDGE_DOMAIN": ""}, []string{"SIGNGATE_EDGE_BUCKETS_0_HOSTS: bucket \"media\" has no host name"}},
		{"bad domain", map[string]string{"SIGNGATE_EDGE_DOMAIN": "example.com:443"}, []string{"SIGNGATE_EDGE_DOMAIN"}},
		{"duplicate name", map[string]string{"SIGNGATE_EDGE_BUCKETS_1_NAME": "media", "SIGNGATE_EDGE_BUCKETS_1_ORIGIN": "/x", "SIGNGATE_EDGE_BUCKETS_1_HOSTS": "a.example"},
			[]string{"SIGNGATE_EDGE_BUCKETS_1_NAME: bucket \"media\" is also bucket 0"}},
		{"duplicate host", map[string]string{"SIGNGATE_EDGE_BUCKETS_1_NAME": "other", "SIGNGATE_EDGE_BUCKETS_1_ORIGIN": "/x", "SIGNGATE_EDGE_BUCKETS_1_HOSTS": "media.media-storage.us-west.example.com"},
			[]string{"SIGNGATE_EDGE_BUCKETS_1_HOSTS: host \"media.media-storage.us-west.example.com\" is also mapped to bucket 0"}},
		{"gap", map[string]string{"SIGNGATE_EDGE_BUCKETS_2_NAME": "late"}, []string{"SIGNGATE_EDGE_BUCKETS_2_NAME: bucket 2 is ignored"}},
		{"typo", map[string]string{"SIGNGATE_EDGE_BUCKETS_X_NAME": "late"}, []string{"SIGNGATE_EDGE_BUCKETS_X_NAME: not a bucket setting"}},
		{"single with two", map[string]string{"SIGNGATE_EDGE_SINGLE_BUCKET": "true", "SIGNGATE_EDGE_BUCKETS_1_NAME": "other", "SIGNGATE_EDGE_BUCKETS_1_ORIGIN": "/x"},
			[]string{"SIGNGATE_EDGE_SINGLE_BUCKET"}},
		{"no API key", map[string]string{"SIGNGATE_EDGE_API_KEYS": ""}, []string{"SIGNGATE_EDGE_API_KEYS: at least one API key"}},
		{"short API key", map[string]string{"SIGNGATE_EDGE_API_KEYS": "0123456789abcdef0123,short"}, []string{"SIGNGATE_EDGE_API_KEYS: key 1 is shorter"}},
		{"CORS path", map[string]string{"SIGNGATE_EDGE_CORS_ORIGINS": "https://app.example.com/"}, []string{"SIGNGATE_EDGE_CORS_ORIGINS"}},
		{"CORS star among others", map[string]string{"SIGNGATE_EDGE_CORS_ORIGINS": "*,https://a.example"}, []string{"SIGNGATE_EDGE_CORS_ORIGINS: \"*\" must stand alone"}},
		{"bad listen", map[string]string{"SIGNGATE_EDGE_LISTEN": "8081"}, []string{"SIGNGATE_EDGE_LISTEN"}},
		{"bad API listen", map[string]string{"SIGNGATE_EDGE_API_LISTEN": "localhost"}, []string{"SIGNGATE_EDGE_API_LISTEN"}},
		{"bad metrics listen", map[string]string{"SIGNGATE_EDGE_METRICS_LISTEN": "9091"}, []string{"SIGNGATE_EDGE_METRICS_LISTEN: \"9091\" is not host:port"}},
		{"DB with query", map[string]string{"SIGNGATE_EDGE_DB": "x.db?mode=ro"}, []string{"SIGNGATE_EDGE_DB"}},
		{"negative leeway", map[string]string{"SIGNGATE_EDGE_LEEWAY": "-1s"}, []string{"SIGNGATE_EDGE_LEEWAY"}},
		{"zero cache", map[string]string{"SIGNGATE_EDGE_CACHE_SIZE": "0"}, []string{"SIGNGATE_EDGE_CACHE_SIZE"}},
		{"GOGC too low", map[string]string{"SIGNGATE_EDGE_GOGC": "10"}, []string{"SIGNGATE_EDGE_GOGC: 10: want -1 (off), 0 (the runtime's own) or at least 25"}},
		{"fast refresh", map[string]string{"SIGNGATE_EDGE_REFRESH": "1ms"}, []string{"SIGNGATE_EDGE_REFRESH"}},
		{"negative confirm timeout", map[string]string{"SIGNGATE_EDGE_CONFIRM_TIMEOUT": "-1s"}, []string{"SIGNGATE_EDGE_CONFIRM_TIMEOUT: -1s"}},
		{"long confirm timeout", map[string]string{"SIGNGATE_EDGE_CONFIRM_TIMEOUT": "2m"}, []string{"SIGNGATE_EDGE_CONFIRM_TIMEOUT: 2m0s"}},
		{"fast heartbeat", map[string]string{"SIGNGATE_EDGE_HEARTBEAT": "1ms"}, []string{"SIGNGATE_EDGE_HEARTBEAT: 1ms"}},
		{"expiry within the heartbeat", map[string]string{"SIGNGATE_EDGE_HEARTBEAT": "2s", "SIGNGATE_EDGE_HEARTBEAT_EXPIRY": "3s"},
			[]string{"SIGNGATE_EDGE_HEARTBEAT_EXPIRY: 3s: want at least twice SIGNGATE_EDGE_HEARTBEAT (2s)"}},
		{"unparsable", map[string]string{"SIGNGATE_EDGE_REFRESH": "soon", "SIGNGATE_EDGE_CACHE_SIZE": "many"},
			[]string{"SIGNGATE_EDGE_REFRESH: unable to parse duration", "SIGNGATE_EDGE_CACHE_SIZE: strconv"}},
		{"misspelt variable", map[string]string{"SIGNGATE_EDGE_LEWAY": "10s"}, []string{"SIGNGATE_EDGE_LEWAY: unknown variable; did you mean SIGNGATE_EDGE_LEEWAY?"}},
		{"misspelt bucket setting", map[string]string{"SIGNGATE_EDGE_BUCKETS_0_ORIGN": "/x"}, []string{"SIGNGATE_EDGE_BUCKETS_0_ORIGN: unknown variable; did you mean SIGNGATE_EDGE_BUCKETS_0_ORIGIN?"}},
		{"all at once", map[string]string{"SIGNGATE_EDGE_LEEWAY": "-1s", "SIGNGATE_EDGE_BUCKETS_0_POLICY": "x", "SIGNGATE_EDGE_CACHE_SIZE": "-3"},
			[]string{"SIGNGATE_EDGE_LEEWAY", "SIGNGATE_EDGE_BUCKETS_0_POLICY", "SIGNGATE_EDGE_CACHE_SIZE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := edgeEnv()
			for k, v := range tc.set {
				if v == "" {
					delete(m, k)
				} else {
					m[k] = v
				}
			}
			_, err := LoadEdge(m)
			if err == nil {
				t.Fatal("LoadEdge succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestLoadEdgeOthersVariables: the gateway's variables and those read by
// hand are not the edge's to refuse.
func TestLoadEdgeOthersVariables(t *testing.T) {
	m := edgeEnv()
	m["SIGNGATE_JWT_ISSUR"] = "x" // the gateway's to refuse
	m["SIGNGATE_ROUTES_0_PREFIX"] = "/media"
	m["SIGNGATE_LOG_LEVEL"] = "debug"
	m["SIGNGATE_API_KEY"] = "k"
	if _, err := LoadEdge(m); err != nil {
		t.Error(err)
	}
}

func TestLoadEdgeAPIOff(t *testing.T) {
	m := edgeEnv()
	m["SIGNGATE_EDGE_API_LISTEN"] = "off"
	delete(m, "SIGNGATE_EDGE_API_KEYS")
	c, err := LoadEdge(m)
	if err != nil {
		t.Fatalf("API off without keys: %v", err)
	}
	if c.APIEnabled() {
		t.Error("APIEnabled with SIGNGATE_EDGE_API_LISTEN=off")
	}
}

func TestLoadEdgeMetricsOff(t *testing.T) {
	m := edgeEnv()
	m["SIGNGATE_EDGE_METRICS_LISTEN"] = "off"
	c, err := LoadEdge(m)
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsEnabled() {
		t.Error("MetricsEnabled with SIGNGATE_EDGE_METRICS_LISTEN=off")
	}
}

func TestLoadEdgeSingleBucket(t *testing.T) {
	m := edgeEnv()
	delete(m, "SIGNGATE_EDGE_DOMAIN")
	m["SIGNGATE_EDGE_SINGLE_BUCKET"] = "true"
	c, err := LoadEdge(m)
	if err != nil {
		t.Fatal(err)
	}
	if !c.SingleBucket || len(c.HostsOf(0)) != 0 {
		t.Errorf("single %v hosts %q", c.SingleBucket, c.HostsOf(0))
	}
}
