package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/edge"
	"github.com/signgate/signgate/internal/httpx"
)

// Cookie names. Both are scoped to Prefix, HttpOnly and SameSite=Strict.
const (
	// SessionCookie holds the API bearer token the sign-in got.
	SessionCookie = "signgate_console"
	// preCSRFCookie holds the double-submit token of the sign-in form,
	// before there is a session to derive one from.
	preCSRFCookie = "signgate_console_csrf"
	// csrfField is the hidden form field of every POST.
	csrfField = "csrf"
	// maxForm bounds a form body, and formTimeout the time to read it.
	maxForm     = 64 << 10
	formTimeout = 10 * time.Second
	// maxCookie bounds the session cookie read; a bearer token is 43 bytes.
	maxCookie = 512
)

// session is a signed-in browser: its bearer token, never logged.
type session struct {
	token config.Secret
}

// csrf is the session's CSRF token: a hash of the bearer token under a
// label of its own, so it needs no storage and holds on every edge that
// shares the store. A page can show it, for the token cannot be had back
// from it; a cross-site form cannot know it, for the cookie is HttpOnly.
func (s *session) csrf() string {
	if s == nil {
		return ""
	}
	h := sha256.Sum256([]byte("signgate console csrf\x00" + s.token.Reveal()))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// session returns the request's live session, or nil and why there is
// none.
func (c *Console) session(r *http.Request) (*session, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return nil, errNoSession
	}
	if len(ck.Value) > maxCookie {
		return nil, fmt.Errorf("%w: cookie too long", errNoSession)
	}
	tok := config.Secret(ck.Value)
	if err := c.edge.CheckAccessToken(r.Context(), tok); err != nil {
		return nil, err
	}
	return &session{token: tok}, nil
}

var errNoSession = errors.New("not signed in")

type sessionCtx struct{}

// authed admits requests with a live session; the others are sent to the
// sign-in page. A POST must carry the session's CSRF token too.
func (c *Console) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.session(r)
		if err != nil {
			if !errors.Is(err, errNoSession) && !errors.Is(err, edge.ErrUnauthorized) {
				c.fail(w, r, err) // the store failed: not a reason to sign out
				return
			}
			clearCookie(w, r, SessionCookie)
			http.Redirect(w, r, Prefix+"sign-in", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if err := readForm(w, r); err != nil {
				c.fail(w, r, err)
				return
			}
			if !sameToken(r.PostForm.Get(csrfField), s.csrf()) {
				c.fail(w, r, fmt.Errorf("%w: the session's token is missing or wrong", errCSRF))
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionCtx{}, s)))
	})
}

// sessionFrom returns the session authed put in the request's context.
func sessionFrom(r *http.Request) *session {
	s, _ := r.Context().Value(sessionCtx{}).(*session)
	return s
}

// readForm parses a POST's urlencoded body, at most maxForm bytes, read
// within formTimeout, so that no body can hold the connection.
func readForm(w http.ResponseWriter, r *http.Request) error {
	// Where the writer cannot set a deadline (a test's recorder), the
	// server's own timeouts are all there is.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(formTimeout))
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("%w: %w", errForm, err)
	}
	return nil
}

// sameToken compares a submitted token with the expected one in constant
// time; an empty expected token matches nothing.
func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	if s, err := c.session(r); err == nil && s != nil {
		http.Redirect(w, r, Prefix+"buckets", http.StatusSeeOther)
		return
	}
	c.renderSignIn(w, r, http.StatusOK, "")
}

// renderSignIn shows the sign-in form with a fresh double-submit token.
func (c *Console) renderSignIn(w http.ResponseWriter, r *http.Request, code int, msg string) {
	tok := randomToken()
	setCookie(w, r, preCSRFCookie, tok, time.Hour)
	c.render(w, r, code, "signin", view{Title: "Sign in", CSRF: tok, Error: msg})
}

// signIn exchanges the form's API key for a bearer token, through the
// API's access_token flow, and keeps the token in the session cookie.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if err := readForm(w, r); err != nil {
		c.fail(w, r, err)
		return
	}
	pre, err := r.Cookie(preCSRFCookie)
	if err != nil || !sameToken(r.PostForm.Get(csrfField), pre.Value) {
		c.fail(w, r, fmt.Errorf("%w: the sign-in form's token is missing or wrong", errCSRF))
		return
	}
	key := config.Secret(strings.TrimSpace(r.PostForm.Get("api_key")))
	tok, _, err := c.edge.IssueAccessToken(r.Context(), key)
	if err != nil {
		code, msg := status(err)
		c.log.Info("console sign-in refused", "status", code, "err", err)
		c.renderSignIn(w, r, code, msg)
		return
	}
	clearCookie(w, r, preCSRFCookie)
	setCookie(w, r, SessionCookie, tok.Reveal(), edge.AccessTokenTTL)
	c.log.Info("console signed in")
	http.Redirect(w, r, Prefix+"buckets", http.StatusSeeOther)
}

// signOut revokes the session's bearer token and drops the cookie.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	if err := c.edge.RevokeAccessToken(r.Context(), sessionFrom(r).token); err != nil {
		c.fail(w, r, err)
		return
	}
	clearCookie(w, r, SessionCookie)
	c.log.Info("console signed out")
	http.Redirect(w, r, Prefix+"sign-in", http.StatusSeeOther)
}

// setCookie's cookie is Secure when the browser reached the portal over
// TLS (httpx.SecureCookie): here, or at a proxy in front that says so. A
// client that claims HTTPS falsely only gets a cookie it will not send
// back.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, life time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: Prefix, MaxAge: int(life.Seconds()),
		HttpOnly: true, Secure: httpx.SecureCookie(r), SameSite: http.SameSiteStrictMode,
	})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: Prefix, MaxAge: -1,
		HttpOnly: true, Secure: httpx.SecureCookie(r), SameSite: http.SameSiteStrictMode,
	})
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	return base64.RawURLEncoding.EncodeToString(b[:])
}
