package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/signgate/signgate/config"
)

// DefaultAPIURL is Qencode's content-delivery control API.
const DefaultAPIURL = "https://api-cdn.qencode.com"

// maxResponse bounds a control API response body.
const maxResponse = 4 << 20

// Client calls a Qencode-compatible control API: Qencode's own or a
// signgate edge's. Set Token (from SIGNGATE_API_TOKEN, or from
// AccessToken) before calling anything but AccessToken. Errors never hold
// the token, an API key or a private key. Safe for concurrent use once
// set up.
type Client struct {
	// BaseURL is the API's root, such as DefaultAPIURL; "/v1/..." is
	// appended.
	BaseURL string
	// Token is the bearer token.
	Token config.Secret
	// HTTP does the requests; nil is a client with a 30-second timeout.
	HTTP *http.Client
}

// APIError is a failure the API answered: a status other than 2xx, or a
// 2xx whose body holds an error (Qencode's "error": N, N not 0).
type APIError struct {
	Status  int    // HTTP status
	Code    string // machine-readable code, when the API gave one
	Message string // the API's message, shortened
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("API answered %d %s", e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// AccessToken exchanges an API key for a bearer token (POST
// /v1/access_token/{api_key}) and returns it with its expiry, which is
// zero when the API does not say.
func (c *Client) AccessToken(ctx context.Context, apiKey config.Secret) (config.Secret, time.Time, error) {
	var resp struct {
		Token       config.Secret `json:"token"`
		AccessToken config.Secret `json:"access_token"`
		Expire      string        `json:"expire"`
	}
	p := "/v1/access_token/" + url.PathEscape(apiKey.Reveal())
	if err := c.do(ctx, http.MethodPost, p, "/v1/access_token/REDACTED", nil, &resp, false); err != nil {
		return "", time.Time{}, err
	}
	tok := resp.AccessToken
	if tok == "" {
		tok = resp.Token
	}
	if tok == "" {
		return "", time.Time{}, errors.New("access_token: the API returned no token")
	}
	exp, _ := time.Parse(time.RFC3339, resp.Expire)
	return tok, exp, nil
}

// SetPolicy sets a bucket's policy: PUT /v1/buckets/{bucket}/policy/{p}.
func (c *Client) SetPolicy(ctx context.Context, bucket string, p Policy) error {
	_, _, err := c.SetPolicyConfirmed(ctx, bucket, p)
	return err
}

// SetPolicyConfirmed is SetPolicy, with the answer's confirmation by the
// edges; known is false when the API does not tell (Qencode's, or an
// older signgate edge).
func (c *Client) SetPolicyConfirmed(ctx context.Context, bucket string, p Policy) (conf Confirmation, known bool, err error) {
	path := "/v1/buckets/" + url.PathEscape(bucket) + "/policy/" + url.PathEscape(string(p))
	return c.confirmed(ctx, http.MethodPut, path)
}

// confirmed sends a change and reads the confirmation of its answer.
func (c *Client) confirmed(ctx context.Context, method, path string) (Confirmation, bool, error) {
	var resp struct {
		Confirmed *bool    `json:"confirmed"`
		Edges     int      `json:"edges"`
		Pending   []string `json:"pending"`
	}
	if err := c.do(ctx, method, path, path, nil, &resp, true); err != nil {
		return Confirmation{}, false, err
	}
	if resp.Confirmed == nil {
		return Confirmation{Pending: []string{}}, false, nil
	}
	return Confirmation{Confirmed: *resp.Confirmed, Edges: resp.Edges, Pending: nonNil(resp.Pending)}, true, nil
}

// Policy returns a bucket's policy in force (a signgate extension):
// GET /v1/buckets/{bucket}/policy.
func (c *Client) Policy(ctx context.Context, bucket string) (Policy, error) {
	var resp policyResponse
	path := "/v1/buckets/" + url.PathEscape(bucket) + "/policy"
	if err := c.do(ctx, http.MethodGet, path, path, nil, &resp, true); err != nil {
		return "", err
	}
	return resp.Policy, nil
}

// CreateKey creates a signing key for a bucket or a live stream. The
// private key in the answer is shown this once.
func (c *Client) CreateKey(ctx context.Context, req CreateKeyRequest) (NewKey, error) {
	var resp struct {
		SigningKey NewKey `json:"signing_key"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/signing-keys", "/v1/signing-keys", req, &resp, true); err != nil {
		return NewKey{}, err
	}
	if resp.SigningKey.ID == "" || resp.SigningKey.PrivateKey == "" {
		return NewKey{}, errors.New("create signing key: the API answer holds no key id or no private key")
	}
	return resp.SigningKey, nil
}

// Keys lists the signing keys. The answers of Qencode's API, of this
// signgate and of older signgate edges read alike: see KeyInfo and
// ParseCreated.
func (c *Client) Keys(ctx context.Context) ([]KeyInfo, error) {
	var resp keysResponse
	if err := c.do(ctx, http.MethodGet, "/v1/signing-keys", "/v1/signing-keys", nil, &resp, true); err != nil {
		return nil, err
	}
	return resp.SigningKeys, nil
}

// Key returns one signing key.
func (c *Client) Key(ctx context.Context, id string) (KeyInfo, error) {
	var resp keyResponse
	path := "/v1/signing-keys/" + url.PathEscape(id)
	if err := c.do(ctx, http.MethodGet, path, path, nil, &resp, true); err != nil {
		return KeyInfo{}, err
	}
	return resp.SigningKey, nil
}

// RenameKey renames a signing key; "" takes its name away.
func (c *Client) RenameKey(ctx context.Context, id, name string) (KeyInfo, error) {
	var resp keyResponse
	path := "/v1/signing-keys/" + url.PathEscape(id)
	if err := c.do(ctx, http.MethodPut, path, path, RenameKeyRequest{Name: NullString(name)}, &resp, true); err != nil {
		return KeyInfo{}, err
	}
	return resp.SigningKey, nil
}

// DeleteKey deletes a signing key; every URL signed with it stops working.
func (c *Client) DeleteKey(ctx context.Context, id string) error {
	_, _, err := c.DeleteKeyConfirmed(ctx, id)
	return err
}

// DeleteKeyConfirmed is DeleteKey, with the answer's confirmation by the
// edges (see SetPolicyConfirmed).
func (c *Client) DeleteKeyConfirmed(ctx context.Context, id string) (conf Confirmation, known bool, err error) {
	return c.confirmed(ctx, http.MethodDelete, "/v1/signing-keys/"+url.PathEscape(id))
}

// do sends one request and decodes a 2xx answer's JSON into out (when not
// nil); a 2xx whose body holds an error fails. shown is the path as errors may show it.
func (c *Client) do(ctx context.Context, method, path, shown string, in, out any, bearer bool) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	base := strings.TrimSuffix(c.BaseURL, "/")
	if base == "" {
		base = DefaultAPIURL
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, shown, errors.Unwrap(err))
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if bearer {
		if c.Token == "" {
			return fmt.Errorf("%s %s: no API token", method, shown)
		}
		req.Header.Set("Authorization", "Bearer "+c.Token.Reveal())
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL may hold an API key
		}
		return fmt.Errorf("%s %s%s: %w", method, base, shown, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%s %s%s: read answer: %w", method, base, shown, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 || failedIn2xx(data) {
		return fmt.Errorf("%s %s%s: %w", method, base, shown, apiError(resp.StatusCode, data))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s%s: the answer is not the JSON expected: %w", method, base, shown, err)
	}
	return nil
}

// failedIn2xx reports whether a 2xx answer's body holds an error, as
// Qencode's API may answer: "error" a non-zero number, or an object.
// "error": 0, null or absent is a success.
func failedIn2xx(data []byte) bool {
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(data, &body) != nil {
		return false
	}
	if n, ok := errorNumber(body.Error); ok {
		return n != "0"
	}
	return bytes.HasPrefix(body.Error, []byte("{"))
}

// errorNumber reads an "error" value that is a JSON number: its text, and
// whether it is a number at all. Zero in any spelling reads "0".
func errorNumber(raw json.RawMessage) (string, bool) {
	var f float64
	if len(raw) == 0 || string(raw) == "null" || json.Unmarshal(raw, &f) != nil {
		return "", false
	}
	if f == 0 {
		return "0", true
	}
	return string(raw), true
}

// apiError reads an error body: {"error": N, "code", "message"} (a signgate
// edge's and Qencode's, which has no "code"), the older
// {"error": {"code", "message"}}, or text.
func apiError(status int, data []byte) *APIError {
	e := &APIError{Status: status}
	var body struct {
		Error   json.RawMessage `json:"error"`
		Code    string          `json:"code"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(data, &body) == nil {
		var inner struct{ Code, Message string }
		switch n, isNum := errorNumber(body.Error); {
		case json.Unmarshal(body.Error, &inner) == nil && (inner.Code != "" || inner.Message != ""):
			e.Code, e.Message = inner.Code, inner.Message
		case body.Code != "":
			e.Code, e.Message = body.Code, body.Message
		case isNum && n != "0":
			e.Code, e.Message = n, body.Message
		default:
			e.Message = body.Message
		}
	} else if len(data) > 0 && !bytes.ContainsAny(data[:min(len(data), 512)], "\x00") {
		e.Message = strings.TrimSpace(string(data))
	}
	if len(e.Message) > 200 {
		e.Message = e.Message[:200] + "..."
	}
	return e
}
