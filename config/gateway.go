package config

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Authenticator names accepted in SIGNGATE_AUTH.
const (
	AuthHeader  = "header"
	AuthJWT     = "jwt"
	AuthForward = "forward"
)

// RoutesPrefix starts every route variable: SIGNGATE_ROUTES_<n>_<NAME>.
const RoutesPrefix = Prefix + "ROUTES_"

// Gateway configures "signgate gateway". Load it with LoadGateway, which
// also checks the route variables themselves (gaps, unknown names).
type Gateway struct {
	// Listen is the address of the gateway listener.
	Listen string `env:"LISTEN" envDefault:":8080"`
	// MetricsListen is the address of the /metrics listener; "off" turns
	// it off (an empty value means the default, as for every variable).
	MetricsListen string `env:"METRICS_LISTEN" envDefault:"127.0.0.1:9090"`
	// ExtAuthzGRPCListen is the address of the Envoy ext_authz gRPC
	// listener (envoy.service.auth.v3.Authorization/Check, plaintext
	// HTTP/2); empty turns it off.
	ExtAuthzGRPCListen string `env:"EXTAUTHZ_GRPC_LISTEN"`
	// TLS serves the gateway listener over TLS, SIGNGATE_TLS_*.
	TLS TLS `envPrefix:"TLS_"`
	// Upstream is the app every non-media path is passed to; empty answers
	// 404 for them.
	Upstream string `env:"UPSTREAM"`
	// UpstreamIdentity authenticates pass-through requests (never
	// requiring it) so that the subject reaches the app in SubjectHeader.
	UpstreamIdentity bool `env:"UPSTREAM_IDENTITY" envDefault:"true"`
	// SubjectHeader carries the authenticated subject to the upstream and
	// in answers of /.signgate/auth. Clients' copies are always stripped.
	SubjectHeader string `env:"SUBJECT_HEADER" envDefault:"X-Signgate-Subject"`

	// Routes are the media prefixes, SIGNGATE_ROUTES_0_*, _1_, ...
	Routes []Route `envPrefix:"ROUTES_"`

	// TrustedProxies are the CIDRs (or single addresses) of the proxies
	// whose identity header, X-Forwarded-* and (on the check endpoints)
	// X-Original-URI, X-Original-URL, X-Forwarded-Uri and the original
	// method are believed; the gRPC peer of the ext_authz check counts as
	// a proxy. Default: none.
	TrustedProxies []string `env:"TRUSTED_PROXIES"`
	// Auth lists the authenticators, tried in order: header, jwt, forward.
	Auth []string `env:"AUTH"`
	// AuthHeader is the trusted identity header of the header
	// authenticator.
	AuthHeader string `env:"AUTH_HEADER" envDefault:"X-Forwarded-User"`

	// JWTCookie names the cookie holding a session JWT; an
	// Authorization: Bearer token is always looked at first.
	JWTCookie string `env:"JWT_COOKIE"`
	// JWTSecret is an HMAC key (HS256/384/512), at least 32 bytes.
	JWTSecret Secret `env:"JWT_SECRET"`
	// JWTPublicKeyFile is a PEM public key: RSA, ECDSA or Ed25519.
	JWTPublicKeyFile string `env:"JWT_PUBLIC_KEY_FILE"`
	// JWTJWKSURL is a JWK Set URL, fetched at start and refreshed.
	JWTJWKSURL string `env:"JWT_JWKS_URL"`
	// JWTAlgorithms pins the accepted algorithms; the default follows the
	// key: HS256, RS256, ES256/384/512 by curve, EdDSA; RS256 for JWKS.
	JWTAlgorithms []string `env:"JWT_ALGORITHMS"`
	// JWTIssuer and JWTAudience are checked when set.
	JWTIssuer   string `env:"JWT_ISSUER"`
	JWTAudience string `env:"JWT_AUDIENCE"`
	// JWTSubjectClaim names the claim holding the subject.
	JWTSubjectClaim string `env:"JWT_SUBJECT_CLAIM" envDefault:"sub"`
	// JWTLeeway is the clock skew tolerated on exp, nbf and iat.
	JWTLeeway time.Duration `env:"JWT_LEEWAY" envDefault:"30s"`
	// JWKSRefresh is how often the JWK Set is fetched again.
	JWKSRefresh time.Duration `env:"JWT_JWKS_REFRESH" envDefault:"1h"`
	// JWKSUnknownKIDRate bounds refreshes caused by unknown kids: at most
	// one per this interval.
	JWKSUnknownKIDRate time.Duration `env:"JWT_JWKS_UNKNOWN_KID_RATE" envDefault:"1m"`

	// ForwardURL is the app's check URL for forward-auth.
	ForwardURL string `env:"FORWARD_URL"`
	// ForwardSubjectHeader is the response header of the check URL that
	// names the subject.
	ForwardSubjectHeader string `env:"FORWARD_SUBJECT_HEADER" envDefault:"X-Auth-User"`
	// ForwardTTL is how long a verdict is cached.
	ForwardTTL time.Duration `env:"FORWARD_TTL" envDefault:"30s"`
	// ForwardTimeout bounds one check; past it the request gets 503.
	ForwardTimeout time.Duration `env:"FORWARD_TIMEOUT" envDefault:"5s"`
	// ForwardCacheSize bounds the verdict cache, in entries.
	ForwardCacheSize int `env:"FORWARD_CACHE_SIZE" envDefault:"10000"`

	// LoginURL is where unauthenticated browsers are sent: an absolute
	// http(s) URL or a path on this host.
	LoginURL string `env:"LOGIN_URL"`
	// LoginReturnParam is the query parameter of LoginURL that carries the
	// (same-site) path to come back to.
	LoginReturnParam string `env:"LOGIN_RETURN_PARAM" envDefault:"return_to"`

	// CacheSize bounds the token cache, in entries.
	CacheSize int `env:"CACHE_SIZE" envDefault:"100000"`

	// CORSOrigins are the origins (scheme://host[:port]) allowed to call
	// media paths and /.signgate/ endpoints from a browser, with cookies;
	// "*" alone allows any page, without cookies (the edge's rule too).
	CORSOrigins []string `env:"CORS_ORIGINS"`
	// CORSHeaders are the request headers allowed in CORS requests.
	CORSHeaders []string `env:"CORS_HEADERS" envDefault:"Authorization,Range"`
	// CORSMaxAge is how long browsers may cache a preflight answer.
	CORSMaxAge time.Duration `env:"CORS_MAX_AGE" envDefault:"10m"`

	// GOGC is the garbage collector's target percentage, applied unless
	// the GOGC variable itself is set. A resident token cache is mostly
	// live data, so a higher value than Go's 100 saves GC work; -1 turns
	// the collector off (only sensible with GOMEMLIMIT); 0 leaves the
	// runtime's own (Go's 100).
	GOGC int `env:"GOGC" envDefault:"400"`

	// AccessLog writes one JSON line per request (path, status, bytes,
	// duration, peer; never a query, cookie or Authorization). It is
	// about half of a cache-hit redirect's CPU in the handler; turn it off
	// where a load balancer logs already.
	AccessLog bool `env:"ACCESS_LOG" envDefault:"true"`

	// WatchKeys reloads key files when they change on disk.
	WatchKeys bool `env:"WATCH_KEYS" envDefault:"true"`

	// Manifests holds the limits of manifest mode over all routes.
	Manifests
	// Limits bounds connections and request bodies.
	Limits
	// Shutdown says how the gateway drains on SIGTERM.
	Shutdown
}

