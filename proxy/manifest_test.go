package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const testMaster = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English, US",URI="audio/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=420000,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="aud"
360p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=200000,AUDIO="aud"
180p/index.m3u8?v=2&auth=stale
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="iframes.m3u8"
`

// get sends a GET with alice's session and extra headers.
func (f *fixture) get(target string, extra map[string]string) *http.Response {
	f.t.Helper()
	hdr := bearer(f.session("alice", nil))
	for k, v := range extra {
		hdr[k] = v
	}
	return f.do("GET", target, hdr)
}

// errorCode reads the code of a JSON error answer.
func errorCode(t testing.TB, resp *http.Response) string {
	t.Helper()
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(body(t, resp)), &e); err != nil {
		t.Fatalf("status %d: not a JSON error: %v", resp.StatusCode, err)
	}
	return e.Error.Code
}

func TestManifestHLSMaster(t *testing.T) {
	f, c := streamFixture(t, "manifest", nil)
	c.put("/media/hls/master.m3u8", testMaster)
	// The Host and X-Forwarded-Host are an attacker's: child playlists
	// never take their host from the request.
	hdr := map[string]string{"Host": "evil.example", "X-Forwarded-Host": "evil.example", "Cookie": "session=x; other=1"}
	resp := f.get("/media/hls/master.m3u8", hdr)
	got := body(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, got)
	}
	for k, want := range map[string]string{
		"Content-Type":           "application/vnd.apple.mpegurl",
		"Cache-Control":          "private, no-store",
		"Referrer-Policy":        "no-referrer",
		"X-Content-Type-Options": "nosniff",
	} {
		if v := resp.Header.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	want := strings.NewReplacer(
		`URI="audio/en.m3u8"`, `URI="/media/hls/audio/en.m3u8"`,
		"360p/index.m3u8", "/media/hls/360p/index.m3u8",
		"180p/index.m3u8?v=2&auth=stale", "/media/hls/180p/index.m3u8?v=2",
		`URI="iframes.m3u8"`, `URI="/media/hls/iframes.m3u8"`,
	).Replace(testMaster)
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(got, "evil") {
		t.Error("a request header reached the manifest")
	}

	t.Run("HEAD", func(t *testing.T) {
		resp := f.do("HEAD", "/media/hls/master.m3u8", bearer(f.session("alice", nil)))
		if resp.StatusCode != 200 || resp.ContentLength != int64(len(want)) || body(t, resp) != "" {
			t.Errorf("HEAD: status %d, length %d", resp.StatusCode, resp.ContentLength)
		}
	})
	t.Run("the CDN saw no client header", func(t *testing.T) {
		reqs := c.requests()
		if len(reqs) == 0 {
			t.Fatal("the CDN got nothing")
		}
		for _, r := range reqs {
			if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" || r.Header.Get("X-Forwarded-Host") != "" {
				t.Errorf("a client header reached the CDN: %v", r.Header)
			}
			tok := r.URL.Query().Get("auth")
			if c := claimsOf(t, f, tok); c.URI != "/media/hls" {
				t.Errorf("fetched with uri %q, want the directory /media/hls", c.URI)
			}
		}
	})
}

func TestManifestHLSMediaPlaylist(t *testing.T) {
	f, c := streamFixture(t, "manifest", nil)
	c.put("/media/hls/180p/index.m3u8", `#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-KEY:METHOD=AES-128,URI="key.bin",IV=0x00000000000000000000000000000001
