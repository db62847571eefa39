package edge

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/signgate/signgate/internal/httpx"
	"github.com/signgate/signgate/signer"
)

// Errors of the edge's handlers, wrapped with %w. httpError maps them, and
// the store's and signer's, to statuses.
var (
	ErrBadRequest    = errors.New("invalid request")
	ErrBadJSON       = errors.New("malformed JSON")
	ErrBodyTooLarge  = errors.New("request body too large")
	ErrUnauthorized  = errors.New("missing or invalid bearer token")
	ErrUnknownBucket = errors.New("no such bucket")
	ErrUnknownRoute  = errors.New("no such endpoint")
	ErrMethod        = errors.New("method not allowed")
	ErrFileNotFound  = errors.New("file not found")
	ErrOrigin        = errors.New("origin unavailable")
)

// ReasonHeader carries the machine-readable reason of a 401 or 403 on the
// media listener, such as "token_expired".
const ReasonHeader = "X-Signgate-Reason"

// httpError is the one place errors become statuses: a short public
// message and a stable code for the client, the cause for the log. The
// failures the gateway shares go through httpx.Classify first. The body
// shape is the edge's own, chosen here and in writeError: Qencode's API
// error JSON (errorResponse: "error" the status, "code", "message"), on
// the API and the media listener alike.
func httpError(err error) *httpx.Error {
	var he *httpx.Error
	if errors.As(err, &he) {
		return he
	}
	// The store down (before the classifier, which would call a refused
	// database connection the origin's 502): 503, with Retry-After.
	if errors.Is(err, ErrStore) && !errors.Is(err, context.Canceled) {
		return httpx.Errorf(http.StatusServiceUnavailable, "store_unavailable", "the key store is unavailable; retry shortly", err)
	}
	if errors.Is(err, ErrStale) {
		return httpx.Errorf(http.StatusServiceUnavailable, "store_stale", "the edge cannot check tokens until its key store is back", err)
	}
	// The failures both servers classify alike: a client that left, a
	// timeout, a refused or reset origin, an oversized body, a
	// non-canonical path.
	if he := httpx.Classify(err); he != nil {
		if he.Status == http.StatusBadGateway && errors.Is(err, ErrOrigin) {
			he.Code, he.Msg = "origin_unavailable", "the origin did not answer" // the edge's documented code
		}
		return he
	}
	e := func(status int, code, msg string) *httpx.Error { return httpx.Errorf(status, code, msg, err) }
	switch {
	case errors.Is(err, signer.ErrPath):
		return e(http.StatusBadRequest, signer.Reason(err), "the path is not canonical")
	case errors.Is(err, signer.ErrMissing):
		return e(http.StatusUnauthorized, signer.Reason(err), "a signed token is required")
	case errors.Is(err, ErrBadJSON):
		return e(http.StatusBadRequest, "invalid_json", "the body is not the JSON object expected")
	case errors.Is(err, ErrBadRequest):
		return e(http.StatusBadRequest, "invalid_request", publicText(err))
	case errors.Is(err, ErrBodyTooLarge):
		return e(http.StatusRequestEntityTooLarge, "request_too_large", "the request body is too large")
	case errors.Is(err, ErrUnauthorized):
		return e(http.StatusUnauthorized, "unauthorized", "a valid bearer token is required")
	case errors.Is(err, ErrUnknownBucket):
		return e(http.StatusNotFound, "bucket_not_found", "no such bucket")
	case errors.Is(err, ErrNotFound):
		return e(http.StatusNotFound, "not_found", "no such signing key")
	case errors.Is(err, ErrUnknownRoute), errors.Is(err, ErrFileNotFound):
		return e(http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, ErrMethod):
		return e(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed")
	case errors.Is(err, ErrOrigin):
		return e(http.StatusBadGateway, "origin_unavailable", "the origin did not answer")
	}
	// A 403 shows the sentinel's text, never the detail, which may quote
	// a kid.
	for _, k := range []error{
		signer.ErrTooLarge, signer.ErrMalformed, signer.ErrAlgorithm, signer.ErrUnknownKey,
		signer.ErrSignature, signer.ErrWrongBucket, signer.ErrMilliseconds,
		signer.ErrExpired, signer.ErrNotYetValid, signer.ErrScope,
	} {
		if errors.Is(err, k) {
			return e(http.StatusForbidden, signer.Reason(err), k.Error())
		}
	}
	return e(http.StatusInternalServerError, "internal", "internal error")
}

// publicText is err's message when the edge wrote it from its own words
// (ErrBadRequest errors quote only truncated input).
func publicText(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// writeError answers with err's status and JSON body (errorResponse), with
// the reason in ReasonHeader for token failures and a WWW-Authenticate
// challenge on the API's 401s, and logs the cause.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	he := httpError(err)
	h := w.Header()
	switch {
	case he.Status == http.StatusUnauthorized && he.Code == "unauthorized":
		h.Set("WWW-Authenticate", `Bearer realm="signgate"`)
	case he.Code == "store_unavailable", he.Code == "store_stale":
		h.Set("Retry-After", "1")
	case he.Status == http.StatusUnauthorized, he.Status == http.StatusForbidden,
		he.Status == http.StatusBadRequest && errors.Is(err, signer.ErrPath):
		h.Set(ReasonHeader, he.Code)
	}
	// Headers a served file may have set before failing.
	for _, k := range []string{"Content-Length", "Content-Range", "Etag", "Last-Modified", "Accept-Ranges", "Content-Encoding"} {
		h.Del(k)
	}
	he = httpx.Report(r, log, he)
	httpx.WriteJSON(w, he.Status, errorResponse{Error: he.Status, Code: he.Code, Message: he.Msg})
}

// truncate bounds client-chosen text quoted in an error.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
