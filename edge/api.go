package edge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/httpx"
	"github.com/signgate/signgate/signer"
)

// MaxBody bounds a control API request body.
const MaxBody = 64 << 10

// maxName bounds a key name.
const maxName = 128

// APIHandler returns the Qencode-compatible control API, under /v1:
//
//	POST   /v1/access_token/{api_key}              bearer token for an API key
//	PUT    /v1/buckets/{bucket}/policy/{policy}    public or authenticated
//	GET    /v1/buckets/{bucket}/policy             the policy in force
//	GET    /v1/buckets/{bucket}/jwks.json          the bucket's public keys (no bearer)
//	POST   /v1/signing-keys                        {"bucket"} or {"stream_id"}, optional "name"
//	GET    /v1/signing-keys[?bucket=B]             list, without private keys
//	GET    /v1/signing-keys/{id}                   one key
//	PUT    /v1/signing-keys/{id}                   {"name"}: rename (null: no name)
//	DELETE /v1/signing-keys/{id}                   delete: its tokens fail at once
//	GET    /healthz                                liveness
//	GET    /readyz                                 readiness (see Ready)
//
// A key is shown as KeyInfo: a UUID id, a name that is null until set,
// and created in Qencode's form (CreatedLayout, UTC).
// Every other endpoint needs "Authorization: Bearer TOKEN". Successes are
// JSON with "error": 0; errors are JSON {"error": STATUS, "code",
// "message"} (errorResponse) with Cache-Control: no-store.
// Middleware, outermost first: hideAPIKey (so that no log or span shows an API
// key), the access log, the body bounds (bodies.go), the metrics
// (measureAPI, by route pattern), then the routes.
func (e *Edge) APIHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/access_token/{api_key}", e.accessToken)
	mux.Handle("PUT /v1/buckets/{bucket}/policy/{policy}", e.authed(e.putPolicy))
	mux.Handle("GET /v1/buckets/{bucket}/policy", e.authed(e.getPolicy))
	mux.HandleFunc("GET /v1/buckets/{bucket}/jwks.json", e.jwks)
	mux.Handle("POST /v1/signing-keys", e.authed(e.createKey))
	mux.Handle("GET /v1/signing-keys", e.authed(e.listKeys))
	mux.Handle("GET /v1/signing-keys/{id}", e.authed(e.getKey))
	mux.Handle("PUT /v1/signing-keys/{id}", e.authed(e.renameKey))
	mux.Handle("DELETE /v1/signing-keys/{id}", e.authed(e.deleteKey))
	mux.HandleFunc("GET /healthz", e.serveHealth)
	mux.HandleFunc("GET /readyz", e.serveHealth)
	// The same paths without a method: a JSON 405 rather than the
	// router's plain-text one.
	for p, allow := range map[string]string{
		"/v1/access_token/{api_key}":           "POST",
		"/v1/buckets/{bucket}/policy/{policy}": "PUT",
		"/v1/buckets/{bucket}/policy":          "GET, HEAD",
		"/v1/buckets/{bucket}/jwks.json":       "GET, HEAD",
		"/v1/signing-keys":                     "GET, HEAD, POST",
		"/v1/signing-keys/{id}":                "GET, HEAD, PUT, DELETE",
		"/healthz":                             "GET, HEAD",
		"/readyz":                              "GET, HEAD",
	} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, r, e.log, fmt.Errorf("%w: %s %s", ErrMethod, truncate(r.Method), p))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, e.log, ErrUnknownRoute)
	})
	return hideAPIKey(e.tracer.Handler(e.stack(httpx.LimitBodies(MaxBody, e.apiBodyTimeout())(e.measureAPI(mux))), "api", apiSpanName))
}

// stack wraps h in the edge's common middleware: the access log.
func (e *Edge) stack(h http.Handler) http.Handler {
	return httpx.AccessLog(e.log)(h)
}

// decode reads r's body, at most MaxBody bytes, as exactly one JSON
// object into v; unknown fields are refused.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err == nil {
		if _, e := dec.Token(); e != io.EOF {
			err = errors.New("data after the JSON object")
		}
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return fmt.Errorf("%w: over %d bytes", ErrBodyTooLarge, MaxBody)
	case err != nil:
		return fmt.Errorf("%w: %w", ErrBadJSON, err)
	}
	return nil
}

// configured returns the bucket named by the path's {bucket}.
func (e *Edge) configured(r *http.Request) (*bucket, error) {
	name := r.PathValue("bucket")
	b, ok := e.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownBucket, truncate(name))
	}
	return b, nil
}

