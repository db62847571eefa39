package proxy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/edge"
	"github.com/signgate/signgate/signer"
)

// tracedEdge is a real edge, traced by rec, serving a copy of the sample
// media from the authenticated bucket "media" with key.
func tracedEdge(t *testing.T, rec *recorder, key *signer.SigningKey) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	dir := filepath.Join(root, "media")
	if err := os.CopyFS(dir, os.DirFS(sampleMedia)); err != nil {
		t.Fatal(err)
	}
	store, err := edge.OpenSQLite(ctx, filepath.Join(root, "edge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.CreateKey(ctx, edge.Key{
		ID: key.ID, Name: key.ID, Bucket: "media",
		PublicKey: signer.EncodePublicKey(&key.Key.PublicKey), Created: time.Unix(1_700_000_000, 0),
	}); err != nil {
		t.Fatal(err)
	}
	e, err := edge.New(config.Edge{
		Listen: "127.0.0.1:0", APIListen: config.APIOff, DB: config.Database(filepath.Join(root, "edge.db")),
		SingleBucket: true,
		Buckets:      []config.Bucket{{Name: "media", Origin: dir, Policy: config.PolicyAuthenticated}},
		Leeway:       time.Minute, CacheSize: 1000, Refresh: time.Hour, AccessLog: true,
	}, edge.Options{Now: newClock().Now, Store: store, TracerProvider: rec.tp})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(func() {
		srv.Close()
		e.Close()
	})
	return srv
}

// secrets collects what must never reach a span.
type secrets struct {
	mu   sync.Mutex
	list []string
}

func (s *secrets) add(v ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range v {
		if len(x) >= 8 { // shorter strings are not secrets of ours, and match by chance
			s.list = append(s.list, x)
		}
	}
}

var tokenInURL = regexp.MustCompile(`auth=([A-Za-z0-9_.\-]+)`)

