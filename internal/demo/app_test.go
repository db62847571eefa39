package demo

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAppLoginCheckLogout(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	app := NewApp(slog.New(slog.DiscardHandler), func() time.Time { return now }, MediaLinks{Progressive: "/media/progressive.webm"})
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	status := func(method, path string, form url.Values) (int, string, http.Header) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, srv.URL+path, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}

	if code, _, h := status("GET", "/", nil); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
		t.Fatalf("logged out home: %d %v", code, h)
	}
	if code, _, _ := status("GET", "/auth/check", nil); code != http.StatusUnauthorized {
		t.Fatalf("check without session: %d", code)
	}
	if code, body, _ := status("POST", "/login", url.Values{"user": {"demo"}, "password": {"wrong"}}); code != http.StatusUnauthorized || !strings.Contains(body, "Wrong user") {
		t.Fatalf("bad login: %d", code)
	}
	code, _, h := status("POST", "/login", url.Values{"user": {"demo"}, "password": {"demo"}, "return": {"//evil.example/x"}})
	if code != http.StatusSeeOther || h.Get("Location") != "/" {
		t.Fatalf("login with off-site return: %d, Location %q", code, h.Get("Location"))
	}
	code, _, h = status("GET", "/auth/check", nil)
	if code != http.StatusOK || h.Get(UserHeader) != "demo" {
		t.Fatalf("check with session: %d %q", code, h.Get(UserHeader))
	}
	if code, body, _ := status("GET", "/", nil); code != http.StatusOK || !strings.Contains(body, `src="/media/progressive.webm"`) {
		t.Fatalf("home: %d", code)
	}
	now = now.Add(9 * time.Hour) // the session has expired
	if code, _, _ := status("GET", "/auth/check", nil); code != http.StatusUnauthorized {
		t.Fatalf("check with expired session: %d", code)
	}
	now = now.Add(-9 * time.Hour)
	status("POST", "/logout", nil)
	if code, _, _ := status("GET", "/auth/check", nil); code != http.StatusUnauthorized {
		t.Fatalf("check after logout: %d", code)
	}
}

func TestReturnPath(t *testing.T) {
	for in, want := range map[string]string{
		"/":                 "/",
		"/videos?id=1":      "/videos?id=1",
		"//evil.example":    "/",
		"/\\evil.example":   "/",
		"https://evil.ex/":  "/",
		"/\t/evil.example":  "/",
		"javascript:alert":  "/",
		"/%2F%2Fevil":       "/%2F%2Fevil",
		"":                  "/",
		"/a\\b":             "/",
		"\\\\evil.example/": "/",
	} {
		if got := returnPath(url.Values{"return": {in}}); got != want {
			t.Errorf("returnPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestForgedSession(t *testing.T) {
	app := NewApp(slog.New(slog.DiscardHandler), nil, MediaLinks{})
	other := NewApp(slog.New(slog.DiscardHandler), nil, MediaLinks{})
	for _, v := range []string{other.sign("demo", time.Now().Add(time.Hour)), "x|y|z", "", strings.Repeat("a", 600)} {
		r := httptest.NewRequest("GET", "/auth/check", nil)
		r.AddCookie(&http.Cookie{Name: SessionCookie, Value: v})
		if _, ok := app.session(r); ok {
			t.Errorf("session %q accepted", v)
		}
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Minute: "10m", time.Hour: "1h", 20 * time.Second: "20s",
		90 * time.Second: "1m30s", time.Hour + time.Second: "1h0m1s",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
