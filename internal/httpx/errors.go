package httpx

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
)

// Error is an HTTP failure: a status, a stable machine-readable code and a
// short public message for the client, and the cause for the log. The
// cause is never shown to the client.
type Error struct {
	Status int
	Code   string
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error.
func Errorf(status int, code, msg string, cause error) *Error {
	return &Error{Status: status, Code: code, Msg: msg, Err: cause}
}

// WriteError answers with err as JSON, {"error": {"code", "message"}}, with
// Cache-Control: no-store, and logs the cause. An error that is not an
// *Error is a 500 whose cause is logged and not shown.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	he := Report(r, log, err)
	WriteJSON(w, he.Status, map[string]any{"error": map[string]string{"code": he.Code, "message": he.Msg}})
}

// Report logs the failure of r with err's cause and returns err as an
// *Error (a 500 when it is not one), for a handler that writes its own
// error body. The cause is logged under "err", the one attribute key for
// errors across signgate; 5xx are logged at ERROR, the rest (a client's
// 4xx, a 499 cancel) at INFO.
func Report(r *http.Request, log *slog.Logger, err error) *Error {
	var he *Error
	if !errors.As(err, &he) {
		he = &Error{Status: http.StatusInternalServerError, Code: "internal", Msg: "internal error", Err: err}
	}
	level := slog.LevelInfo
	if he.Status >= 500 {
		level = slog.LevelError
	}
	if log != nil {
		attrs := []slog.Attr{
			slog.Int("status", he.Status),
			slog.String("code", he.Code),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
		}
		if he.Err != nil {
			attrs = append(attrs, slog.String("err", he.Err.Error()))
		}
		log.LogAttrs(r.Context(), level, "request failed", attrs...)
	}
	return he
}

// WriteJSON writes v as a JSON response that no cache keeps.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"internal error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
