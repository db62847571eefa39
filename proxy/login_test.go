package proxy

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// browserResolve resolves ref against base the way a browser reads a
// Location: tabs and newlines dropped, backslashes read as slashes.
func browserResolve(base *url.URL, ref string) (*url.URL, error) {
	ref = strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(ref)
	u, err := url.Parse(ref)
	if err != nil {
		return nil, err
	}
	return base.ResolveReference(u), nil
}

// openRedirectTricks are request targets that try to make the return path
// leave the site.
func openRedirectTricks() []string {
	return []string{
		"//evil.example",
		"//evil.example/media/x.mp4",
		"///evil.example/media/x.mp4",
		"/\\evil.example",
		"/\\/evil.example/",
		"/%5Cevil.example",
		"/%5cevil.example/media",
		"/%2F%2Fevil.example",
		"/%2f/evil.example",
		"/%252F%252Fevil.example",
		"/%25252F%25252Fevil.example",
		"/%09/evil.example",
		"/%09//evil.example",
		"/%0d%0a//evil.example",
		"/%00//evil.example",
		"/@evil.example",
		"/media/x.mp4@evil.example",
		"//user@evil.example/",
		"/.//evil.example",
		"/..//evil.example",
		"/media/..//evil.example",
		"/%2e%2e//evil.example",
		"/%5C%5Cevil.example",
		"/%E2%80%AE//evil.example",
		"/ /evil.example",
		"/%20//evil.example",
		"/media/x.mp4?r=//evil.example",
		"/media/x.mp4?%2F%2Fevil.example",
		"https://evil.example/media/x.mp4",
		"http:evil.example",
		"/javascript:alert(1)",
		"/media/x.mp4#//evil.example",
	}
}

func TestSafeReturnPathNeverLeavesTheSite(t *testing.T) {
	site, _ := url.Parse("https://app.example.com/login")
	for _, target := range openRedirectTricks() {
		t.Run(target, func(t *testing.T) {
			u, err := url.Parse(target)
			if err != nil {
				u = &url.URL{Path: "/"}
			}
			got := SafeReturnPath(u.EscapedPath(), u.RawQuery)
			// The login app may decode the value any number of times.
			for v := got; ; {
				res, err := browserResolve(site, v)
				if err != nil {
					t.Fatalf("return path %q does not parse: %v", v, err)
				}
				if res.Host != site.Host || res.Scheme != site.Scheme || res.User != nil {
					t.Fatalf("return path %q (from %q) leads to %s", v, got, res)
				}
				d, err := url.PathUnescape(v)
				if err != nil || d == v {
					break
				}
				v = d
			}
		})
	}
}

func TestSafeReturnPathKeepsOrdinaryPaths(t *testing.T) {
	for _, tc := range []struct{ path, query, want string }{
		{"/media/v/clip.mp4", "", "/media/v/clip.mp4"},
		{"/media/v/clip.mp4", "start=10&auth=secret", "/media/v/clip.mp4?start=10"},
		{"/media/a%20b.mp4", "", "/media/a%20b.mp4"},
		{"/", "", "/"},
		{"//evil.example", "", "/"},
	} {
		if got := SafeReturnPath(tc.path, tc.query); got != tc.want {
			t.Errorf("SafeReturnPath(%q, %q) = %q, want %q", tc.path, tc.query, got, tc.want)
		}
	}
}

