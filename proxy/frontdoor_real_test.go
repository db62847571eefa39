package proxy

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signgate/signgate/internal/testenv"
)

// freePort returns a port on 127.0.0.1 that was free a moment ago, for
// programs that cannot bind :0 and report it.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startProgram runs a front door's real binary until the test ends, and
// waits (bounded, polling) until it accepts on addr.
func startProgram(t *testing.T, addr string, stop syscall.Signal, name string, args ...string) {
	t.Helper()
	var logs testenv.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed once Wait returned, with err set
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(stop)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("%s exited: %v\n%s", name, waitErr, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen on %s:\n%s", name, addr, logs.String())
		}
	}
}

// startNginx runs nginx with server, a server block's body, listening on
// a free port of 127.0.0.1; it returns the base URL.
func startNginx(t *testing.T, server string) string {
	t.Helper()
	bin := testenv.Program(t, "nginx")
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	conf := fmt.Sprintf(`%s
daemon off; worker_processes 1; pid %[2]s/nginx.pid; error_log %[2]s/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %[2]s/body; proxy_temp_path %[2]s/proxy; fastcgi_temp_path %[2]s/fcgi;
  uwsgi_temp_path %[2]s/uwsgi; scgi_temp_path %[2]s/scgi;
  server { listen %[3]s; %[4]s }
}
`, user, dir, addr, server)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startProgram(t, addr, syscall.SIGQUIT, bin, "-p", dir, "-c", path)
	return "http://" + addr
}

// startCaddy runs Caddy with the site body under a free port of
// 127.0.0.1; it returns the base URL.
func startCaddy(t *testing.T, site string) string {
	t.Helper()
	bin := testenv.Program(t, "caddy")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	conf := fmt.Sprintf("{\n\tadmin off\n\tauto_https off\n}\nhttp://%s {\n%s\n}\n", addr, site)
	path := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	startProgram(t, addr, syscall.SIGTERM, bin, "run", "--config", path, "--adapter", "caddyfile")
	return "http://" + addr
}

// frontGet sends a request through a front door without following
// redirects.
func frontGet(t *testing.T, url string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

type doorCase struct {
	name, path string
	hdr        map[string]string
	want       int
	wantBody   string // prefix of the body, when set
}

func runDoorCases(t *testing.T, base string, cases []doorCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := frontGet(t, base+tc.path, tc.hdr)
			b := body(t, resp)
			if resp.StatusCode != tc.want || !strings.HasPrefix(b, tc.wantBody) {
				t.Errorf("status %d body %q, want %d %q", resp.StatusCode, b, tc.want, tc.wantBody)
			}
		})
	}
}

func withAuth(tok string, kv ...string) map[string]string {
	h := bearer(tok)
	for i := 0; i < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return h
}

// TestNginxAuthRequest: the real nginx, configured with the auth_request
// snippet of docs/gateway.md, in front of the app.
func TestNginxAuthRequest(t *testing.T) {
	f := doorFixture(t, nil)
	free, premium := f.session("bob", nil), f.session("alice", map[string]any{"plan": "premium"})
	base := startNginx(t, fmt.Sprintf(`
    location = /_auth { internal; proxy_pass %s/.signgate/auth;
                        proxy_pass_request_body off; proxy_set_header Content-Length "";
                        proxy_set_header X-Original-URI $request_uri;
                        proxy_set_header X-Original-Method $request_method; }
    location / { auth_request /_auth; auth_request_set $user $upstream_http_x_signgate_subject;
                 proxy_set_header X-Signgate-Subject $user; proxy_pass %s; }`, f.srv.URL, f.app.URL))
	runDoorCases(t, base, []doorCase{
		{"allowed", "/media/x.mp4", bearer(free), 200, "app:/media/x.mp4"},
		{"premium needs the claim", "/media/premium/x.mp4", bearer(free), 403, ""},
		{"premium with it", "/media/premium/x.mp4", bearer(premium), 200, "app:"},
		{"no credentials", "/app", nil, 401, ""},
		// The client names a free path in another door's header: refused
		// (400), which auth_request turns into 500, never into 200.
		{"client adds X-Original-URL", "/media/premium/x.mp4", withAuth(free, "X-Original-URL", "http://x/media/x.mp4"), 500, ""},
		{"client adds X-Forwarded-Uri", "/media/premium/x.mp4", withAuth(free, "X-Forwarded-Uri", "/media/x.mp4"), 500, ""},
	})
	if got := f.app.lastRequest().Header.Get("X-Signgate-Subject"); got != "alice" {
		t.Errorf("the app saw subject %q, want alice", got)
	}
}

