package proxy

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/signgate/signgate/internal/httpx"
)

// grpcCheck serves the gateway's ext_authz service the way the command
// does (httpx.ServeDrain, plaintext HTTP/2) on 127.0.0.1:0 and returns a
// client over a real gRPC connection. The server drains at cleanup.
func grpcCheck(t *testing.T, gw *Gateway) authv3.AuthorizationClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- httpx.ServeDrain(ctx, gw.log, func(_ string, a net.Addr) { addrc <- a },
			httpx.Drain{Timeout: 5 * time.Second},
			httpx.Listener{Name: "ext_authz", Addr: "127.0.0.1:0", Handler: gw.ExtAuthzHandler(), H2C: true})
	}()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("ServeDrain: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("ext_authz listener did not start")
	}
	conn, err := grpc.NewClient(addr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("ServeDrain: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("ext_authz listener did not drain")
		}
	})
	return authv3.NewAuthorizationClient(conn)
}

// checkOf is a CheckRequest as Envoy sends one: lower-case header names,
// the pseudo-headers among them, the path with its query.
func checkOf(method, path string, hdr map[string]string) *authv3.CheckRequest {
	h := map[string]string{":method": method, ":path": path, ":authority": "media.example.com"}
	for k, v := range hdr {
		h[strings.ToLower(k)] = v
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Method: method, Path: path, Host: "media.example.com", Scheme: "https", Protocol: "HTTP/1.1", Headers: h},
	}}}
}

func call(t *testing.T, c authv3.AuthorizationClient, req *authv3.CheckRequest) *authv3.CheckResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Check(ctx, req)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return resp
}

// deniedHeaders returns a denial's status, headers (values in order) and
// body.
func deniedHeaders(t *testing.T, resp *authv3.CheckResponse) (int, http.Header, string) {
	t.Helper()
	d := resp.GetDeniedResponse()
	if d == nil || resp.GetStatus().GetCode() == int32(codes.OK) {
		t.Fatalf("want a denial, got %v", resp)
	}
	h := http.Header{}
	for _, o := range d.GetHeaders() {
		h.Add(o.GetHeader().GetKey(), o.GetHeader().GetValue())
	}
	return int(d.GetStatus().GetCode()), h, d.GetBody()
}

func TestExtAuthzGRPC(t *testing.T) {
	f := newFixture(t, map[string]string{
		"SIGNGATE_AUTH":            "header,jwt",
		"SIGNGATE_TRUSTED_PROXIES": "127.0.0.1",
	})
	c := grpcCheck(t, f.gw)
	tok := f.session("alice", nil)

	t.Run("media: the gateway's own 302", func(t *testing.T) {
		want := f.do("GET", "/media/v/x.mp4?start=5", bearer(tok))
		st, h, _ := deniedHeaders(t, call(t, c, checkOf("GET", "/media/v/x.mp4?start=5", bearer(tok))))
		if st != http.StatusFound || h.Get("location") == "" || h.Get("location") != want.Header.Get("Location") {
			t.Fatalf("status %d Location %q, want 302 %q", st, h.Get("location"), want.Header.Get("Location"))
		}
		if h.Get("cache-control") != "private, no-store" || h.Get("referrer-policy") != "no-referrer" {
			t.Errorf("headers %v", h)
		}
		if resp := call(t, c, checkOf("HEAD", "/media/v/x.mp4", bearer(tok))); resp.GetDeniedResponse().GetStatus().GetCode() != 302 {
			t.Errorf("HEAD: %v", resp)
		}
	})
	t.Run("allow elsewhere, identity as pass-through sets it", func(t *testing.T) {
		hdr := bearer(tok)
		hdr["X-Signgate-Subject"] = "mallory"
		hdr["X_Forwarded.User"] = "mallory"
		resp := call(t, c, checkOf("GET", "/app/page?q=1", hdr))
		ok := resp.GetOkResponse()
		if resp.GetStatus().GetCode() != int32(codes.OK) || ok == nil {
			t.Fatalf("want an allow, got %v", resp)
		}
		if len(ok.GetHeaders()) != 1 || ok.GetHeaders()[0].GetHeader().GetKey() != "x-signgate-subject" ||
			ok.GetHeaders()[0].GetHeader().GetValue() != "alice" ||
			ok.GetHeaders()[0].GetAppendAction() != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD {
			t.Errorf("headers %v", ok.GetHeaders())
		}
		if got := strings.Join(ok.GetHeadersToRemove(), ","); got != "x-forwarded-user,x_forwarded.user" {
			t.Errorf("headers_to_remove %q, want the identity header's canonical name and the client's copy", got)
		}
	})
	t.Run("allow without a subject still removes the identity headers Envoy did not show", func(t *testing.T) {
		// Envoy sends the Check only the headers it is told to; a client's
		// X-Signgate-Subject it did not show must be removed all the same.
		resp := call(t, c, checkOf("GET", "/app/page", bearer(tok)))
		rm := resp.GetOkResponse().GetHeadersToRemove()
		if !slices.Contains(rm, "x-forwarded-user") {
			t.Errorf("headers_to_remove %v: the identity header is not removed", rm)
		}
		if slices.Contains(rm, "x-signgate-subject") {
			t.Errorf("headers_to_remove %v holds the subject header the allow sets", rm)
		}
	})
	t.Run("unauthenticated player: 401 JSON", func(t *testing.T) {
		st, h, b := deniedHeaders(t, call(t, c, checkOf("GET", "/media/v/x.mp4", nil)))
		var e struct{ Error struct{ Code string } }
		if st != http.StatusUnauthorized || json.Unmarshal([]byte(b), &e) != nil || e.Error.Code != "unauthenticated" || h.Get("www-authenticate") == "" {
			t.Errorf("status %d headers %v body %q", st, h, b)
		}
		st, _, _ = deniedHeaders(t, call(t, c, checkOf("GET", "/app/page", nil)))
		if st != http.StatusUnauthorized {
			t.Errorf("app path: status %d, want 401", st)
		}
	})
	t.Run("unauthenticated browser: the login redirect", func(t *testing.T) {
		st, h, _ := deniedHeaders(t, call(t, c, checkOf("GET", "/media/v/x.mp4?a=1", map[string]string{"Accept": "text/html"})))
		want := "https://login.example.com/login?app=1&return_to=%2Fmedia%2Fv%2Fx.mp4%3Fa%3D1"
		if st != http.StatusFound || h.Get("location") != want {
			t.Errorf("status %d Location %q, want %q", st, h.Get("location"), want)
		}
	})
	t.Run("paths refused, never fixed", func(t *testing.T) {
		for _, p := range []string{"/media/v/../x.mp4", "/media/v/%2e%2e/x.mp4", "/media//x.mp4", "/media/v%2Fx.mp4", "media/x", "//evil.example/x", "/media/x.mp4#f"} {
			st, _, _ := deniedHeaders(t, call(t, c, checkOf("GET", p, bearer(tok))))
			if st != http.StatusBadRequest && st != http.StatusNotFound {
				t.Errorf("%s: status %d, want 400", p, st)
			}
		}
	})
	t.Run("logged without secrets", func(t *testing.T) {
		logs := f.logs.String()
		if !strings.Contains(logs, `"msg":"ext_authz check"`) || !strings.Contains(logs, `"path":"/media/v/x.mp4"`) {
			t.Errorf("no access-log line for the checks:\n%s", logs)
		}
		if strings.Contains(logs, tok) || strings.Contains(logs, "start=5") {
			t.Error("a token or a query reached the log")
		}
	})
	t.Run("header identity from the trusted peer", func(t *testing.T) {
		resp := call(t, c, checkOf("GET", "/app/x", map[string]string{"X-Forwarded-User": "bob"}))
		if ok := resp.GetOkResponse(); ok == nil || ok.GetHeaders()[0].GetHeader().GetValue() != "bob" {
			t.Errorf("want an allow for bob, got %v", resp)
		}
	})
}

