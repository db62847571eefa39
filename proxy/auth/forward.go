package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// Forward asks the app, like nginx auth_request: it GETs the check URL
// with the user's Cookie and Authorization headers, X-Original-Method,
// X-Original-URI and X-Forwarded-Uri (the path asked about, without its
// query), and X-Signgate-Grant when the answer will let the gateway hand
// out a token (see ForwardOptions.Target). A 2xx answer
// accepts (the subject comes from a response header), 401 and 3xx (a
// redirect to a login page) deny, 403 forbids; anything else, an error or
// a timeout is ErrAuthBackend, so the request fails closed with 503.
//
// Verdicts are cached for a TTL in an LRU, keyed by a hash of every
// input the verdict depends on: the method, the credentials and the grant
// when there is one, else the path. Errors are never cached. Concurrent
// identical checks are made once. The TTL is checked on read
// (verdict.until), so the cache starts no goroutine: golang-lru's
// expirable LRU starts a cleanup goroutine that nothing can stop. Close
// drops the verdicts.
type Forward struct {
	url           string
	subjectHeader string
	client        *http.Client
	ttl           time.Duration
	now           func() time.Time
	target        func(*http.Request) (path, grant string)
	cache         *lru.Cache[[sha256.Size]byte, verdict]
	group         singleflight.Group
}

var _ Authenticator = (*Forward)(nil)

// GrantHeader names, in a forward-auth check, the gateway path that the
// token handed out on a yes will open (ForwardOptions.Target).
const GrantHeader = "X-Signgate-Grant"

// verdict is a cached answer of the check URL.
type verdict struct {
	subject string
	err     error // nil, ErrUnauthenticated or ErrForbidden
	until   time.Time
}

// ForwardOptions configure NewForward.
type ForwardOptions struct {
	URL           string        // the check URL
	SubjectHeader string        // response header naming the subject
	TTL           time.Duration // how long a verdict is cached
	Timeout       time.Duration // bounds one check
	CacheSize     int           // verdicts kept; 0 or less: defaultForwardCacheSize
	Transport     http.RoundTripper
	Now           func() time.Time
	// Target names what the check about r asks: the path (escaped, as
	// X-Original-URI and X-Forwarded-Uri carry it) and the grant, the
	// path that the token handed out on a yes will open, as
	// X-Signgate-Grant carries it: a file, or a directory ending in "/"
	// that grants everything below it. An app that answers yes
	// authorizes the whole grant. Requests with one grant, method and
	// credentials share a verdict, so that an HLS player's segments cost
	// one check per directory, not one per segment. The gateway gives the
	// canonical path, re-escaped, and grant's claim (proxy's checkTarget). nil, or
	// "" for a path, asks about r's escaped path; "" for the grant sends
	// no X-Signgate-Grant and keys the verdict by the path.
	Target func(r *http.Request) (path, grant string)
}

// defaultForwardCacheSize bounds the verdict cache when
// ForwardOptions.CacheSize is not positive.
const defaultForwardCacheSize = 10_000

