package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
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
	// MetricsListen is the address of the /metrics listener; empty
	// disables it.
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
	// whose identity header and X-Forwarded-* are believed. Default: none.
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
	// media paths and /.signgate/ endpoints from a browser.
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
	// KeyFile is the PEM private key (PKCS#1 or PKCS#8); KeyID its kid.
	KeyFile string `env:"KEY_FILE"`
	KeyID   string `env:"KEY_ID"`
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
}

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
// parse, and refuses gaps in route indices and unknown route variables.
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
	t := reflect.TypeFor[Route]()
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("env"), ","); tag != "" {
			known[tag] = true
		}
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
			errs = append(errs, fmt.Errorf("%s: unknown route setting %s", k, m[2]))
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

// Validate checks the whole configuration and returns every problem
// found, each naming its variable.
func (g Gateway) Validate() error {
	var errs []error
	add := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: %s", Prefix, name, fmt.Sprintf(format, args...)))
	}
	if g.Listen == "" {
		add("LISTEN", "must not be empty")
	}
	if g.Upstream != "" {
		if err := checkHTTPURL(g.Upstream); err != nil {
			add("UPSTREAM", "%v", err)
		}
	}
	if !validHeaderName(g.SubjectHeader) {
		add("SUBJECT_HEADER", "%q is not a valid header name", g.SubjectHeader)
	}
	for i, s := range g.TrustedProxies {
		if _, err := parsePrefix(s); err != nil {
			add("TRUSTED_PROXIES", "entry %d, %q: not an IP address or CIDR", i, s)
		}
	}
	seen := map[string]bool{}
	for _, a := range g.Auth {
		switch a {
		case AuthHeader, AuthJWT, AuthForward:
		default:
			add("AUTH", "unknown authenticator %q, want header, jwt or forward", a)
		}
		if seen[a] {
			add("AUTH", "%q is listed twice", a)
		}
		seen[a] = true
	}
	if g.HasAuth(AuthHeader) {
		if !validHeaderName(g.AuthHeader) {
			add("AUTH_HEADER", "%q is not a valid header name", g.AuthHeader)
		}
		if len(g.TrustedProxies) == 0 {
			add("TRUSTED_PROXIES", "empty, so the header authenticator would trust nobody; list the proxies that set %s", g.AuthHeader)
		}
		if headerKey(g.AuthHeader) == headerKey(g.SubjectHeader) {
			add("SUBJECT_HEADER", "must differ from %sAUTH_HEADER", Prefix)
		}
	}
	if g.HasAuth(AuthJWT) {
		errs = append(errs, g.validateJWT()...)
	}
	if g.HasAuth(AuthForward) {
		if g.ForwardURL == "" {
			add("FORWARD_URL", "required by the forward authenticator")
		} else if err := checkHTTPURL(g.ForwardURL); err != nil {
			add("FORWARD_URL", "%v", err)
		}
		if !validHeaderName(g.ForwardSubjectHeader) {
			add("FORWARD_SUBJECT_HEADER", "%q is not a valid header name", g.ForwardSubjectHeader)
		}
		if g.ForwardTTL <= 0 {
			add("FORWARD_TTL", "must be positive")
		}
		if g.ForwardTimeout <= 0 {
			add("FORWARD_TIMEOUT", "must be positive")
		}
		if g.ForwardCacheSize <= 0 {
			add("FORWARD_CACHE_SIZE", "must be positive")
		}
	}
	if g.LoginURL != "" {
		if err := checkLoginURL(g.LoginURL); err != nil {
			add("LOGIN_URL", "%v", err)
		}
		if g.LoginReturnParam == "" {
			add("LOGIN_RETURN_PARAM", "must not be empty")
		}
	}
	if g.CacheSize <= 0 {
		add("CACHE_SIZE", "must be positive")
	}
	for _, o := range g.CORSOrigins {
		if err := checkCORSOrigin(o); err != nil {
			add("CORS_ORIGINS", "%v", err)
		}
	}
	for _, h := range g.CORSHeaders {
		if !validHeaderName(h) {
			add("CORS_HEADERS", "%q is not a valid header name", h)
		}
	}
	if g.CORSMaxAge < 0 {
		add("CORS_MAX_AGE", "must not be negative")
	}
	if g.GOGC != -1 && g.GOGC < 25 {
		add("GOGC", "%d: want -1 (off) or at least 25", g.GOGC)
	}
	errs = append(errs, g.validateRoutes()...)
	return errors.Join(errs...)
}

