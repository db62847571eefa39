package auth

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"golang.org/x/time/rate"
)

// JWKS is a JWK Set fetched from a URL and kept fresh, for NewJWT: it is
// refreshed periodically and, at a bounded rate, when a token names a kid
// it does not hold. Safe for concurrent use; Close stops the refreshing.
type JWKS struct {
	keyfunc keyfunc.Keyfunc
	health  *jwksHealth
	cancel  context.CancelFunc
}

// JWKSOption configures NewJWKS.
type JWKSOption func(*jwksOptions)

type jwksOptions struct {
	refresh    time.Duration
	unknownKID time.Duration
	log        *slog.Logger
}

// JWKSRefresh sets how often the set is fetched again. Default: an hour.
func JWKSRefresh(d time.Duration) JWKSOption { return func(o *jwksOptions) { o.refresh = d } }

// JWKSUnknownKIDRate bounds the refreshes caused by unknown kids: at most
// one per d. Default: a minute.
func JWKSUnknownKIDRate(d time.Duration) JWKSOption {
	return func(o *jwksOptions) { o.unknownKID = d }
}

// JWKSLog receives the failed refreshes. Default (and nil): discard.
func JWKSLog(l *slog.Logger) JWKSOption {
	return func(o *jwksOptions) {
		if l != nil {
			o.log = l
		}
	}
}

// jwksWaitMax bounds what a request spends on a token with an unknown
// kid: waiting for the refresh rate limit and fetching the JWKS.
const jwksWaitMax = time.Second

// jwksTimeout bounds one fetch when the client sets no Timeout.
const jwksTimeout = 10 * time.Second

// NewJWKS fetches the JWK Set at url once now (a set that cannot be
// fetched is an error) and keeps it fresh until ctx ends or Close. Every
// fetch goes through c: its Transport (nil: http.DefaultTransport) and
// its Timeout (0: ten seconds). c nil is a default client.
func NewJWKS(ctx context.Context, url string, c *http.Client, opts ...JWKSOption) (*JWKS, error) {
	o := jwksOptions{refresh: time.Hour, unknownKID: time.Minute, log: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	client := &http.Client{}
	if c != nil {
		*client = *c
	}
	next := client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	if client.Timeout <= 0 {
		client.Timeout = jwksTimeout
	}
	health := &jwksHealth{next: next}
	client.Transport = health
	ctx, cancel := context.WithCancel(ctx)
	noErrorFirst := false
	k, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{url}, keyfunc.Override{
		Client:                    client,
		HTTPTimeout:               client.Timeout,
		NoErrorReturnFirstHTTPReq: &noErrorFirst,
		RefreshInterval:           o.refresh,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(o.unknownKID), 1),
		// On an unknown kid, jwkset waits for the rate limiter and then
		// fetches, both under one deadline of RateLimitWaitMax (0 would
		// mean its default, a minute). The limiter refuses at once when
		// the next refresh is allowed later than the deadline, so a
		// request waits at most jwksWaitMax in all; past it, the kid is
		// unknown.
		RateLimitWaitMax: jwksWaitMax,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				o.log.WarnContext(ctx, "JWKS refresh failed; keeping the keys already fetched", "url", u, "err", err.Error())
			}
		},
	})
	if err != nil {
		cancel()
		return nil, err
	}
	return &JWKS{keyfunc: k, health: health, cancel: cancel}, nil
}

// Close stops refreshing the set; the keys fetched stay usable. Safe to
// call more than once.
func (k *JWKS) Close() error {
	k.cancel()
	return nil
}

// jwksHealth watches the JWKS fetches, periodic and on an unknown kid:
// down from a fetch that fails until one succeeds.
type jwksHealth struct {
	next http.RoundTripper
	down atomic.Bool
}

func (h *jwksHealth) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.next.RoundTrip(r)
	h.down.Store(err != nil || resp.StatusCode != http.StatusOK)
	return resp, err
}