// TestTracingNoSecrets is the property: over generated requests through
// traced gateways and a traced edge (redirects with a bearer token or a
// session cookie, forward-auth, cookie mode, manifest mode, and the
// edge's checks of good and bad tokens from the query and the cookie), no
// span's name, attribute, event or status holds a token, a cookie value,
// an Authorization header or a line of the private key. It also checks
// that the spans it needs were made, so that it cannot pass on nothing,
// and that traceparent reached the forward-auth app and the CDN.
func TestTracingNoSecrets(t *testing.T) {
	rec := newRecorder(t)
	key := testKey(t, "key1.pem")
	edgeSrv := tracedEdge(t, rec, key)
	var sec secrets
	sec.add(hmacSecret)
	pem, err := os.ReadFile(filepath.Join("testdata", "key1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(pem), "\n") {
		if !strings.HasPrefix(line, "-----") {
			sec.add(line)
		}
	}

	// The forward-auth app accepts the cookie fa=ok-*, and notes each
	// traceparent it is sent.
	var faMu sync.Mutex
	var faParents []string
	check := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		faMu.Lock()
		faParents = append(faParents, r.Header.Get("traceparent"))
		faMu.Unlock()
		if c, err := r.Cookie("fa"); err == nil && strings.HasPrefix(c.Value, "ok-") {
			w.Header().Set("X-Auth-User", "fa-user")
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(check.Close)

	base := map[string]string{
		"SIGNGATE_ROUTES_0_CDN_BASE":     edgeSrv.URL,
		"SIGNGATE_ROUTES_0_STRIP_PREFIX": "true",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	opts := Options{TracerProvider: rec.tp}
	redirects := newFixtureWith(t, with("SIGNGATE_AUTH", "jwt,forward", "SIGNGATE_FORWARD_URL", check.URL+"/check"), opts)
	cookies := newFixtureWith(t, with("SIGNGATE_ROUTES_0_STREAMING", "cookie", "SIGNGATE_ROUTES_0_SCOPE", "dir"), opts)
	manifests := newFixtureWith(t, with("SIGNGATE_ROUTES_0_STREAMING", "manifest", "SIGNGATE_ROUTES_0_SCOPE", "dir"), opts)

	client := noRedirect()
	get := func(target string, hdr map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("GET", target, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
			sec.add(v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	// atEdge asks the edge for what loc names, with its token and with
	// that token spoilt, and returns the token.
	atEdge := func(loc string) string {
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		tok := u.Query().Get("auth")
		sec.add(tok)
		get(loc, nil).Body.Close()
		if len(tok) > 20 {
			bad := tok[:len(tok)-10] + strings.Repeat("A", 10)
			sec.add(bad)
			q := u.Query()
			q.Set("auth", bad)
			u.RawQuery = q.Encode()
			resp := get(u.String(), nil)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("a spoilt token: status %d at the edge", resp.StatusCode)
			}
		}
		return tok
	}

	rng := rand.New(rand.NewPCG(13, 2))
	files := []string{"hls/180p/seg-000.m4s", "hls/180p/init.mp4", "progressive.webm", "hls/360p/seg-001.m4s", "missing.mp4"}
	for i := range 40 {
		file := files[rng.IntN(len(files))]
		fake := fmt.Sprintf("client-token-%016x", rng.Uint64())
		sec.add(fake)
		query := "?auth=" + fake + "&n=" + fmt.Sprint(rng.IntN(100))
		switch i % 6 {
		case 0, 1: // a redirect, the session in a bearer token or a cookie
			tok := redirects.session(fmt.Sprintf("user-%d", rng.IntN(1000)), nil)
			hdr := map[string]string{"Authorization": "Bearer " + tok}
			if i%6 == 1 {
				hdr = map[string]string{"Cookie": "session=" + tok}
			}
			sec.add(tok)
			resp := get(redirects.srv.URL+"/media/"+file+query, hdr)
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("redirect: status %d", resp.StatusCode)
			}
			atEdge(resp.Header.Get("Location"))
		case 2: // forward-auth, accepted or denied
			fa := fmt.Sprintf("ok-%016x", rng.Uint64())
			want := http.StatusFound
			if rng.IntN(2) == 0 {
				fa, want = fmt.Sprintf("no-%016x", rng.Uint64()), http.StatusUnauthorized
			}
			resp := get(redirects.srv.URL+"/media/"+file+query, map[string]string{"Cookie": "fa=" + fa, "Accept": "application/json"})
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("forward-auth %s: status %d, want %d", fa[:3], resp.StatusCode, want)
			}
			if want == http.StatusFound {
				atEdge(resp.Header.Get("Location"))
			}
		case 3: // cookie mode: the cookie, then the edge with it
			tok := cookies.session("viewer", nil)
			sec.add(tok)
			resp := get(cookies.srv.URL+"/media/"+file+query, map[string]string{"Authorization": "Bearer " + tok})
			resp.Body.Close()
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("cookie mode: status %d", resp.StatusCode)
			}
			for _, c := range resp.Cookies() {
				sec.add(c.Value)
				u, _ := url.Parse(resp.Header.Get("Location"))
				u.RawQuery = ""
				get(u.String(), map[string]string{"Cookie": c.Name + "=" + c.Value}).Body.Close()
			}
			atEdge(resp.Header.Get("Location"))
		default: // manifest mode: the playlist, then one of its segments
			tok := manifests.session("player", nil)
			sec.add(tok)
			resp := get(manifests.srv.URL+"/media/hls/180p/index.m3u8"+query, map[string]string{"Authorization": "Bearer " + tok})
			b := body(t, resp)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("manifest mode: status %d: %s", resp.StatusCode, b)
			}
			for _, m := range tokenInURL.FindAllStringSubmatch(b, -1) {
				sec.add(m[1])
			}
			for _, line := range strings.Split(b, "\n") {
				if strings.HasPrefix(line, "http") {
					atEdge(line)
					break
				}
			}
		}
	}

	ss := rec.spans()
	for _, name := range []string{"GET media 0", "auth.jwt", "auth.forward", SpanForwardCheck, SpanTokenCache, SpanSign,
		SpanManifestFetch, edge.SpanTokenCheck, edge.SpanRefresh, edge.SpanStoreKeys, edge.SpanStorePolicies, "GET media media"} {
		if len(named(ss, name)) == 0 {
			t.Errorf("no span named %q; spans: %v", name, spanNames(ss))
		}
	}
	reasons := map[string]bool{}
	for _, s := range named(ss, edge.SpanTokenCheck) {
		r, _ := attr(s, "signgate.reason")
		reasons[r] = true
	}
	if !reasons[""] || len(reasons) < 2 {
		t.Errorf("token checks' reasons %v: want good and refused tokens", reasons)
	}
	// The CDN's span of a manifest fetch is the child of the gateway's.
	fetches := map[string]bool{}
	for _, s := range named(ss, SpanManifestFetch) {
		fetches[s.SpanContext.SpanID().String()] = true
	}
	found := false
	for _, s := range named(ss, "GET media media") {
		found = found || fetches[s.Parent.SpanID().String()]
	}
	if !found {
		t.Error("no edge span is the child of a manifest.fetch span: traceparent did not reach the CDN")
	}
	faMu.Lock()
	for _, p := range faParents {
		if len(p) != 55 {
			t.Errorf("the forward-auth app got traceparent %q", p)
		}
	}
	faMu.Unlock()

	// The property.
	for _, s := range ss {
		texts := []string{s.Name, s.Status.Description}
		for _, kv := range s.Attributes {
			texts = append(texts, string(kv.Key)+"="+kv.Value.Emit())
		}
		for _, ev := range s.Events {
			texts = append(texts, ev.Name)
			for _, kv := range ev.Attributes {
				texts = append(texts, kv.Value.Emit())
			}
		}
		for _, l := range s.Links {
			for _, kv := range l.Attributes {
				texts = append(texts, kv.Value.Emit())
			}
		}
		for _, txt := range texts {
			if strings.Contains(txt, "auth=") {
				t.Errorf("span %q holds a query with auth=: %q", s.Name, txt)
			}
			for _, x := range sec.list {
				if strings.Contains(txt, x) {
					t.Errorf("span %q holds a secret: %q", s.Name, txt)
				}
			}
		}
	}
	t.Logf("%d spans, %d secrets checked", len(ss), len(sec.list))
}