#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"
#EXTINF:2.0,
#EXT-X-BYTERANGE:1000@720
all.mp4
#EXTINF:2.0,
/media/hls/180p/seg-1.m4s?x=1
#EXTINF:2.0,
../shared/intro.ts
#EXTINF:2.0,
https://ads.example.net/ad.ts?auth=theirs
#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://fairplay-key",KEYFORMAT="com.apple.streamingkeydelivery"
#EXTINF:2.0,
seg 3.ts#t=1
#EXT-X-ENDLIST
`)
	resp := f.get("/media/hls/180p/index.m3u8", nil)
	got := body(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, got)
	}
	wantScope := map[string]string{
		"/media/hls/180p/key.bin":    "/media/hls/180p",
		"/media/hls/180p/init.mp4":   "/media/hls/180p",
		"/media/hls/180p/all.mp4":    "/media/hls/180p",
		"/media/hls/180p/seg-1.m4s":  "/media/hls/180p",
		"/media/hls/shared/intro.ts": "/media/hls/shared", // outside the manifest's directory: its own
		"/media/hls/180p/seg 3.ts":   "/media/hls/180p",
	}
	seen := map[string]bool{}
	var uris []string
	uris = append(uris, uriLines(got)...)
	for _, l := range strings.Split(got, "\n") {
		if i := strings.Index(l, `URI="`); i >= 0 {
			uris = append(uris, strings.SplitN(l[i+5:], `"`, 2)[0])
		}
	}
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case u.Scheme == "skd":
			continue
		case u.Host == "ads.example.net":
			if s != "https://ads.example.net/ad.ts?auth=theirs" {
				t.Errorf("foreign URI changed: %s", s)
			}
			continue
		}
		if !strings.HasPrefix(s, c.URL+"/") {
			t.Errorf("not an absolute CDN URL: %s", s)
			continue
		}
		if n := len(u.Query()["auth"]); n != 1 {
			t.Errorf("%s: %d auth parameters", s, n)
		}
		scope, ok := wantScope[u.Path]
		if !ok {
			t.Errorf("unexpected URI %s", s)
			continue
		}
		seen[u.Path] = true
		if cl := claimsOf(t, f, u.Query().Get("auth")); cl.URI != scope {
			t.Errorf("%s: uri claim %q, want %q", u.Path, cl.URI, scope)
		}
		if !c.fetchOK(t, s) {
			t.Errorf("the CDN refused %s", s)
		}
	}
	if len(seen) != len(wantScope) {
		t.Errorf("rewrote %v, want %v", seen, wantScope)
	}
	for _, frag := range []string{"seg%203.ts?auth=", "#t=1", "seg-1.m4s?x=1&auth=", `BYTERANGE="720@0"`, "#EXT-X-BYTERANGE:1000@720"} {
		if !strings.Contains(got, frag) {
			t.Errorf("output lacks %q:\n%s", frag, got)
		}
	}
	if strings.Contains(f.logs.String(), "auth=") {
		t.Error("a signed URL reached the log")
	}
}

