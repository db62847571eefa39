package demo

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SessionCookie is the demo app's session cookie.
const SessionCookie = "demo_session"

// UserHeader is the response header in which the app's forward-auth check
// names the user.
const UserHeader = "X-Auth-User"

// Demo credentials, shown on the login form.
const (
	DemoUser     = "demo"
	DemoPassword = "demo"
)

//go:embed page.html
var pageHTML string

// App is the demo web app that signgate stands in front of: a login form,
// a session cookie, a forward-auth check and a page with a video player.
// Safe for concurrent use.
type App struct {
	secret []byte // HMAC key for session cookies, fresh per process
	now    func() time.Time
	log    *slog.Logger
	page   *template.Template
	media  MediaLinks
}

// MediaLinks are the URLs, through the gateway, that the page plays,
// and how the page keeps them playing.
type MediaLinks struct {
	Progressive, HLS, HLSCookie, DASH, DASHCookie string
	// TTL is the gateway's token lifetime, as the page tells it.
	TTL time.Duration
	// Renew is how often the page renews a streaming cookie (default
	// one minute).
	Renew time.Duration
}

// NewApp returns the demo app. now is the clock (time.Now when nil).
func NewApp(log *slog.Logger, now func() time.Time, media MediaLinks) *App {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	if now == nil {
		now = time.Now
	}
	return &App{
		secret: secret,
		now:    now,
		log:    log,
		page:   template.Must(template.New("page").Parse(pageHTML)),
		media:  media,
	}
}

// Handler serves the app.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.loginForm)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("GET /auth/check", a.check)
	servePlayers(mux)
	return mux
}

type pageData struct {
	User    string
	Return  string
	Error   string
	Media   MediaLinks
	Players []player
	Config  pageConfig
	TTL     string
	Short   bool // tokens live under five minutes
}

func (a *App) render(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := a.page.Execute(w, d); err != nil {
		a.log.Error("render page", "err", err)
	}
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	user, ok := a.session(r)
	if !ok {
		http.Redirect(w, r, "/login?return=%2F", http.StatusSeeOther)
		return
	}
	renew := a.media.Renew
	if renew <= 0 {
		renew = time.Minute
	}
	a.render(w, http.StatusOK, pageData{
		User: user, Media: a.media, Players: players(a.media),
		Config: pageConfig{RenewEvery: renew.Milliseconds()},
		TTL:    shortDuration(a.media.TTL), Short: a.media.TTL > 0 && a.media.TTL < 5*time.Minute,
	})
}

func (a *App) loginForm(w http.ResponseWriter, r *http.Request) {
	a.render(w, http.StatusOK, pageData{Return: returnPath(r.URL.Query())})
}

func (a *App) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	ret := returnPath(r.PostForm)
	userOK := subtle.ConstantTimeCompare([]byte(r.PostForm.Get("user")), []byte(DemoUser)) == 1
	passOK := subtle.ConstantTimeCompare([]byte(r.PostForm.Get("password")), []byte(DemoPassword)) == 1
	if !userOK || !passOK {
		a.render(w, http.StatusUnauthorized, pageData{Return: ret, Error: "Wrong user or password."})
		return
	}
	exp := a.now().Add(8 * time.Hour)
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: a.sign(DemoUser, exp), Path: "/",
		Expires: exp, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, ret, http.StatusSeeOther)
}

func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// check is the forward-auth endpoint: 200 naming the user, or 401.
func (a *App) check(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	user, ok := a.session(r)
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set(UserHeader, user)
	w.WriteHeader(http.StatusOK)
}

// shortDuration writes d as time.Duration does, without zero units at
// the end: 10m, 1h, 20s, 1m30s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// returnPath is the return parameter when it is a same-site path, else "/".
func returnPath(q url.Values) string {
	for _, k := range []string{"return_to", "return", "rd", "next"} {
		if p := q.Get(k); p != "" {
			if sameSitePath(p) {
				return p
			}
			break
		}
	}
	return "/"
}

// sameSitePath accepts "/x..." and refuses "//host", "/\host" and anything
// with control characters or backslashes.
func sameSitePath(p string) bool {
	if len(p) == 0 || p[0] != '/' || len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\' {
			return false
		}
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}

// sign makes a session value: base64(user)|exp|base64(HMAC).
func (a *App) sign(user string, exp time.Time) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(user)) + "|" + strconv.FormatInt(exp.Unix(), 10)
	m := hmac.New(sha256.New, a.secret)
	m.Write([]byte(payload))
	return payload + "|" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// session returns the signed-in user, if the cookie is valid and fresh.
func (a *App) session(r *http.Request) (string, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || len(c.Value) > 512 {
		return "", false
	}
	parts := strings.Split(c.Value, "|")
	if len(parts) != 3 {
		return "", false
	}
	m := hmac.New(sha256.New, a.secret)
	m.Write([]byte(parts[0] + "|" + parts[1]))
	mac, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(mac, m.Sum(nil)) {
		return "", false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || a.now().Unix() >= exp {
		return "", false
	}
	user, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", false
	}
	return string(user), true
}
