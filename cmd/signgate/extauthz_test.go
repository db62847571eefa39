package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// TestGatewayExtAuthzListener: SIGNGATE_EXTAUTHZ_GRPC_LISTEN starts the
// Envoy gRPC check beside the gateway, and a SIGTERM-like stop drains it:
// a Check in flight (its forward-auth backend still deciding) is answered
// before the command returns.
func TestGatewayExtAuthzListener(t *testing.T) {
	asked, release := make(chan struct{}, 1), make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked <- struct{}{}
		<-release
		w.Header().Set("X-Auth-User", "alice")
	}))
	defer backend.Close()
	environ := gatewayEnviron(t, testKeyFile, "")
	environ["SIGNGATE_AUTH"] = "forward"
	environ["SIGNGATE_FORWARD_URL"] = backend.URL
	environ["SIGNGATE_FORWARD_SUBJECT_HEADER"] = "X-Auth-User"
	environ["SIGNGATE_EXTAUTHZ_GRPC_LISTEN"] = "127.0.0.1:0"
	addrs, out, stop := startCommand(t, environ, []string{"gateway", "ext_authz"}, "gateway")

	conn, err := grpc.NewClient(addrs["ext_authz"], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := authv3.NewAuthorizationClient(conn)
	type result struct {
		resp *authv3.CheckResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		resp, err := c.Check(ctx, &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
			Http: &authv3.AttributeContext_HttpRequest{Method: "GET", Path: "/media/v/x.mp4", Host: "media.example.com",
				Headers: map[string]string{"cookie": "sid=1"}},
		}}})
		done <- result{resp, err}
	}()
	select {
	case <-asked:
	case <-time.After(20 * time.Second):
		t.Fatal("the check never reached the forward-auth backend")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), `"msg":"draining"`); {
		if time.Now().After(deadline) {
			t.Fatalf("the command does not drain:\n%s", out)
		}
		select {
		case <-stopped:
			t.Fatalf("the command stopped with a check in flight:\n%s", out)
		case <-time.After(5 * time.Millisecond):
		}
	}
	close(release)
	r := <-done
	if r.err != nil {
		t.Fatalf("Check during the drain: %v\n%s", r.err, out)
	}
	if d := r.resp.GetDeniedResponse(); d.GetStatus().GetCode() != 302 {
		t.Errorf("want the 302 to the CDN, got %v", r.resp)
	}
	if err := <-stopped; err != nil {
		t.Errorf("stop: %v\n%s", err, out)
	}
}