func (g Gateway) validateJWT() []error {
	var errs []error
	add := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: %s", Prefix, name, fmt.Sprintf(format, args...)))
	}
	sources := 0
	for _, s := range []string{g.JWTSecret.Reveal(), g.JWTPublicKeyFile, g.JWTJWKSURL} {
		if s != "" {
			sources++
		}
	}
	if sources != 1 {
		add("JWT_SECRET", "the jwt authenticator needs exactly one of %[1]sJWT_SECRET, %[1]sJWT_PUBLIC_KEY_FILE or %[1]sJWT_JWKS_URL (%[2]d given)", Prefix, sources)
	}
	if s := g.JWTSecret.Reveal(); s != "" && len(s) < 32 {
		add("JWT_SECRET", "too short: an HMAC key needs at least 32 bytes")
	}
	if g.JWTJWKSURL != "" {
		if err := checkHTTPURL(g.JWTJWKSURL); err != nil {
			add("JWT_JWKS_URL", "%v", err)
		}
		if g.JWKSRefresh < time.Minute {
			add("JWT_JWKS_REFRESH", "at least 1m")
		}
		if g.JWKSUnknownKIDRate <= 0 {
			add("JWT_JWKS_UNKNOWN_KID_RATE", "must be positive")
		}
	}
	for _, a := range g.JWTAlgorithms {
		hmac := strings.HasPrefix(a, "HS")
		switch a {
		case "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA":
		default:
			add("JWT_ALGORITHMS", "unknown or refused algorithm %q", a)
			continue
		}
		if hmac && g.JWTSecret.Reveal() == "" {
			add("JWT_ALGORITHMS", "%s needs %sJWT_SECRET", a, Prefix)
		}
		if !hmac && g.JWTSecret.Reveal() != "" {
			add("JWT_ALGORITHMS", "%s cannot be checked with an HMAC secret", a)
		}
	}
	if g.JWTSubjectClaim == "" {
		add("JWT_SUBJECT_CLAIM", "must not be empty")
	}
	if g.JWTLeeway < 0 || g.JWTLeeway > 10*time.Minute {
		add("JWT_LEEWAY", "want 0 to 10m")
	}
	if g.JWTCookie != "" && !validHeaderName(g.JWTCookie) {
		add("JWT_COOKIE", "%q is not a valid cookie name", g.JWTCookie)
	}
	return errs
}