// TestNginxIngressAuthURL: the real nginx, configured as ingress-nginx
// configures a location with nginx.ingress.kubernetes.io/auth-url (the
// headers of its template's external-auth location: X-Original-URL as
// $scheme://$http_host$request_uri, X-Original-Method, X-Sent-From,
// X-Auth-Request-Redirect, X-Forwarded-For), and with signgate itself as
// the backend: the 302 to the CDN comes from the backend, because
// auth_request turns any auth answer but 2xx, 401 and 403 into 500.
func TestNginxIngressAuthURL(t *testing.T) {
	f := doorFixture(t, nil)
	free := f.session("bob", nil)
	base := startNginx(t, fmt.Sprintf(`
    location = /_external-auth { internal; proxy_pass %s/.signgate/auth;
        proxy_pass_request_body off; proxy_set_header Content-Length ""; proxy_set_header X-Forwarded-Proto "";
        proxy_set_header X-Original-URL $scheme://$http_host$request_uri;
        proxy_set_header X-Original-Method $request_method; proxy_set_header X-Sent-From "nginx-ingress-controller";
        proxy_set_header X-Real-IP $remote_addr; proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Auth-Request-Redirect $request_uri; }
    location / { auth_request /_external-auth; proxy_pass %s; }`, f.srv.URL, f.srv.URL))
	runDoorCases(t, base, []doorCase{
		{"premium needs the claim", "/media/premium/x.mp4", bearer(free), 403, ""},
		{"no credentials", "/media/x.mp4", nil, 401, ""},
		{"client adds X-Original-URI", "/media/premium/x.mp4", withAuth(free, "X-Original-URI", "/media/x.mp4"), 500, ""},
	})
	resp := frontGet(t, base+"/media/v/x.mp4?t=1", bearer(free))
	direct := f.do("GET", "/media/v/x.mp4?t=1", bearer(free))
	if resp.StatusCode != 302 || resp.Header.Get("Location") != direct.Header.Get("Location") {
		t.Errorf("status %d Location %q, want the gateway's 302 %q", resp.StatusCode, resp.Header.Get("Location"), direct.Header.Get("Location"))
	}
}

// TestCaddyForwardAuth: the real Caddy, with forward_auth to /.signgate/auth
// (the app behind it), and to /.signgate/forward-auth, whose 302 to the
// CDN Caddy hands to the client as it is.
func TestCaddyForwardAuth(t *testing.T) {
	f := doorFixture(t, nil)
	free, premium := f.session("bob", nil), f.session("alice", map[string]any{"plan": "premium"})
	gw := strings.TrimPrefix(f.srv.URL, "http://")
	base := startCaddy(t, fmt.Sprintf(`
	handle /gw/* {
		uri strip_prefix /gw
		forward_auth %[1]s {
			uri %[3]s
			copy_headers X-Signgate-Subject
		}
		respond "allowed" 200
	}
	handle {
		forward_auth %[1]s {
			uri %[4]s
			copy_headers X-Signgate-Subject
		}
		reverse_proxy %[2]s
	}`, gw, f.app.URL, PathForwardAuth, PathAuth))
	runDoorCases(t, base, []doorCase{
		{"auth: allowed", "/media/x.mp4", bearer(free), 200, "app:/media/x.mp4"},
		{"auth: premium needs the claim", "/media/premium/x.mp4", bearer(free), 403, ""},
		{"auth: no credentials", "/app", nil, 401, ""},
		{"auth: client adds X-Original-URI", "/media/premium/x.mp4", withAuth(free, "X-Original-URI", "/media/x.mp4"), 400, ""},
		{"forward-auth: app path", "/gw/app", bearer(free), 200, "allowed"},
		{"forward-auth: premium needs the claim", "/gw/media/premium/x.mp4", bearer(free), 403, ""},
		{"forward-auth: no credentials", "/gw/app", nil, 401, ""},
	})
	resp := frontGet(t, base+"/gw/media/premium/x.mp4?t=1", bearer(premium))
	direct := f.do("GET", "/media/premium/x.mp4?t=1", bearer(premium))
	if resp.StatusCode != 302 || resp.Header.Get("Location") == "" || resp.Header.Get("Location") != direct.Header.Get("Location") {
		t.Errorf("forward-auth: status %d Location %q, want the gateway's 302 %q", resp.StatusCode, resp.Header.Get("Location"), direct.Header.Get("Location"))
	}
	if got := f.app.lastRequest().Header.Get("X-Signgate-Subject"); got != "bob" {
		t.Errorf("the app saw subject %q, want bob", got)
	}
}
