package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/edge"
	"github.com/signgate/signgate/internal/httpx"
)

// Prefix is the path the portal is served under.
const Prefix = "/console/"

// createdLayout shows when a key was made, as the API's "created" does
// (Qencode's form, in UTC).
const createdLayout = "2006-01-02 15:04:05"

// Backend is what the portal needs of an edge.
type Backend interface {
	Buckets() []edge.BucketInfo
	SetPolicy(ctx context.Context, bucket string, p edge.Policy) error
	CreateKey(ctx context.Context, bucket, streamID, name string) (edge.Key, config.Secret, error)
	Keys(ctx context.Context) ([]edge.Key, error)
	Key(ctx context.Context, id string) (edge.Key, error)
	RenameKey(ctx context.Context, id, name string) (edge.Key, error)
	DeleteKey(ctx context.Context, id string) error
	IssueAccessToken(ctx context.Context, apiKey config.Secret) (config.Secret, time.Time, error)
	CheckAccessToken(ctx context.Context, tok config.Secret) error
	RevokeAccessToken(ctx context.Context, tok config.Secret) error
}

var _ Backend = (*edge.Edge)(nil)

//go:embed templates static
var files embed.FS

// Options are a Console's collaborators.
type Options struct {
	// Log receives structured logs; nil discards them.
	Log *slog.Logger
}

// Console is the portal. Build one with New and serve Handler, or Mount it
// beside the control API. Safe for concurrent use.
type Console struct {
	edge  Backend
	log   *slog.Logger
	pages map[string]*template.Template
}

// pageNames are the templates under templates/, each rendered inside
// layout.html.
var pageNames = []string{"signin", "buckets", "keys", "key", "newkey", "delete", "error"}

// New returns the portal for e.
func New(e Backend, opts Options) (*Console, error) {
	c := &Console{edge: e, log: opts.Log, pages: map[string]*template.Template{}}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	funcs := template.FuncMap{"join": strings.Join, "date": func(t time.Time) string { return t.UTC().Format(createdLayout) + " UTC" }}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	return c, nil
}

// Mount serves the portal under Prefix (and /console) and everything else
// with api. It dispatches on the path alone, so the API's own router sees
// its requests exactly as before. A path holding "access_token/" goes to
// the API wherever it points, as the API takes an API key out of such a
// path before anything logs it.
func Mount(api http.Handler, c *Console) http.Handler {
	h := c.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.URL.Path == "/console" || strings.HasPrefix(r.URL.Path, Prefix)) && !strings.Contains(r.URL.Path, "access_token/") {
			h.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// Handler serves the portal's pages, under Prefix. Middleware, outermost
// first: the access log (method, path, status; never a cookie or a form),
// the security headers, net/http's CrossOriginProtection (a cross-site
// POST is refused before any handler runs), then the routes, where every
// POST also checks its CSRF token.
func (c *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /console", redirectTo(Prefix))
	mux.HandleFunc("GET /console/{$}", c.home)
	mux.HandleFunc("GET /console/sign-in", c.signInPage)
	mux.HandleFunc("POST /console/sign-in", c.signIn)
	mux.Handle("POST /console/sign-out", c.authed(c.signOut))
	mux.Handle("GET /console/buckets", c.authed(c.bucketsPage))
	mux.Handle("POST /console/buckets/{bucket}/policy", c.authed(c.setPolicy))
	mux.Handle("GET /console/keys", c.authed(c.keysPage))
	mux.Handle("POST /console/keys", c.authed(c.createKey))
	mux.Handle("GET /console/keys/{id}", c.authed(c.keyPage))
	mux.Handle("POST /console/keys/{id}/name", c.authed(c.renameKey))
	mux.Handle("GET /console/keys/{id}/delete", c.authed(c.deletePage))
	mux.Handle("POST /console/keys/{id}/delete", c.authed(c.deleteKey))
	static, _ := fs.Sub(files, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, fmt.Errorf("%w: %s %s", errNoPage, r.Method, r.URL.Path))
	})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, fmt.Errorf("%w: cross-origin request", errCSRF))
	}))
	return httpx.AccessLog(c.log)(securityHeaders(cop.Handler(mux)))
}

// securityHeaders sets what every answer of the portal carries: nothing is
// cached (a page may hold a private key), framed, sniffed or referred, and
// only the portal's own stylesheet and script run.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func redirectTo(path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, path, http.StatusSeeOther) }
}

// Errors of the portal's handlers; status maps them, and the edge's, to
// statuses.
var (
	errCSRF   = errors.New("the form is stale or came from another site")
	errNoPage = errors.New("no such page")
	errForm   = errors.New("invalid form")
)

// status is the one place errors become statuses and public messages.
func status(err error) (int, string) {
	switch {
	case errors.Is(err, errCSRF):
		return http.StatusForbidden, "This form is stale or came from another site. Reload the page and try again."
	case errors.Is(err, edge.ErrUnauthorized):
		return http.StatusUnauthorized, "That API key is not valid."
	case errors.Is(err, errForm):
		return http.StatusBadRequest, "The form could not be read."
	case errors.Is(err, edge.ErrBadRequest):
		return http.StatusBadRequest, publicText(err)
	case errors.Is(err, edge.ErrUnknownBucket):
		return http.StatusNotFound, "No such bucket."
	case errors.Is(err, edge.ErrNotFound):
		return http.StatusNotFound, "No such signing key: it may have been deleted."
	case errors.Is(err, errNoPage):
		return http.StatusNotFound, "No such page."
	}
	return http.StatusInternalServerError, "Something went wrong on the edge; the log says what."
}

// publicText is the edge's own words for a bad request ("invalid request:
// name longer than 128 bytes"), without the sentinel's prefix.
func publicText(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, edge.ErrBadRequest.Error()+": "); i >= 0 {
		s = s[i+len(edge.ErrBadRequest.Error())+2:]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	if s == "" {
		return "The request is not valid."
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// fail answers with err's status on the error page and logs the cause.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := status(err)
	level := slog.LevelInfo
	if code >= 500 {
		level = slog.LevelError
	}
	c.log.Log(r.Context(), level, "console request failed", "status", code, "method", r.Method, "path", r.URL.Path, "err", err)
	s, _ := c.session(r)
	c.render(w, r, code, "error", view{Title: http.StatusText(code), Session: s, Error: msg})
}