// TestLoginRedirectEndToEnd sends every trick to a real gateway as a
// browser would, twice: as the request target, and in the query of a
// media path. The media route is a catch-all ("/"), so that no trick
// reaches the upstream app: each reaches the login redirect, whose return
// path must stay on the site however often it is decoded, or is one of
// those listed below as refused with 400 before authentication.
func TestLoginRedirectEndToEnd(t *testing.T) {
	f := newFixture(t, map[string]string{"SIGNGATE_ROUTES_0_PREFIX": "/"})
	addr := strings.TrimPrefix(f.srv.URL, "http://")
	const (
		notCanonical = "path_not_canonical" // the gateway refuses the path on routing
		badTarget    = "net/http"           // Go's server refuses the request line
	)
	// refused are the targets refused with 400, and by whom.
	refused := map[string]string{
		"//evil.example":              notCanonical,
		"//evil.example/media/x.mp4":  notCanonical,
		"///evil.example/media/x.mp4": notCanonical,
		"/\\evil.example":             notCanonical,
		"/\\/evil.example/":           notCanonical,
		"/%5Cevil.example":            notCanonical,
		"/%5cevil.example/media":      notCanonical,
		"/%2F%2Fevil.example":         notCanonical,
		"/%2f/evil.example":           notCanonical,
		"/%09/evil.example":           notCanonical,
		"/%09//evil.example":          notCanonical,
		"/%0d%0a//evil.example":       notCanonical,
		"/%00//evil.example":          notCanonical,
		"//user@evil.example/":        notCanonical,
		"/.//evil.example":            notCanonical,
		"/..//evil.example":           notCanonical,
		"/media/..//evil.example":     notCanonical,
		"/%2e%2e//evil.example":       notCanonical,
		"/%5C%5Cevil.example":         notCanonical,
		"/%E2%80%AE//evil.example":    notCanonical,
		"/%20//evil.example":          notCanonical,
		"/ /evil.example":             badTarget,
		"http:evil.example":           notCanonical,
		"/media/x.mp4#//evil.example": notCanonical,
	}
	site, _ := url.Parse("https://login.example.com/")
	var targets []string
	for _, trick := range openRedirectTricks() {
		// A space would end the request line: escape it in the query.
		targets = append(targets, trick, "/media/x.mp4?next="+strings.ReplaceAll(trick, " ", "%20"))
	}
	redirected := 0
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			resp := rawRequest(t, addr, target, "Accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
			if by, ok := refused[target]; ok {
				b := body(t, resp)
				switch {
				case resp.StatusCode != http.StatusBadRequest:
					t.Fatalf("status %d, want 400 (%s)", resp.StatusCode, by)
				case by == notCanonical && !strings.Contains(b, `"code":"`+notCanonical+`"`):
					t.Fatalf("body %s, want the code %s", b, notCanonical)
				case by == badTarget && resp.Header.Get("Content-Type") == "application/json":
					t.Fatalf("body %s: want Go's server to refuse the request line, not the gateway", b)
				}
				return
			}
			if resp.StatusCode != http.StatusFound {
				t.Fatalf("status %d, want 302 to the login page", resp.StatusCode)
			}
			redirected++
			loc := location(t, resp)
			if loc.Host != "login.example.com" || loc.Scheme != "https" || loc.Path != "/login" {
				t.Fatalf("Location %s: must be the configured login URL", loc)
			}
			if loc.Query().Get("app") != "1" {
				t.Errorf("the login URL's own query was lost: %s", loc)
			}
			ret := loc.Query().Get("return_to")
			if !strings.HasPrefix(ret, "/") {
				t.Fatalf("return_to %q is not a path", ret)
			}
			for v := ret; ; {
				res, err := browserResolve(site, v)
				if err != nil || res.Host != site.Host || res.Scheme != site.Scheme || res.User != nil {
					t.Fatalf("return_to %q leads off-site (%v, %v)", ret, res, err)
				}
				d, err := url.PathUnescape(v)
				if err != nil || d == v {
					break
				}
				v = d
			}
			if strings.Contains(ret, "auth=") {
				t.Errorf("return_to carries an auth parameter: %q", ret)
			}
		})
	}
	if want := len(targets) - len(refused); redirected != want {
		t.Errorf("%d targets reached the login redirect, want %d", redirected, want)
	}
}

func TestUnauthenticatedAnswers(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"browser", map[string]string{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, 302},
		{"navigation", map[string]string{"Sec-Fetch-Mode": "navigate"}, 302},
		{"player", map[string]string{"Accept": "*/*"}, 401},
		{"api", map[string]string{"Accept": "application/json"}, 401},
		{"xhr", map[string]string{"Accept": "text/html", "X-Requested-With": "XMLHttpRequest"}, 401},
		{"html refused", map[string]string{"Accept": "text/html;q=0, application/json"}, 401},
		{"no accept", nil, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.do("GET", "/media/v/x.mp4?start=3", tc.hdr)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == 302 {
				want := "https://login.example.com/login?app=1&return_to=%2Fmedia%2Fv%2Fx.mp4%3Fstart%3D3"
				if got := resp.Header.Get("Location"); got != want {
					t.Errorf("Location %q, want %q", got, want)
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if b := body(t, resp); !strings.Contains(b, `"code":"unauthenticated"`) {
				t.Errorf("body %s", b)
			}
			if resp.Header.Get("WWW-Authenticate") == "" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("headers %v", resp.Header)
			}
		})
	}
	t.Run("forbidden is not sent to log in", func(t *testing.T) {
		f := newFixture(t, map[string]string{"SIGNGATE_ROUTES_0_REQUIRE": "plan=premium"})
		hdr := bearer(f.session("alice", nil))
		hdr["Accept"] = "text/html"
		if resp := f.do("GET", "/media/x.mp4", hdr); resp.StatusCode != 403 {
			t.Errorf("status %d, want 403", resp.StatusCode)
		}
	})
}

func TestWantsHTML(t *testing.T) {
	for accept, want := range map[string]bool{
		"text/html":                 true,
		"TEXT/HTML; q=0.5":          true,
		"application/xhtml+xml":     true,
		"text/html;q=0":             false,
		"text/html;q=0.0":           false,
		"application/json":          false,
		"*/*":                       false,
		"video/mp4,text/html;q=0.1": true,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		if got := wantsHTML(r); got != want {
			t.Errorf("wantsHTML(Accept: %s) = %v, want %v", accept, got, want)
		}
	}
}

// FuzzSafeReturnPath: whatever the request target, the return path stays
// on the site, however often the login app decodes it.
func FuzzSafeReturnPath(f *testing.F) {
	for _, s := range openRedirectTricks() {
		f.Add(s)
	}
	f.Add("/media/v/clip.mp4?start=10&auth=x")
	site, _ := url.Parse("https://app.example.com/login")
	f.Fuzz(func(t *testing.T, target string) {
		path, query, _ := strings.Cut(target, "?")
		got := SafeReturnPath(path, query)
		if got != "/" && !strings.HasPrefix(got, "/") {
			t.Fatalf("SafeReturnPath(%q) = %q", target, got)
		}
		for v, i := got, 0; i < 5; i++ {
			res, err := browserResolve(site, v)
			if err != nil {
				t.Fatalf("return path %q does not parse: %v", v, err)
			}
			if res.Host != site.Host || res.Scheme != site.Scheme || res.User != nil {
				t.Fatalf("SafeReturnPath(%q) = %q leads to %s", target, got, res)
			}
			d, err := url.PathUnescape(v)
			if err != nil || d == v {
				break
			}
			v = d
		}
	})
}