// NewForward returns a forward-auth authenticator. It starts no
// goroutine; Close releases its cache. A gateway takes forward-auth only
// as proxy.Forward, which builds it with the gateway's Target; proxy.New
// refuses a Forward built here.
func NewForward(o ForwardOptions) *Forward {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CacheSize <= 0 {
		o.CacheSize = defaultForwardCacheSize
	}
	cache, err := lru.New[[sha256.Size]byte, verdict](o.CacheSize)
	if err != nil {
		panic(err) // unreachable: the size is positive
	}
	return &Forward{
		url:           o.URL,
		subjectHeader: o.SubjectHeader,
		client: &http.Client{
			Transport: o.Transport,
			Timeout:   o.Timeout,
			// A redirect is the app's answer, not something to follow.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		ttl:    o.TTL,
		now:    o.Now,
		target: o.Target,
		cache:  cache,
	}
}

// Close drops every cached verdict. The Transport is its owner's to
// close. Close is safe to call more than once, and Authenticate still
// works after it (it checks again).
func (a *Forward) Close() error {
	a.cache.Purge()
	return nil
}

// Authenticate implements Authenticator.
func (a *Forward) Authenticate(r *http.Request) (Principal, error) {
	in := a.inputs(r)
	for _, v := range in[3:] {
		if len(v) > maxCredentialBytes*4 {
			return Principal{}, fmt.Errorf("%w: credentials too large", ErrUnauthenticated)
		}
	}
	key := in.key()
	if v, ok := a.cache.Get(key); ok && a.now().Before(v.until) {
		return v.principal()
	}
	res, err, _ := a.group.Do(string(key[:]), func() (any, error) {
		v, err := a.check(r.Context(), in)
		if err != nil {
			return nil, err
		}
		v.until = a.now().Add(a.ttl)
		a.cache.Add(key, v)
		return v, nil
	})
	if err != nil {
		return Principal{}, err
	}
	return res.(verdict).principal()
}

func (v verdict) principal() (Principal, error) {
	if v.err != nil {
		return Principal{}, v.err
	}
	return Principal{Subject: v.subject}, nil
}

// inputs are what the check request carries: method, original URI,
// grant, cookies, authorization.
type inputs [5]string

func (a *Forward) inputs(r *http.Request) inputs {
	var in inputs
	in[0] = r.Method
	if a.target != nil {
		in[1], in[2] = a.target(r)
	}
	if in[1] == "" {
		in[1] = r.URL.EscapedPath()
	}
	for i, v := range r.Header.Values("Cookie") {
		if i > 0 {
			in[3] += "; "
		}
		in[3] += v
	}
	in[4] = r.Header.Get("Authorization")
	return in
}

// key hashes the inputs, with the grant standing for the path when there
// is one (the app authorized the grant), each length-prefixed (and the
// path or grant tagged) so that no two different inputs share a key.
func (in inputs) key() [sha256.Size]byte {
	h := sha256.New()
	for i, s := range in {
		switch {
		case i == 1 && in[2] != "":
			continue
		case i == 1:
			s = "path " + s
		case i == 2 && s != "":
			s = "grant " + s
		}
		fmt.Fprintf(h, "%d:", len(s))
		io.WriteString(h, s)
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// check asks the app. ctx is detached from the caller's cancellation (a
// shared check must not fail because one caller left), the timeout bounds
// it.
func (a *Forward) check(ctx context.Context, in inputs) (verdict, error) {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet, a.url, nil)
	if err != nil {
		return verdict{}, fmt.Errorf("%w: %w", ErrAuthBackend, err)
	}
	req.Header.Set("X-Original-Method", in[0])
	req.Header.Set("X-Original-URI", in[1])
	req.Header.Set("X-Forwarded-Uri", in[1])
	if in[2] != "" {
		req.Header.Set(GrantHeader, in[2])
	}
	if in[3] != "" {
		req.Header.Set("Cookie", in[3])
	}
	if in[4] != "" {
		req.Header.Set("Authorization", in[4])
	}
	resp, err := a.client.Do(req)
	if err != nil {
		var ue interface{ Timeout() bool }
		if errors.As(err, &ue) && ue.Timeout() {
			return verdict{}, fmt.Errorf("%w: check URL timed out", ErrAuthBackend)
		}
		return verdict{}, fmt.Errorf("%w: check URL: %w", ErrAuthBackend, scrub(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return verdict{subject: resp.Header.Get(a.subjectHeader)}, nil
	case c == http.StatusUnauthorized, c >= 300 && c < 400:
		return verdict{err: fmt.Errorf("%w: check URL answered %d", ErrUnauthenticated, c)}, nil
	case c == http.StatusForbidden:
		return verdict{err: fmt.Errorf("%w: check URL answered 403", ErrForbidden)}, nil
	default:
		return verdict{}, fmt.Errorf("%w: check URL answered %d", ErrAuthBackend, c)
	}
}

// scrub drops the URL from a client error: the check URL is configured,
// but keep errors short and free of anything request-borne.
func scrub(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}