// MetricsOff is the SIGNGATE_METRICS_LISTEN value that turns metrics off.
const MetricsOff = "off"

// MetricsEnabled reports whether the metrics listener is on.
func (g Gateway) MetricsEnabled() bool { return g.MetricsListen != MetricsOff && g.MetricsListen != "" }

// ExtAuthzGRPCEnabled reports whether the ext_authz gRPC listener is on.
func (g Gateway) ExtAuthzGRPCEnabled() bool { return g.ExtAuthzGRPCListen != "" }

// TrustedPrefixes parses TrustedProxies. Validate has checked it.
func (g Gateway) TrustedPrefixes() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(g.TrustedProxies))
	for _, s := range g.TrustedProxies {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// HasAuth reports whether the named authenticator is configured.
func (g Gateway) HasAuth(name string) bool { return slices.Contains(g.Auth, name) }

// LoadGateway reads the gateway configuration from environ and validates
// it. Beyond Load, it names the variable of every value that does not
// parse, and refuses gaps in route indices, unknown route variables and
// any other SIGNGATE_ name no component reads (SIGNGATE_EDGE_ names are
// the edge's to judge).
// All problems are reported at once.
func LoadGateway(environ map[string]string) (Gateway, error) {
	var errs []error
	top := make(map[string]string, len(environ))
	for k, v := range environ {
		if !strings.HasPrefix(k, RoutesPrefix) {
			top[k] = v
		}
	}
	g, err := env.ParseAsWithOptions[Gateway](env.Options{Environment: top, Prefix: Prefix})
	errs = append(errs, namedParseErrors(err, reflect.TypeFor[Gateway](), Prefix)...)
	// The edge judges its own SIGNGATE_EDGE_ names, routeCount the
	// route variables.
	errs = append(errs, unknownVars(environ, func(k string) bool {
		return strings.HasPrefix(k, Prefix) && !strings.HasPrefix(k, Prefix+"EDGE_") && !strings.HasPrefix(k, RoutesPrefix)
	})...)

	n, err := routeCount(environ)
	if err != nil {
		errs = append(errs, err)
	}
	g.Routes = make([]Route, n)
	for i := range n {
		p := fmt.Sprintf("%s%d_", RoutesPrefix, i)
		r, err := env.ParseAsWithOptions[Route](env.Options{Environment: environ, Prefix: p})
		errs = append(errs, namedParseErrors(err, reflect.TypeFor[Route](), p)...)
		g.Routes[i] = r
	}
	if len(errs) > 0 {
		return g, fmt.Errorf("configuration:\n%w", errors.Join(errs...))
	}
	if err := g.Validate(); err != nil {
		return g, fmt.Errorf("configuration:\n%w", err)
	}
	return g, nil
}

// routeVar matches SIGNGATE_ROUTES_<n>_<NAME>.
var routeVar = regexp.MustCompile(`^` + RoutesPrefix + `(0|[1-9][0-9]{0,3})_([A-Z0-9_]+)$`)

// routeCount returns how many routes environ defines, and an error naming
// each variable that is unknown or leaves a gap in the indices.
func routeCount(environ map[string]string) (int, error) {
	known := map[string]bool{}
	for _, name := range VarNames(reflect.TypeFor[Route](), "") {
		known[name] = true
	}
	var errs []error
	byIndex := map[int][]string{}
	names := make([]string, 0)
	for k := range environ {
		if strings.HasPrefix(k, RoutesPrefix) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		m := routeVar.FindStringSubmatch(k)
		if m == nil {
			errs = append(errs, fmt.Errorf("%s: not a route variable; want %s<n>_<NAME> with n = 0, 1, 2, ...", k, RoutesPrefix))
			continue
		}
		if !known[m[2]] {
			if s := closest(k, knownVars()); strings.HasPrefix(s, RoutesPrefix) {
				errs = append(errs, fmt.Errorf("%s: unknown route setting %s; did you mean %s?", k, m[2], s))
			} else {
				errs = append(errs, fmt.Errorf("%s: unknown route setting %s", k, m[2]))
			}
			continue
		}
		i, _ := strconv.Atoi(m[1])
		byIndex[i] = append(byIndex[i], k)
	}
	n := 0
	for n < len(byIndex) {
		if _, ok := byIndex[n]; !ok {
			break
		}
		n++
	}
	indices := make([]int, 0, len(byIndex))
	for i := range byIndex {
		indices = append(indices, i)
	}
	sort.Ints(indices)
	for _, i := range indices {
		if i >= n {
			errs = append(errs, fmt.Errorf("%s: route %d is defined but route %d is not; route indices must run 0, 1, 2, ... without gaps", byIndex[i][0], i, n))
		}
	}
	return n, errors.Join(errs...)
}

// namedParseErrors rewrites env's parse errors, which name Go fields, to
// name the variable instead.
func namedParseErrors(err error, t reflect.Type, prefix string) []error {
	if err == nil {
		return nil
	}
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return []error{err}
	}
	out := make([]error, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			if name := varOf(t, pe.Name); name != "" {
				out = append(out, fmt.Errorf("%s%s: %w", prefix, name, pe.Err))
				continue
			}
		}
		out = append(out, e)
	}
	return out
}
