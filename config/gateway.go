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

	"github.com/signgate/signgate/signer"
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
	// whose identity header, X-Forwarded-* and (on /.signgate/auth)
	// X-Original-URI or X-Forwarded-Uri are believed. Default: none.
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
	// the collector off (only sensible with GOMEMLIMIT).
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

// Route is one media prefix: SIGNGATE_ROUTES_<n>_<NAME>.
type Route struct {
	// Name labels the route in metrics and logs; default: its index.
	Name string `env:"NAME"`
	// Prefix is the media path prefix, matched at a "/" boundary.
	Prefix string `env:"PREFIX"`
	// StripPrefix removes Prefix from the path, so /media/v/x.mp4 signs
	// the bucket path /v/x.mp4.
	StripPrefix bool `env:"STRIP_PREFIX"`
	// Bucket and Region give a Qencode media-storage CDN base; CDNBase
	// gives any other. Exactly one of the two forms.
	Bucket  string `env:"BUCKET"`
	Region  string `env:"REGION"`
	CDNBase string `env:"CDN_BASE"`
	// Scheme is the signing scheme, the CDN's URL-signing format:
	// qencode, ed25519, cloudfront or s3 (see docs/cdn.md).
	Scheme string `env:"SCHEME" envDefault:"qencode"`
	// SchemeOptions are the scheme's own settings (gateway_schemes.go).
	SchemeOptions
	// KeyFile is the key: for qencode and cloudfront a PEM private key
	// (PKCS#1 or PKCS#8), for ed25519 a PKCS#8 Ed25519 key, for s3 a file
	// holding the secret access key.
	// KeyID is its id: the kid, CloudFront's key pair (public key) id,
	// or the S3 access key id.
	KeyFile string `env:"KEY_FILE"`
	KeyID   string `env:"KEY_ID"`
	// KeyIDFile, instead of KeyID, is a file holding the kid, reloaded with
	// KeyFile: a new key with a new kid then rotates without a restart
	// (write both, then swap them in at once, as a Kubernetes Secret does).
	KeyIDFile string `env:"KEY_ID_FILE"`
	// TTL is the token lifetime; MinValidity the least validity left on a
	// URL handed out (0: TTL/2).
	TTL         time.Duration `env:"TTL" envDefault:"1h"`
	MinValidity time.Duration `env:"MIN_VALIDITY"`
	// Scope is what a token grants: file, dir or bucket.
	Scope signer.Scope `env:"SCOPE" envDefault:"file"`
	// Public routes skip authentication; their URLs are still signed.
	Public bool `env:"PUBLIC"`
	// Require lists claim=value pairs the principal must hold, all of
	// them (a list claim holding the value counts).
	Require []string `env:"REQUIRE"`
	// RedirectStatus is 302 or 307.
	RedirectStatus int `env:"REDIRECT_STATUS" envDefault:"302"`

	// Streaming is how HLS and DASH work on this route: off, cookie
	// (each redirect also sets the Qencode-Auth-Token cookie for the
	// directory) or manifest (the gateway fetches .m3u8 and .mpd files
	// from the CDN and rewrites every URI in them to a signed URL).
	Streaming string `env:"STREAMING" envDefault:"off"`
	// CookieDomain is the Domain of the cookie in cookie mode: the parent
	// domain shared by the gateway and the CDN, e.g. .example.com. Empty
	// sets a host-only cookie, which reaches a CDN on the gateway's host
	// only (cookies ignore ports).
	CookieDomain string `env:"COOKIE_DOMAIN"`
	// ManifestMaxBytes bounds a manifest fetched in manifest mode; a
	// larger one is answered 502.
	ManifestMaxBytes int64 `env:"MANIFEST_MAX_BYTES" envDefault:"1048576"`
	// ManifestTimeout bounds a manifest request in manifest mode: the wait
	// for a turn under SIGNGATE_MANIFEST_CONCURRENCY (503 past it) and the
	// fetch from the CDN (504 past it) share it.
	ManifestTimeout time.Duration `env:"MANIFEST_TIMEOUT" envDefault:"10s"`
}

// Streaming modes of a route (Route.Streaming).
const (
	StreamingOff      = "off"
	StreamingCookie   = "cookie"
	StreamingManifest = "manifest"
)

// MaxManifestBytes is the largest SIGNGATE_ROUTES_<n>_MANIFEST_MAX_BYTES.
const MaxManifestBytes = 64 << 20

// Lifetime returns the route's token lifetime.
func (r Route) Lifetime() signer.Lifetime {
	return signer.Lifetime{TTL: r.TTL, MinValidity: r.MinValidity}
}

// Base returns the route's CDN base URL.
func (r Route) Base() (signer.Base, error) {
	if r.CDNBase != "" {
		return signer.ParseBase(r.CDNBase)
	}
	return signer.ParseBase(signer.QencodeBase(r.Bucket, r.Region))
}

// Requirement is one parsed claim=value pair of Route.Require.
type Requirement struct{ Claim, Value string }

// Requirements parses Require. Validate has checked it.
func (r Route) Requirements() []Requirement {
	out := make([]Requirement, 0, len(r.Require))
	for _, s := range r.Require {
		k, v, _ := strings.Cut(s, "=")
		out = append(out, Requirement{Claim: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
	}
	return out
}

// MetricsOff is the SIGNGATE_METRICS_LISTEN value that turns metrics off.
const MetricsOff = "off"

// MetricsEnabled reports whether the metrics listener is on.
func (g Gateway) MetricsEnabled() bool { return g.MetricsListen != MetricsOff && g.MetricsListen != "" }

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
			if f, ok := t.FieldByName(pe.Name); ok {
				tag, _, _ := strings.Cut(f.Tag.Get("env"), ",")
				out = append(out, fmt.Errorf("%s%s: %w", prefix, tag, pe.Err))
				continue
			}
		}
		out = append(out, e)
	}
	return out
}
