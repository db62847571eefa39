package httpx

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"syscall"

	"github.com/signgate/signgate/signer"
)

// StatusClientClosed is the status logged (and never seen) when the client
// left before the answer was ready, as nginx does.
const StatusClientClosed = 499

// Classify is the one failure classifier of both servers and both reverse
// proxies (the gateway's pass-through and the edge's HTTP origin). It maps
// the failures that do not depend on which server saw them:
//
//   - the client cancelled (context.Canceled): 499, logged below ERROR;
//   - a dial or read timed out (context.DeadlineExceeded, a net.Error
//     whose Timeout is true, os.ErrDeadlineExceeded): 504;
//   - the peer refused or reset the connection (ECONNREFUSED,
//     ECONNRESET): 502;
//   - a request body over its limit (*http.MaxBytesError): 413;
//   - a path that cannot be made canonical (signer.ErrPath): 400.
//
// It returns nil for anything else, which the server's own mapping
// (proxy's status, edge's httpError) decides. The *Error keeps err as its
// cause, for the log only. Each server writes the result in its own body
// shape: see WriteError for the gateway's and edge's writeError for the
// Qencode-shaped one.
func Classify(err error) *Error {
	e := func(status int, code, msg string) *Error { return Errorf(status, code, msg, err) }
	var tooLarge *http.MaxBytesError
	var ne net.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return e(StatusClientClosed, "client_gone", "the client closed the request")
	case errors.As(err, &tooLarge):
		return e(http.StatusRequestEntityTooLarge, "request_too_large", "the request body is too large")
	case errors.Is(err, signer.ErrPath):
		return e(http.StatusBadRequest, "path_not_canonical", "the path is not canonical")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return e(http.StatusGatewayTimeout, "gateway_timeout", "the server behind this one did not answer in time")
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return e(http.StatusBadGateway, "bad_gateway", "the server behind this one is unavailable")
	}
	return nil
}
