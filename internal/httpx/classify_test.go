package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signgate/signgate/internal/testenv"
	"github.com/signgate/signgate/signer"
)

// get makes a real request with its own transport, closed afterwards, and
// returns its error.
func get(t *testing.T, ctx context.Context, tr *http.Transport, addr string) error {
	t.Helper()
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET %s answered %d; want a failure", addr, resp.StatusCode)
	}
	return err
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    func(t *testing.T) error
		status int
		code   string
	}{
		{"refused dial to a closed port", func(t *testing.T) error {
			return get(t, context.Background(), &http.Transport{}, testenv.ClosedPort(t))
		}, http.StatusBadGateway, "bad_gateway"},
		{"reset by the peer", func(t *testing.T) error {
			return get(t, context.Background(), &http.Transport{}, testenv.ResetServer(t))
		}, http.StatusBadGateway, "bad_gateway"},
		{"read timeout: no response headers", func(t *testing.T) error {
			return get(t, context.Background(), &http.Transport{ResponseHeaderTimeout: 50 * time.Millisecond}, testenv.SilentServer(t))
		}, http.StatusGatewayTimeout, "gateway_timeout"},
		{"deadline of the request's context", func(t *testing.T) error {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			return get(t, ctx, &http.Transport{}, testenv.SilentServer(t))
		}, http.StatusGatewayTimeout, "gateway_timeout"},
		{"dial timeout", func(t *testing.T) error {
			// A dialer whose deadline has passed times out as a real
			// one does, without depending on an unroutable address.
			d := &net.Dialer{Deadline: time.Now().Add(-time.Second)}
			return get(t, context.Background(), &http.Transport{DialContext: d.DialContext}, testenv.ClosedPort(t))
		}, http.StatusGatewayTimeout, "gateway_timeout"},
		{"client cancel", func(t *testing.T) error {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			return get(t, ctx, &http.Transport{}, testenv.SilentServer(t))
		}, StatusClientClosed, "client_gone"},
		{"body over its limit", func(t *testing.T) error {
			_, err := io.ReadAll(http.MaxBytesReader(nil, io.NopCloser(strings.NewReader("0123456789")), 4))
			return err
		}, http.StatusRequestEntityTooLarge, "request_too_large"},
		{"non-canonical path", func(t *testing.T) error {
			_, err := signer.CanonicalPath("/a/../b")
			return err
		}, http.StatusBadRequest, "path_not_canonical"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cause := tc.err(t)
			// Servers wrap the cause in their own sentinel; the class
			// must survive it.
			wrapped := fmt.Errorf("%w: %w", errors.New("upstream unavailable"), cause)
			he := Classify(wrapped)
			if he == nil {
				t.Fatalf("Classify(%v) = nil; want %d", cause, tc.status)
			}
			if he.Status != tc.status || he.Code != tc.code {
				t.Fatalf("Classify(%v) = %d %s; want %d %s", cause, he.Status, he.Code, tc.status, tc.code)
			}
			if !errors.Is(he, cause) {
				t.Errorf("the cause is lost: %v", he)
			}
		})
	}
}

func TestClassifyLeavesTheRest(t *testing.T) {
	for _, err := range []error{nil, errors.New("something else"), io.ErrUnexpectedEOF} {
		if he := Classify(err); he != nil {
			t.Errorf("Classify(%v) = %d; want nil", err, he.Status)
		}
	}
}
