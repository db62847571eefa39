package edge

import (
	"time"

	"github.com/signgate/signgate/internal/httpx"
)

// Request bodies on the edge (httpx/body.go has the mechanisms): the media
// listener reads none, so one announced is not waited for and the
// connection is closed after the answer (httpx.RefuseBodies, in Handler);
// the control API reads at most MaxBody within
// SIGNGATE_EDGE_API_BODY_TIMEOUT, past which it answers 408
// (httpx.LimitBodies, in APIHandler).

// apiBodyTimeout is the deadline of a control API request body.
func (e *Edge) apiBodyTimeout() time.Duration {
	if d := e.cfg.APIBodyTimeout; d > 0 {
		return d
	}
	return httpx.APIBodyTimeout
}