var (
	routeBucketName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	routeRegionName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$`)
)

func (g Gateway) validateRoutes() []error {
	var errs []error
	if len(g.Routes) == 0 {
		errs = append(errs, fmt.Errorf("%s0_PREFIX: no route configured; the gateway needs at least one media prefix", RoutesPrefix))
	}
	prefixes := map[string]int{}
	names := map[string]int{}
	needAuth := false
	for i, r := range g.Routes {
		add := func(name, format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s%d_%s: %s", RoutesPrefix, i, name, fmt.Sprintf(format, args...)))
		}
		name := r.Name
		if name == "" {
			name = strconv.Itoa(i)
		}
		if j, dup := names[name]; dup {
			add("NAME", "%q is also the name of route %d", name, j)
		}
		names[name] = i
		switch p := NormalizePrefix(r.Prefix); {
		case r.Prefix == "":
			add("PREFIX", "required")
		case !strings.HasPrefix(r.Prefix, "/"):
			add("PREFIX", "%q must start with /", r.Prefix)
		case p != "/" && !canonical(p):
			add("PREFIX", "%q is not a canonical path", r.Prefix)
		case p == "/.signgate" || strings.HasPrefix(p, "/.signgate/") || p == "/healthz" || p == "/readyz":
			add("PREFIX", "%q is reserved for the gateway's own endpoints", r.Prefix)
		default:
			if j, dup := prefixes[p]; dup {
				add("PREFIX", "%q is also the prefix of route %d", r.Prefix, j)
			}
			prefixes[p] = i
		}
		switch {
		case r.CDNBase != "" && (r.Bucket != "" || r.Region != ""):
			add("CDN_BASE", "give either %[1]s%[2]d_CDN_BASE or %[1]s%[2]d_BUCKET with _REGION, not both", RoutesPrefix, i)
		case r.CDNBase != "":
			if _, err := signer.ParseBase(r.CDNBase); err != nil {
				add("CDN_BASE", "%v", err)
			}
		case r.Bucket == "" && r.Region == "":
			add("BUCKET", "a CDN is required: %[1]s%[2]d_BUCKET with _REGION, or %[1]s%[2]d_CDN_BASE", RoutesPrefix, i)
		default:
			if !routeBucketName.MatchString(r.Bucket) {
				add("BUCKET", "%q is not a valid bucket name", r.Bucket)
			}
			if !routeRegionName.MatchString(r.Region) {
				add("REGION", "%q is not a valid region, e.g. us-west or eu-central", r.Region)
			}
		}
		if r.KeyFile == "" {
			add("KEY_FILE", "required")
		}
		if r.KeyID == "" {
			add("KEY_ID", "required: the kid of the key in %s%d_KEY_FILE", RoutesPrefix, i)
		}
		if err := r.Lifetime().Validate(); err != nil {
			v := "TTL"
			if r.MinValidity != 0 {
				v = "MIN_VALIDITY"
			}
			add(v, "%v", err)
		}
		for _, s := range r.Require {
			k, _, ok := strings.Cut(s, "=")
			if !ok || strings.TrimSpace(k) == "" {
				add("REQUIRE", "%q: want claim=value", s)
			}
		}
		if r.Public && len(r.Require) > 0 {
			add("REQUIRE", "a public route has no principal to check claims of")
		}
		if !r.Public {
			needAuth = true
		}
		if r.RedirectStatus != 302 && r.RedirectStatus != 307 {
			add("REDIRECT_STATUS", "%d: want 302 or 307", r.RedirectStatus)
		}
	}
	if needAuth && len(g.Auth) == 0 {
		errs = append(errs, fmt.Errorf("%sAUTH: empty, but a route is not public; list authenticators (header, jwt, forward) or set _PUBLIC=true", Prefix))
	}
	return errs
}

// NormalizePrefix returns a route prefix without its trailing "/"
// ("/" stays "/").
func NormalizePrefix(p string) string {
	if len(p) > 1 {
		return strings.TrimRight(p, "/")
	}
	return p
}

func canonical(p string) bool {
	c, err := signer.CanonicalPath(p)
	return err == nil && c == p
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q: want an absolute http or https URL", s)
	}
	if u.User != nil {
		return errors.New("must not hold user info; use a secret variable")
	}
	if u.Fragment != "" {
		return fmt.Errorf("%q: must not have a fragment", s)
	}
	return nil
}

func checkLoginURL(s string) error {
	if strings.HasPrefix(s, "/") {
		if strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") || strings.ContainsAny(s, "\\\t\r\n ") {
			return fmt.Errorf("%q: a path must start with a single / and hold no backslash or space", s)
		}
		return nil
	}
	return checkHTTPURL(s)
}

func checkCORSOrigin(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("%q: want an origin such as https://app.example.com (no * , no path)", s)
	}
	return nil
}

// validHeaderName reports whether s is an HTTP token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// headerKey is a header name as signgate compares identity headers: lower
// case, with "_" and "." read as "-".
func headerKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '_' || r == '.':
			return '-'
		case 'A' <= r && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
