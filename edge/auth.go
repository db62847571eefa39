package edge

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
// AccessTokenTTL for a configured API key.
func (e *Edge) accessToken(w http.ResponseWriter, r *http.Request) {
	key, _ := r.Context().Value(apiKeyCtx{}).(string)
	kh, ok := e.apiKeyHash(key)
	if !ok {
		writeError(w, r, e.log, fmt.Errorf("%w: unknown API key", ErrUnauthorized))
		return
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails (Go 1.24+).
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	now := e.now()
	exp := now.Add(AccessTokenTTL).Truncate(time.Second)
	if err := e.store.AddAccessToken(r.Context(), AccessToken{Hash: sha256.Sum256([]byte(tok)), APIKeyHash: kh, Expires: exp}); err != nil {
		writeError(w, r, e.log, err)
		return
	}
	if n, err := e.store.DeleteExpiredAccessTokens(r.Context(), now); err != nil {
		e.log.Warn("delete expired access tokens", "err", err)
	} else if n > 0 {
		e.log.Info("deleted expired access tokens", "count", n)
	}
	e.log.Info("access token issued", "expires", exp.UTC().Format(time.RFC3339))
	httpx.WriteJSON(w, http.StatusOK, tokenResponse{
		okResponse: success(), Token: tok, AccessToken: tok, Expire: exp.UTC().Format(time.RFC3339),
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
	switch {
	case !strings.EqualFold(scheme, "Bearer") || tok == "":
		return fmt.Errorf("%w: no bearer token", ErrUnauthorized)
	case len(tok) > maxBearer:
		return fmt.Errorf("%w: bearer token too long", ErrUnauthorized)
	}
	// The lookup is by SHA-256, so timing tells nothing about the token.
	t, err := e.store.AccessToken(r.Context(), sha256.Sum256([]byte(tok)))
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: unknown bearer token", ErrUnauthorized)
	case err != nil:
		return err
	case !e.now().Before(t.Expires):
		return fmt.Errorf("%w: bearer token expired", ErrUnauthorized)
	case !e.knownAPIKeyHash(t.APIKeyHash):
		return fmt.Errorf("%w: the API key of this bearer token was removed", ErrUnauthorized)
	}
	return nil
}
