package auth

import (
	"errors"
	"fmt"
	"net/http"
)

// Authenticator finds the principal behind a request. It returns an error
// wrapping ErrNoCredentials when the request carries nothing it reads,
// ErrUnauthenticated when what it carries is not valid, ErrForbidden when
// the user is known and refused, and ErrAuthBackend when it cannot decide.
// Implementations are safe for concurrent use.
type Authenticator interface {
	Authenticate(*http.Request) (Principal, error)
}

// Link is one authenticator of a Chain and the name it goes by: in
// Principal.Via, in errors and in the hooks' metrics and spans.
type Link struct {
	Name          string
	Authenticator Authenticator
}

// Hooks observe a Chain. Both are optional.
type Hooks struct {
	// Verdict is told the verdict of the i-th authenticator on each call
	// (the gateway counts them). It must not block.
	Verdict func(i int, v Verdict)
	// Around, when set, is called before the i-th authenticator: it
	// returns the request to hand it (with a span in its context, say)
	// and a function told the verdict once the authenticator answered.
	Around func(r *http.Request, i int) (*http.Request, func(Verdict))
}

// Chain tries authenticators in order. Safe for concurrent use.
type Chain struct {
	names []string
	auths []Authenticator
	hooks Hooks
}

var _ Authenticator = (*Chain)(nil)

// Verdict is what one authenticator of a chain decided.
type Verdict int

// The verdicts, as Chain counts them.
const (
	VerdictOK        Verdict = iota // accepted
	VerdictNone                     // no credentials it reads
	VerdictDenied                   // credentials not valid
	VerdictForbidden                // the user is known and refused
	VerdictError                    // the backend could not decide
	Verdicts                        // the number of verdicts
)

// String is the verdict's name in metrics and spans.
func (v Verdict) String() string {
	return [...]string{"ok", "no_credentials", "denied", "forbidden", "error"}[v]
}

// NewChain returns a chain of links, tried in their order.
func NewChain(links []Link, h Hooks) *Chain {
	c := &Chain{hooks: h}
	for _, l := range links {
		c.names = append(c.names, l.Name)
		c.auths = append(c.auths, l.Authenticator)
	}
	return c
}

// Names returns the links' names, in order.
func (c *Chain) Names() []string { return append([]string(nil), c.names...) }

// Links returns the chain's links, in order (a copy).
func (c *Chain) Links() []Link {
	out := make([]Link, len(c.auths))
	for i, a := range c.auths {
		out[i] = Link{Name: c.names[i], Authenticator: a}
	}
	return out
}

// Authenticate runs the chain: the first authenticator that accepts the
// request wins. One that cannot decide (ErrAuthBackend) or that forbids
// stops the chain at once: failures fail closed, never open. When none
// accepts, the error wraps ErrUnauthenticated and the last cause.
func (c *Chain) Authenticate(r *http.Request) (Principal, error) {
	var last error
	for i, a := range c.auths {
		var p Principal
		var err error
		var end func(Verdict)
		if c.hooks.Around != nil {
			var tr *http.Request
			tr, end = c.hooks.Around(r, i)
			p, err = a.Authenticate(tr)
		} else {
			p, err = a.Authenticate(r)
		}
		v := VerdictOf(err)
		if end != nil {
			end(v)
		}
		if c.hooks.Verdict != nil {
			c.hooks.Verdict(i, v)
		}
		switch v {
		case VerdictOK:
			p.Via = c.names[i]
			return p, nil
		case VerdictError, VerdictForbidden:
			return Principal{}, fmt.Errorf("%s: %w", c.names[i], err)
		case VerdictNone:
			if last == nil {
				last = &namedError{name: c.names[i], err: err}
			}
		default:
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

// VerdictOf is the verdict an authenticator's err stands for.
func VerdictOf(err error) Verdict {
	switch {
	case err == nil:
		return VerdictOK
	case errors.Is(err, ErrAuthBackend):
		return VerdictError
	case errors.Is(err, ErrForbidden):
		return VerdictForbidden
	case errors.Is(err, ErrNoCredentials):
		return VerdictNone
	}
	return VerdictDenied
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
