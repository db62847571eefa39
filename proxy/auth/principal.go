package auth

import (
	"context"
	"fmt"
)

// Principal is an authenticated user.
type Principal struct {
	// Subject identifies the user; it may be empty when an authenticator
	// accepts a request without naming anyone (a forward-auth answer
	// without a subject header).
	Subject string
	// Claims are the session token's claims, when there is one.
	Claims map[string]any
	// Via names the authenticator that accepted the request.
	Via string
}

type principalKey struct{}

// NewContextWithPrincipal returns a copy of ctx holding p.
func NewContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal stored in ctx (by the gateway), and
// whether there is one.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// HasClaim reports whether claim holds value: equal to it as a string, or
// as one element of a list.
func (p Principal) HasClaim(claim, value string) bool {
	switch v := p.Claims[claim].(type) {
	case string:
		return v == value
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok && s == value {
				return true
			}
		}
	case []string:
		for _, s := range v {
			if s == value {
				return true
			}
		}
	case bool, float64:
		return fmt.Sprint(v) == value
	}
	return false
}