func TestManifestDASH(t *testing.T) {
	f, c := streamFixture(t, "manifest", nil)
	c.put("/media/dash/manifest.mpd", `<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static">
  <Location>manifest.mpd?v=2</Location>
  <Period>
    <BaseURL>video/</BaseURL>
    <AdaptationSet>
      <Representation id="v0" bandwidth="300000">
        <SegmentTemplate initialization="$RepresentationID$/init.mp4" media="$RepresentationID$/seg-$Number%05d$.m4s" startNumber="1"/>
      </Representation>
      <Representation id="v1" bandwidth="100000">
        <SegmentList><SegmentURL media="list/1.m4s"/></SegmentList>
      </Representation>
      <Representation id="v2" bandwidth="50000">
        <SegmentTemplate media="../../common/seg-$Number$.m4s"/>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>`)
	resp := f.get("/media/dash/manifest.mpd", nil)
	got := body(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/dash+xml" {
		t.Fatalf("status %d, type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), got)
	}
	attr := func(name string) []string {
		var out []string
		for _, part := range strings.Split(got, name+`="`)[1:] {
			out = append(out, strings.ReplaceAll(strings.SplitN(part, `"`, 2)[0], "&amp;", "&"))
		}
		return out
	}
	media := attr("media")
	if len(media) != 3 {
		t.Fatalf("media attributes %v", media)
	}
	for _, tc := range []struct {
		template, fill, scope string
	}{
		{media[0], "v0/seg-00001.m4s", "/media/dash"},
		{attr("initialization")[0], "v0/init.mp4", "/media/dash"},
		{media[1], "", "/media/dash"},
		{media[2], "seg-7.m4s", "/media/common"},
	} {
		u, err := url.Parse(tc.template)
		if err != nil {
			t.Fatal(err)
		}
		if cl := claimsOf(t, f, u.Query().Get("auth")); cl.URI != tc.scope {
			t.Errorf("%s: uri claim %q, want %q", tc.template, cl.URI, tc.scope)
		}
		// What a player requests once it has filled the identifiers in.
		filled := strings.NewReplacer("$RepresentationID$", "v0", "$Number%05d$", "00001", "$Number$", "7").Replace(tc.template)
		if tc.fill != "" && !strings.Contains(filled, "/"+tc.fill+"?") {
			t.Errorf("filled %s, want it to name %s", filled, tc.fill)
		}
		if !c.fetchOK(t, filled) {
			t.Errorf("the CDN refused %s", filled)
		}
	}
	if !strings.Contains(got, `$RepresentationID$/seg-$Number%05d$.m4s?auth=`) {
		t.Errorf("the template's identifiers were not kept as written:\n%s", got)
	}
	if !strings.Contains(got, "<BaseURL>"+c.URL+"/media/dash/video/?auth=") {
		t.Errorf("BaseURL not signed:\n%s", got)
	}
	// Location names the MPD to fetch again: back through the gateway.
	if !strings.Contains(got, "<Location>/media/dash/manifest.mpd?v=2</Location>") {
		t.Errorf("Location not the gateway path:\n%s", got)
	}
}

func TestManifestURIsOutsideTheRoute(t *testing.T) {
	premium := map[string]string{
		"SIGNGATE_ROUTES_1_PREFIX":    "/media/premium",
		"SIGNGATE_ROUTES_1_NAME":      "premium",
		"SIGNGATE_ROUTES_1_KEY_FILE":  "testdata/key1.pem",
		"SIGNGATE_ROUTES_1_KEY_ID":    "key1",
		"SIGNGATE_ROUTES_1_REQUIRE":   "plan=premium",
		"SIGNGATE_ROUTES_1_STREAMING": "manifest",
		"SIGNGATE_ROUTES_1_CDN_BASE":  "$CDN",
	}
	f, c := streamFixture(t, "manifest", premium)
	for _, tc := range []struct {
		name, path, manifest string
		wantStatus           int
		wantCode             string
	}{
		{"another path of the CDN", "/media/a/index.m3u8", "#EXTM3U\n#EXTINF:1,\n/private/x.ts\n", 502, "manifest_uri_refused"},
		{"a nested route's media", "/media/a/index.m3u8", "#EXTM3U\n#EXTINF:1,\n../premium/x.ts\n", 502, "manifest_uri_refused"},
		{"a nested route's playlist", "/media/a/master.m3u8", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n/media/premium/v.m3u8\n", 502, "manifest_uri_refused"},
		{"a non-canonical path", "/media/a/index.m3u8", "#EXTM3U\n#EXTINF:1,\nx%2Fy.ts\n", 502, "manifest_uri_refused"},
		{"user info", "/media/a/index.m3u8", "#EXTM3U\n#EXTINF:1,\n" + strings.Replace(c.URL, "://", "://u:p@", 1) + "/media/a/x.ts\n", 502, "manifest_uri_refused"},
		{"inside", "/media/a/index.m3u8", "#EXTM3U\n#EXTINF:1,\n../b/x.ts\n", 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.put(tc.path, tc.manifest)
			resp := f.get(tc.path, nil)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, body(t, resp))
			}
			if tc.wantCode != "" {
				if code := errorCode(t, resp); code != tc.wantCode {
					t.Errorf("code %q, want %q", code, tc.wantCode)
				}
			}
		})
	}
	t.Run("a directory holding a nested route signs files alone", func(t *testing.T) {
		c.put("/media/index.m3u8", "#EXTM3U\n#EXTINF:1,\na.ts\n#EXTINF:1,\nsub/b.ts\n")
		resp := f.get("/media/index.m3u8", nil)
		got := body(t, resp)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, got)
		}
		for i, want := range []string{"/media/a.ts", "/media/sub"} {
			u, _ := url.Parse(uriLines(got)[i])
			if cl := claimsOf(t, f, u.Query().Get("auth")); cl.URI != want {
				t.Errorf("%s: uri claim %q, want %q (never /media, which holds /media/premium)", u.Path, cl.URI, want)
			}
		}
	})
}

