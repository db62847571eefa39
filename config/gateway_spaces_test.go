package config

import (
	"strings"
	"testing"
)

// TestRouteSpaces: a table in which one route would hand out another's
// objects under a weaker rule is refused at start, naming both routes.
func TestRouteSpaces(t *testing.T) {
	route := func(n, prefix, base string, kv ...string) map[string]string {
		m := map[string]string{
			"SIGNGATE_ROUTES_" + n + "_PREFIX":   prefix,
			"SIGNGATE_ROUTES_" + n + "_CDN_BASE": base,
			"SIGNGATE_ROUTES_" + n + "_KEY_FILE": "/keys/" + n + ".pem",
			"SIGNGATE_ROUTES_" + n + "_KEY_ID":   "kid-" + n,
			"SIGNGATE_ROUTES_0_BUCKET":           "-",
			"SIGNGATE_ROUTES_0_REGION":           "-",
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m["SIGNGATE_ROUTES_"+n+"_"+kv[i]] = kv[i+1]
		}
		return m
	}
	table := func(rs ...map[string]string) map[string]string {
		env := gatewayEnv()
		for _, r := range rs {
			env = withChanges(env, r)
		}
		return env
	}
	const cdn = "https://cdn.example.com"
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // "" for accepted; else text of the error
	}{
		{"nested, neither strips", table(
			route("0", "/media", cdn, "SCOPE", "bucket"),
			route("1", "/media/premium", cdn, "REQUIRE", "plan=premium"),
		), ""},
		{"two stripped routes, one bucket, different rules", table(
			route("0", "/a", cdn, "STRIP_PREFIX", "true", "PUBLIC", "true"),
			route("1", "/b", "https://CDN.example.com:443/", "STRIP_PREFIX", "true"),
		), "SIGNGATE_ROUTES_0_PREFIX and SIGNGATE_ROUTES_1_PREFIX"},
		{"a stripped route over a restricted one, scheme aside", table(
			route("0", "/s", "http://cdn.example.com", "STRIP_PREFIX", "true"),
			route("1", "/paid", cdn, "REQUIRE", "plan=paid"),
		), "under \"/paid\""},
		{"two stripped routes with one rule", table(
			route("0", "/a", cdn, "STRIP_PREFIX", "true", "REQUIRE", "plan=x"),
			route("1", "/b", cdn, "STRIP_PREFIX", "true", "REQUIRE", " plan = x "),
		), ""},
		{"path prefixes of one host are not told apart", table(
			route("0", "/s", cdn+"/s", "STRIP_PREFIX", "true", "PUBLIC", "true"),
			route("1", "/paid", cdn+"/paid"),
		), "share a host or a key"},
		{"a stripping route with a base path prefix", table(
			route("0", "/x", cdn+"/media", "STRIP_PREFIX", "true", "PUBLIC", "true"),
			route("1", "/paid", cdn),
		), "SIGNGATE_ROUTES_0_PREFIX and SIGNGATE_ROUTES_1_PREFIX"},
		{"one key on two hosts is one bucket", table(
			route("0", "/s", "https://media.example.com", "STRIP_PREFIX", "true", "PUBLIC", "true", "KEY_ID", "k"),
			route("1", "/paid", cdn, "KEY_ID", "k"),
		), "share a host or a key"},
		{"a stripped route on another host with its own key", table(
			route("0", "/s", "https://media.example.com", "STRIP_PREFIX", "true", "PUBLIC", "true"),
			route("1", "/paid", cdn),
		), ""},
		{"prefixes nested only case-folded", table(
			route("0", "/media", cdn, "PUBLIC", "true"),
			route("1", "/Media/premium", cdn),
		), "nest only when case is ignored"},
		{"another origin", table(
			route("0", "/s", cdn, "STRIP_PREFIX", "true", "PUBLIC", "true"),
			route("1", "/paid", "https://other.example.com"),
		), ""},
		// A live stream's route reaches its stream alone, whatever host.
		{"a stream route beside a stripping bucket route on one host", table(
			route("0", "/s", cdn, "STRIP_PREFIX", "true", "PUBLIC", "true"),
			route("1", "/live", cdn+"/live/cam1", "STREAM_ID", "cam1"),
		), ""},
		{"two streams on one host", table(
			route("0", "/a", cdn+"/live/a", "STREAM_ID", "a", "STRIP_PREFIX", "true", "PUBLIC", "true"),
			route("1", "/b", cdn+"/live/b", "STREAM_ID", "b", "STRIP_PREFIX", "true"),
		), ""},
		{"one stream on two hosts, different rules", table(
			route("0", "/a", cdn+"/live/cam1", "STREAM_ID", "cam1", "STRIP_PREFIX", "true", "PUBLIC", "true"),
			route("1", "/b", "https://play-cam1.example.com", "STREAM_ID", "cam1", "STRIP_PREFIX", "true"),
		), "or they serve one STREAM_ID"},
		{"a bucket's key on a stream route", table(
			route("0", "/media", cdn, "KEY_ID", "k"),
			route("1", "/live", cdn+"/live/cam1", "STREAM_ID", "cam1", "KEY_ID", "k"),
		), "SIGNGATE_ROUTES_0_KEY_ID and SIGNGATE_ROUTES_1_KEY_ID: the routes hold the same signing key, but one serves a bucket and the other live stream \"cam1\""},
		{"one key for two streams", table(
			route("0", "/a", cdn+"/live/a", "STREAM_ID", "a"),
			route("1", "/b", cdn+"/live/b", "STREAM_ID", "b", "KEY_FILE", "/keys/0.pem"),
		), "a key belongs to one bucket or one live stream"},
		{"prefixes that differ by case", table(
			route("0", "/media", cdn),
			route("1", "/MEDIA", "https://other.example.com"),
		), "only by case"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadGateway(tc.env)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q, want %q in it", err, tc.want)
			}
		})
	}
}
