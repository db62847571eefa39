package proxy

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/tracing"
)

// Authenticator finds the principal behind a request. It returns an error
// wrapping ErrNoCredentials when the request carries nothing it reads,
// ErrUnauthenticated when what it carries is not valid, ErrForbidden when
// the user is known and refused, and ErrAuthBackend when it cannot decide.
// Implementations are safe for concurrent use.
type Authenticator interface {
	Authenticate(*http.Request) (Principal, error)
}

// maxCredentialBytes bounds a token, a cookie header or an identity header
// value; anything longer is refused unread.
const maxCredentialBytes = 8 << 10

// chain tries authenticators in the configured order.
type chain struct {
	names    []string
	auths    []Authenticator
	verdicts [][5]prometheus.Counter // per authenticator: verdict counters
	tracer   *tracing.Tracer         // nil: off
	spans    []string                // per authenticator: its span's name
}

// verdict indexes chain.verdicts.
const (
	verdictOK = iota
	verdictNone
	verdictDenied
	verdictForbidden
	verdictError
)

// verdictNames are the verdicts' names, in metrics and spans.
func verdictNames() [5]string {
	return [5]string{"ok", "no_credentials", "denied", "forbidden", "error"}
}

func newChain(names []string, auths []Authenticator, m *metrics, tr *tracing.Tracer) *chain {
	c := &chain{names: names, auths: auths, verdicts: make([][5]prometheus.Counter, len(auths)), tracer: tr}
	for i, n := range names {
		for v, vn := range verdictNames() {
			c.verdicts[i][v] = m.authVerdicts.WithLabelValues(n, vn)
		}
		c.spans = append(c.spans, SpanAuthPrefix+n)
	}
	return c
}

// Authenticate runs the chain: the first authenticator that accepts the
// request wins. One that cannot decide (ErrAuthBackend) or that forbids
// stops the chain at once: failures fail closed, never open. When none
// accepts, the error wraps ErrUnauthenticated and the last cause.
func (c *chain) Authenticate(r *http.Request) (Principal, error) {
	var last error
	for i, a := range c.auths {
		var p Principal
		var err error
		if c.tracer.On() {
			tr, end := c.traced(r, i)
			p, err = a.Authenticate(tr)
			end(verdictOf(err))
		} else {
			p, err = a.Authenticate(r)
		}
		switch {
		case err == nil:
			c.verdicts[i][verdictOK].Inc()
			p.Via = c.names[i]
			return p, nil
		case errors.Is(err, ErrAuthBackend):
			c.verdicts[i][verdictError].Inc()
			return Principal{}, fmt.Errorf("%s: %w", c.names[i], err)
		case errors.Is(err, ErrForbidden):
			c.verdicts[i][verdictForbidden].Inc()
			return Principal{}, fmt.Errorf("%s: %w", c.names[i], err)
		case errors.Is(err, ErrNoCredentials):
			c.verdicts[i][verdictNone].Inc()
			if last == nil {
				last = &namedError{name: c.names[i], err: err}
			}
		default:
			c.verdicts[i][verdictDenied].Inc()
			last = &namedError{name: c.names[i], err: err}
		}
	}
	if last == nil {
		last = ErrNoCredentials
	}
	if errors.Is(last, ErrUnauthenticated) {
		return Principal{}, last
	}
	return Principal{}, &unauthenticatedError{cause: last}
}

// verdictOf is the verdict an authenticator's err stands for, as
// Authenticate counts it.
func verdictOf(err error) int {
	switch {
	case err == nil:
		return verdictOK
	case errors.Is(err, ErrAuthBackend):
		return verdictError
	case errors.Is(err, ErrForbidden):
		return verdictForbidden
	case errors.Is(err, ErrNoCredentials):
		return verdictNone
	}
	return verdictDenied
}

// The chain declines on every pass-through request without credentials,
// and pass-through drops the error: these two are formatted only when
// read, which saved about 2 % of a pass-through's CPU (BENCHMARKS.md, "Load
// benchmarks"). They read and unwrap exactly as fmt.Errorf("%s: %w") and
// fmt.Errorf("%w: %w", ErrUnauthenticated, cause) would.

// namedError is err from the authenticator called name.
type namedError struct {
	name string
	err  error
}

func (e *namedError) Error() string { return e.name + ": " + e.err.Error() }
func (e *namedError) Unwrap() error { return e.err }

// unauthenticatedError is ErrUnauthenticated caused by cause.
type unauthenticatedError struct{ cause error }

func (e *unauthenticatedError) Error() string {
	return ErrUnauthenticated.Error() + ": " + e.cause.Error()
}
func (e *unauthenticatedError) Unwrap() []error { return []error{ErrUnauthenticated, e.cause} }

// admit authenticates r for route rt and checks the route's claims. It
// returns the principal and true, or false on a public route, where
// nobody is asked. An error from the chain is returned as it is (the
// caller may send a browser to log in); a refused claim wraps
// ErrForbidden. The principal comes back by value: a pointer would put it
// on the heap of every request.
func (g *Gateway) admit(r *http.Request, rt *route) (Principal, bool, error) {
	if rt.public {
		return Principal{}, false, nil
	}
	p, err := g.chain.Authenticate(r)
	if err != nil {
		return Principal{}, false, err
	}
	if err := authorize(p, rt.require); err != nil {
		return Principal{}, false, fmt.Errorf("route %s, subject %q: %w", rt.name, p.Subject, err)
	}
	return p, true, nil
}

// authorize checks a route's required claims.
func authorize(p Principal, reqs []config.Requirement) error {
	for _, r := range reqs {
		if !p.hasClaim(r.Claim, r.Value) {
			return fmt.Errorf("%w: claim %q does not hold the required value", ErrForbidden, r.Claim)
		}
	}
	return nil
}