func (e *Edge) putPolicy(w http.ResponseWriter, r *http.Request) {
	b, err := e.configured(r)
	if err != nil {
		writeError(w, r, e.log, err)
		return
	}
	p, err := ParsePolicy(r.PathValue("policy"))
	if err != nil {
		writeError(w, r, e.log, err)
		return
	}
	c, err := e.SetPolicyConfirmed(r.Context(), b.name, p)
	if err != nil {
		writeError(w, r, e.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, confirmed(c))
}

func (e *Edge) getPolicy(w http.ResponseWriter, r *http.Request) {
	b, err := e.configured(r)
	if err != nil {
		writeError(w, r, e.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, policyResponse{okResponse: success(), Bucket: b.name, Policy: e.snap.Load().policy(b.name)})
}

// jwks is the bucket's public keys as a JWK Set, from the snapshot in
// force: the endpoint is public, so it reads neither the store nor a PEM.
func (e *Edge) jwks(w http.ResponseWriter, r *http.Request) {
	b, err := e.configured(r)
	if err != nil {
		writeError(w, r, e.log, err)
		return
	}
	var pubs []signer.PublicKey
	for _, k := range e.snap.Load().keys {
		if k.Bucket == b.name {
			pubs = append(pubs, k)
		}
	}
	slices.SortFunc(pubs, func(a, b signer.PublicKey) int { return strings.Compare(a.ID, b.ID) })
	httpx.WriteJSON(w, http.StatusOK, signer.NewJWKSet(pubs...))
}

func (e *Edge) createKey(w http.ResponseWriter, r *http.Request) {
	var req CreateKeyRequest
	if err := decode(w, r, &req); err != nil {
		writeError(w, r, e.log, err)
		return
	}
	k, priv, err := e.CreateKeyAlg(r.Context(), req.Bucket, req.StreamID, string(req.Name), req.Algorithm)
	if err != nil {
		writeError(w, r, e.log, err)
		return
	}
	var resp newKeyResponse
	resp.okResponse = success()
	resp.SigningKey.KeyInfo = keyInfo(k)
	resp.SigningKey.PrivateKey = priv.Reveal()
	httpx.WriteJSON(w, http.StatusOK, resp)
}

func (e *Edge) checkCreate(req CreateKeyRequest) error {
	switch {
	case (req.Bucket == "") == (req.StreamID == ""):
		return fmt.Errorf("%w: give exactly one of bucket and stream_id", ErrBadRequest)
	case req.StreamID != "" && config.CheckStreamID(req.StreamID) != nil:
		return fmt.Errorf("%w: stream_id must be 1 to 128 letters, digits, dots, hyphens and underscores, and not . or ..", ErrBadRequest)
	case req.Bucket != "" && e.byName[req.Bucket] == nil:
		return fmt.Errorf("%w: %q", ErrUnknownBucket, truncate(req.Bucket))
	}
	return checkName(string(req.Name))
}

func checkName(name string) error {
	if len(name) > maxName {
		return fmt.Errorf("%w: name longer than %d bytes", ErrBadRequest, maxName)
	}
	if strings.IndexFunc(name, func(c rune) bool { return !unicode.IsPrint(c) }) >= 0 {
		return fmt.Errorf("%w: name holds a control character", ErrBadRequest)
	}
	return nil
}

func (e *Edge) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := e.Keys(r.Context())
	if err != nil {
		writeError(w, r, e.log, err)
		return
	}
	only := r.URL.Query().Get("bucket")
	list := make([]KeyInfo, 0, len(keys))
	for _, k := range keys {
		if only == "" || k.Bucket == only {
			list = append(list, keyInfo(k))
		}
	}
	httpx.WriteJSON(w, http.StatusOK, keysResponse{okResponse: success(), SigningKeys: list})
}

func (e *Edge) getKey(w http.ResponseWriter, r *http.Request) {
	k, err := e.Key(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, e.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, keyResponse{okResponse: success(), SigningKey: keyInfo(k)})
}

func (e *Edge) renameKey(w http.ResponseWriter, r *http.Request) {
	var req RenameKeyRequest
	if err := decode(w, r, &req); err != nil {
		writeError(w, r, e.log, err)
		return
	}
	k, err := e.RenameKey(r.Context(), r.PathValue("id"), string(req.Name))
	if err != nil {
		writeError(w, r, e.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, keyResponse{okResponse: success(), SigningKey: keyInfo(k)})
}

func (e *Edge) deleteKey(w http.ResponseWriter, r *http.Request) {
	c, err := e.DeleteKeyConfirmed(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, e.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, confirmed(c))
}
