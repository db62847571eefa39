package edge

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/httpx"
)

// AccessTokenTTL is how long an API bearer token lives, as on Qencode.
const AccessTokenTTL = 24 * time.Hour

// maxBearer bounds the Authorization header's token.
const maxBearer = 512

type apiKeyCtx struct{}

// hideAPIKey takes the API key out of the path of an access-token request
// before anything can log it: the key moves into the request's context and
// the path reads .../access_token/REDACTED for the access log, the error
// log and the router alike. Any path holding "access_token/" is treated so,
// canonical or not (the router would redirect "//v1/access_token/KEY", and
// the redirect and its log line would show the key).
func hideAPIKey(next http.Handler) http.Handler {
	const marker = "access_token/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := strings.Index(r.URL.Path, marker)
		if i < 0 {
			next.ServeHTTP(w, r)
			return
		}
		key := r.URL.Path[i+len(marker):]
		r2 := r.WithContext(context.WithValue(r.Context(), apiKeyCtx{}, key))
		u := *r.URL
		u.Path, u.RawPath = r.URL.Path[:i+len(marker)]+"REDACTED", ""
		r2.URL = &u
		r2.RequestURI = u.RequestURI()
		next.ServeHTTP(w, r2)
	})
}

// apiKeyHash returns the SHA-256 of the configured API key equal to key,
// comparing against every configured key in constant time.
func (e *Edge) apiKeyHash(key string) ([32]byte, bool) {
	h := sha256.Sum256([]byte(key))
	return h, e.knownAPIKeyHash(h)
}

// knownAPIKeyHash reports whether h is the hash of a configured API key.
// It looks at every key, whatever matches, in constant time.
func (e *Edge) knownAPIKeyHash(h [32]byte) bool {
	found := 0
	for _, k := range e.apiKeys {
		found |= subtle.ConstantTimeCompare(h[:], k[:])
	}
	return found == 1
}

// accessToken is POST /v1/access_token/{api_key}: a bearer token valid for
// AccessTokenTTL for a configured API key (IssueAccessToken).
func (e *Edge) accessToken(w http.ResponseWriter, r *http.Request) {
	key, _ := r.Context().Value(apiKeyCtx{}).(string)
	tok, exp, err := e.IssueAccessToken(r.Context(), config.Secret(key))
	if err != nil {
		writeError(w, r, e.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, tokenResponse{
		okResponse: success(), Token: tok.Reveal(), AccessToken: tok.Reveal(), Expire: exp.UTC().Format(time.RFC3339),
	})
}

// authed admits requests with a live bearer token issued for an API key
// that is still configured; others get 401.
func (e *Edge) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := e.authenticate(r); err != nil {
			writeError(w, r, e.log, err)
			return
		}
		h(w, r)
	})
}

func (e *Edge) authenticate(r *http.Request) error {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return fmt.Errorf("%w: no bearer token", ErrUnauthorized)
	}
	return e.CheckAccessToken(r.Context(), config.Secret(tok))
}