// TestExtAuthzGRPCUntrustedPeer: Envoy's gRPC peer is not a trusted proxy,
// so an identity header in the check is not believed.
func TestExtAuthzGRPCUntrustedPeer(t *testing.T) {
	f := newFixture(t, map[string]string{"SIGNGATE_AUTH": "header", "SIGNGATE_TRUSTED_PROXIES": "10.9.9.9"})
	c := grpcCheck(t, f.gw)
	st, _, _ := deniedHeaders(t, call(t, c, checkOf("GET", "/media/x.mp4", map[string]string{"X-Forwarded-User": "bob"})))
	if st != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", st)
	}
}

// TestExtAuthzGRPCCookieMode: on a cookie-mode route the denial carries the
// gateway's Set-Cookie with the redirect.
func TestExtAuthzGRPCCookieMode(t *testing.T) {
	f := newFixture(t, map[string]string{
		"SIGNGATE_ROUTES_0_CDN_BASE":      "https://cdn.example.com/base",
		"SIGNGATE_ROUTES_0_STREAMING":     "cookie",
		"SIGNGATE_ROUTES_0_COOKIE_DOMAIN": ".example.com",
	})
	c := grpcCheck(t, f.gw)
	tok := f.session("alice", nil)
	want := f.do("GET", "/media/v/master.m3u8", bearer(tok))
	st, h, _ := deniedHeaders(t, call(t, c, checkOf("GET", "/media/v/master.m3u8", bearer(tok))))
	if st != http.StatusFound || h.Get("location") != want.Header.Get("Location") {
		t.Fatalf("status %d Location %q", st, h.Get("location"))
	}
	if got, w := h.Values("set-cookie"), want.Header.Values("Set-Cookie"); len(got) == 0 || strings.Join(got, "|") != strings.Join(w, "|") {
		t.Errorf("Set-Cookie %q, want the gateway's %q", got, w)
	}
}

// TestExtAuthzGRPCFailsClosed: a forward-auth backend that fails gives a
// 503 denial, never an allow and never a gRPC error (which
// failure_mode_allow would let through).
func TestExtAuthzGRPCFailsClosed(t *testing.T) {
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer broken.Close()
	f := newFixture(t, map[string]string{"SIGNGATE_AUTH": "forward", "SIGNGATE_FORWARD_URL": broken.URL})
	c := grpcCheck(t, f.gw)
	for _, p := range []string{"/media/x.mp4", "/app/x"} {
		st, _, _ := deniedHeaders(t, call(t, c, checkOf("GET", p, map[string]string{"Cookie": "sid=1"})))
		if st != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", p, st)
		}
	}
}
