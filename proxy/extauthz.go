package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"

	"github.com/signgate/signgate/internal/httpx"
)

// ExtAuthzHandler returns Envoy's ext_authz gRPC service,
// envoy.service.auth.v3.Authorization/Check, as an http.Handler for a
// plaintext HTTP/2 listener (httpx.Listener.H2C), so that it drains with
// the gateway's other servers.
//
// A Check is answered as the gateway answers the same request
// (answerGateway): on a media route a denial that carries the gateway's
// own answer (the 302 to the signed URL with Cache-Control, Referrer-Policy
// and, in cookie mode, Set-Cookie; the login redirect or 401 JSON; 503
// when a backend fails), elsewhere an allow that sets the subject header
// and removes the client's copies of the identity headers, as pass-through
// does. Every failure is a denial, never a gRPC error, so that Envoy's
// failure_mode_allow cannot turn it into an allow.
func (g *Gateway) ExtAuthzHandler() http.Handler {
	s := grpc.NewServer(grpc.MaxRecvMsgSize(maxCheckBytes))
	authv3.RegisterAuthorizationServer(s, extAuthz{g})
	return s
}

// maxCheckBytes bounds a CheckRequest: the headers, and a body only if
// Envoy is configured to send one (the gateway never reads it).
const maxCheckBytes = 1 << 20

// extAuthz implements the Authorization service.
type extAuthz struct{ g *Gateway }

var _ authv3.AuthorizationServer = extAuthz{}

// Check implements authv3.AuthorizationServer.
func (x extAuthz) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	g := x.g
	remote := ""
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		remote = p.Addr.String()
	}
	start := time.Now()
	t, err := checkRequest(ctx, req, remote)
	w := newCapture()
	var resp *authv3.CheckResponse
	if err != nil {
		g.writeError(w, t, err)
	} else if pr, ok := g.answerGateway(w, t); ok {
		w.status = http.StatusOK
		resp = g.okResponse(t, pr)
	}
	if resp == nil {
		resp = w.denied()
	}
	g.logCheck(ctx, t, w.status, time.Since(start))
	return resp, nil
}

// logCheck records a Check as the middleware records a request: the
// metrics of the check endpoints, and an access-log line (path without
// its query, never a header) when Config.AccessLog is on.
func (g *Gateway) logCheck(ctx context.Context, t *http.Request, status int, d time.Duration) {
	g.metrics.observe(kindAuth, status, d)
	if g.cfg.AccessLog && g.log.Enabled(ctx, slog.LevelInfo) {
		g.log.LogAttrs(ctx, slog.LevelInfo, httpx.CheckLogMessage,
			slog.String("method", t.Method), slog.String("host", t.Host), slog.String("path", t.URL.Path),
			slog.Int("status", status), slog.Duration("duration", d), slog.String("remote", t.RemoteAddr))
	}
}

// checkRequest turns the HTTP attributes of a Check into the request they
// describe, as it reached Envoy: method, path with its query (Envoy's
// path attribute holds both), host and headers, from remote, the gRPC
// peer (so identity headers are believed only from a trusted Envoy, as
// from any proxy). On an error the request returned is still usable to
// write the answer.
func checkRequest(ctx context.Context, req *authv3.CheckRequest, remote string) (*http.Request, error) {
	h := req.GetAttributes().GetRequest().GetHttp()
	t := &http.Request{
		Method:     h.GetMethod(),
		URL:        &url.URL{Path: "/"},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{},
		Host:       h.GetHost(),
		RemoteAddr: remote,
		RequestURI: "/",
	}
	t = t.WithContext(ctx)
	add := func(k, v string) {
		if k == "" || k[0] == ':' { // pseudo-headers: method, path and host are read apart
			return
		}
		t.Header.Add(k, v)
	}
	if hm := h.GetHeaderMap(); hm != nil && len(h.GetHeaders()) == 0 {
		for _, hv := range hm.GetHeaders() {
			v := hv.GetValue()
			if len(hv.GetRawValue()) > 0 {
				v = string(hv.GetRawValue())
			}
			add(hv.GetKey(), v)
		}
	} else {
		for k, v := range h.GetHeaders() {
			add(k, v)
		}
	}
	if t.Method == "" {
		return t, fmt.Errorf("%w: the check names no method", ErrBadRequest)
	}
	target, err := targetRequest(t, h.GetPath(), "")
	if err != nil {
		return t, err
	}
	return target, nil
}