// restartWith starts a new gateway for f's environment with changes, on
// the same CDN.
func restartWith(t *testing.T, f *fixture, c *fileCDN, changes map[string]string) (*fixture, *fileCDN) {
	t.Helper()
	env := map[string]string{}
	for k, v := range f.environ {
		env[k] = v
	}
	for k, v := range changes {
		env[k] = v
	}
	g := newFixture(t, env)
	c.verifier.Now = g.clock.Now
	return g, c
}

func TestManifestModeAuthAndOtherPaths(t *testing.T) {
	f, c := streamFixture(t, "manifest", nil)
	c.put("/media/v/index.m3u8", "#EXTM3U\n#EXTINF:1,\nseg.ts\n")
	t.Run("no session", func(t *testing.T) {
		n := len(c.requests())
		resp := f.do("GET", "/media/v/index.m3u8", nil)
		if resp.StatusCode != 401 || errorCode(t, resp) != "unauthenticated" {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
		if len(c.requests()) != n {
			t.Error("the CDN was asked for a manifest without a session")
		}
	})
	t.Run("segments redirect", func(t *testing.T) {
		resp := f.get("/media/v/seg.ts", nil)
		if resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), c.URL+"/media/v/seg.ts?auth=") {
			t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp.Header.Get("Set-Cookie") != "" {
			t.Error("manifest mode set a cookie")
		}
	})
	t.Run("extension in any case", func(t *testing.T) {
		c.put("/media/v/INDEX.M3U8", "#EXTM3U\n#EXTINF:1,\nseg.ts\n")
		resp := f.get("/media/v/INDEX.M3U8", nil)
		if got := body(t, resp); resp.StatusCode != 200 || !strings.Contains(got, c.URL+"/media/v/seg.ts?auth=") {
			t.Fatalf("status %d: %s", resp.StatusCode, got)
		}
	})
	t.Run("the query goes to the CDN", func(t *testing.T) {
		resp := f.get("/media/v/index.m3u8?lang=en&auth=forged", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		reqs := c.requests()
		q := reqs[len(reqs)-1].URL.Query()
		if q.Get("lang") != "en" || len(q["auth"]) != 1 || q.Get("auth") == "forged" {
			t.Errorf("CDN query %v", q)
		}
	})
	t.Run("off mode redirects manifests", func(t *testing.T) {
		g, _ := restartWith(t, f, c, map[string]string{"SIGNGATE_ROUTES_0_STREAMING": "off"})
		if resp := g.get("/media/v/index.m3u8", nil); resp.StatusCode != 302 {
			t.Errorf("status %d, want 302", resp.StatusCode)
		}
	})
}

func TestManifestMetrics(t *testing.T) {
	f, c := streamFixture(t, "manifest", nil)
	c.put("/media/hls/master.m3u8", testMaster)
	c.put("/media/hls/360p/index.m3u8", "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1,\nseg.ts\n#EXTINF:1,\nhttps://other.example/x.ts\n")
	f.get("/media/hls/master.m3u8", nil)
	f.get("/media/hls/360p/index.m3u8", nil)
	f.get("/media/hls/gone.m3u8", nil)
	rec := httptest.NewRecorder()
	f.gw.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	m := rec.Body.String()
	for _, want := range []string{
		`signgate_manifest_rewrites_total{format="hls",outcome="ok",route="0"} 2`,
		`signgate_manifest_rewrites_total{format="hls",outcome="not_found",route="0"} 1`,
		`signgate_manifest_uris_total{kind="playlist",route="0"} 4`,
		`signgate_manifest_uris_total{kind="media",route="0"} 2`,
		`signgate_manifest_uris_total{kind="foreign",route="0"} 1`,
		`signgate_requests_total{code="200",handler="manifest"} 2`,
		`signgate_requests_total{code="404",handler="manifest"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
