package proxy_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/proxy"
	"github.com/signgate/signgate/proxy/auth"
	"github.com/signgate/signgate/signer"
)

// apiKey is a custom authenticator: the X-API-Key header names a robot.
type apiKey struct{}

func (apiKey) Authenticate(r *http.Request) (auth.Principal, error) {
	if r.Header.Get("X-API-Key") != "letmein" {
		return auth.Principal{}, auth.ErrNoCredentials
	}
	return auth.Principal{Subject: "robot"}, nil
}

// Example embeds a gateway in a Go program: one route to a CDN (a stand-in
// here), its signing key held in memory, and a custom authenticator. A
// request without the API key gets 401; with it, a redirect to a freshly
// signed CDN URL.
func Example() {
	cdn := httptest.NewServer(http.NotFoundHandler())
	defer cdn.Close()
	pk, _ := rsa.GenerateKey(rand.Reader, 2048)
	g, err := proxy.New(context.Background(), proxy.Config{Routes: []proxy.Route{{
		Route: config.Route{Prefix: "/media", CDNBase: cdn.URL, TTL: time.Hour, Scope: signer.ScopeFile, RedirectStatus: http.StatusFound},
		Key:   &signer.SigningKey{ID: "key1", Key: pk},
	}}}, proxy.Options{Auth: []auth.Link{{Name: "apikey", Authenticator: apiKey{}}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer g.Close()
	srv := httptest.NewServer(g.Handler())
	defer srv.Close()

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, key := range []string{"wrong", "letmein"} {
		req, _ := http.NewRequest("GET", srv.URL+"/media/movie.mp4", nil)
		req.Header.Set("X-API-Key", key)
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode, strings.HasPrefix(resp.Header.Get("Location"), cdn.URL+"/media/movie.mp4?"))
	}
	// Output:
	// 401 false
	// 302 true
}