// okResponse allows t for pr: the subject header set (overwriting), and
// every client copy of an identity header removed: the spellings the
// Check shows, and the canonical names always, for Envoy sends only the
// headers its configuration lists (headersToExtAuth), so a client's copy
// may reach the upstream without ever being shown here. Spellings with
// "_" or "." that Envoy does not show cannot be named: Envoy must refuse
// them (headers_with_underscores_action: REJECT_REQUEST; see Front doors
// in docs/gateway.md).
func (g *Gateway) okResponse(t *http.Request, pr Principal) *authv3.CheckResponse {
	ok := &authv3.OkHttpResponse{}
	seen := map[string]bool{}
	remove := func(name string) {
		if n := strings.ToLower(name); !seen[n] {
			seen[n] = true
			ok.HeadersToRemove = append(ok.HeadersToRemove, n)
		}
	}
	for _, k := range g.identity.keys {
		remove(k)
	}
	for name := range t.Header {
		if g.identity.is(name) {
			remove(name)
		}
	}
	sort.Strings(ok.HeadersToRemove)
	if pr.Subject != "" {
		ok.Headers = []*corev3.HeaderValueOption{{
			Header:       &corev3.HeaderValue{Key: strings.ToLower(g.subjectHeader), Value: pr.Subject},
			AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
		}}
		// The removal runs after the additions: never remove the header set.
		ok.HeadersToRemove = removeString(ok.HeadersToRemove, strings.ToLower(g.subjectHeader))
	}
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(codes.OK)},
		HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok},
	}
}

func removeString(ss []string, s string) []string {
	out := ss[:0]
	for _, v := range ss {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

// capture is the ResponseWriter a Check's answer is written to, to be
// sent as a DeniedHttpResponse.
type capture struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	overflow bool // a body past maxCheckBytes was cut: answered 502
}

func newCapture() *capture { return &capture{header: http.Header{}} }

func (c *capture) Header() http.Header { return c.header }

func (c *capture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

func (c *capture) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	if c.body.Len()+len(b) > maxCheckBytes {
		c.overflow = true
		return 0, errCheckBody
	}
	return c.body.Write(b)
}

var errCheckBody = errors.New("ext_authz: the answer's body is too large for a denied response")

// denied returns the captured answer as a denial. A status that Envoy's
// StatusCode enum lacks (it validates defined_only) becomes 500; an
// answer too large for the message, 502 without a body.
func (c *capture) denied() *authv3.CheckResponse {
	st := c.status
	if st == 0 {
		st = http.StatusOK
	}
	if c.overflow {
		st, c.header = http.StatusBadGateway, http.Header{"Cache-Control": {"no-store"}}
		c.body.Reset()
	}
	if _, ok := typev3.StatusCode_name[int32(st)]; !ok {
		st = http.StatusInternalServerError
	}
	d := &authv3.DeniedHttpResponse{
		Status: &typev3.HttpStatus{Code: typev3.StatusCode(st)},
		Body:   c.body.String(),
	}
	names := make([]string, 0, len(c.header))
	for k := range c.header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for i, v := range c.header[k] {
			action := corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD
			if i > 0 {
				action = corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD
			}
			d.Headers = append(d.Headers, &corev3.HeaderValueOption{
				Header:       &corev3.HeaderValue{Key: strings.ToLower(k), Value: v},
				AppendAction: action,
			})
		}
	}
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(codes.PermissionDenied)},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: d},
	}
}
