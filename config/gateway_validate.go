package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/signgate/signgate/signer"
)

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
	errs = append(errs, g.TLS.check("TLS_")...)
	if g.ExtAuthzGRPCEnabled() {
		if err := checkAddr(g.ExtAuthzGRPCListen); err != nil {
			add("EXTAUTHZ_GRPC_LISTEN", "%v", err)
		}
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
		if err := checkWebOrigin(o, len(g.CORSOrigins)); err != nil {
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
	if !validGOGC(g.GOGC) {
		add("GOGC", gogcWant, g.GOGC)
	}
	errs = append(errs, g.Manifests.validate()...)
	errs = append(errs, g.Limits.validate()...)
	errs = append(errs, g.validateRoutes()...)
	errs = append(errs, g.validateRouteSpaces()...)
	errs = append(errs, validateShutdown("SHUTDOWN_DELAY", g.ShutdownDelay, "SHUTDOWN_TIMEOUT", g.ShutdownTimeout)...)
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
		if r.KeyJSONFile != "" {
			for _, kv := range [][2]string{{"KEY_FILE", r.KeyFile}, {"KEY_ID", r.KeyID}, {"KEY_ID_FILE", r.KeyIDFile}} {
				if kv[1] != "" {
					add(kv[0], "%[1]s%[2]d_KEY_JSON_FILE holds the kid and the key: give it alone, without %[1]s%[2]d_%[3]s", RoutesPrefix, i, kv[0])
				}
			}
		} else {
			if r.KeyFile == "" {
				add("KEY_FILE", "required (or %s%d_KEY_JSON_FILE, one file with the kid and the key)", RoutesPrefix, i)
			}
			switch {
			case r.KeyID == "" && r.KeyIDFile == "" && !r.keyIDOptional():
				add("KEY_ID", "required (or %s%d_KEY_ID_FILE): the kid of the key in %s%d_KEY_FILE", RoutesPrefix, i, RoutesPrefix, i)
			case r.KeyID != "" && r.KeyIDFile != "":
				add("KEY_ID_FILE", "give %s%d_KEY_ID or %s%d_KEY_ID_FILE, not both", RoutesPrefix, i, RoutesPrefix, i)
			}
		}
		if r.Scheme != "" && r.Scheme != signer.DefaultScheme {
			// The rotation checks of one-file keys and of the JWKS are
			// about Qencode's kid and RSA key pairs.
			if r.KeyJSONFile != "" {
				add("KEY_JSON_FILE", "only for %s%d_SCHEME=%s; give %s%d_KEY_FILE", RoutesPrefix, i, signer.DefaultScheme, RoutesPrefix, i)
			}
			if r.JWKSURL != "" {
				add("JWKS_URL", "only for %s%d_SCHEME=%s", RoutesPrefix, i, signer.DefaultScheme)
			}
		}
		if r.StreamID != "" && r.Scheme != "" && r.Scheme != signer.DefaultScheme && r.Scheme != "ed25519" {
			add("SCHEME", "%q: a live stream's route signs for a signgate edge, which verifies qencode or ed25519 tokens", r.Scheme)
		}
		if r.JWKSURL != "" {
			if err := checkHTTPURL(r.JWKSURL); err != nil {
				add("JWKS_URL", "%v", err)
			}
		}
		if r.JWKSTimeout < 100*time.Millisecond || r.JWKSTimeout > time.Minute {
			add("JWKS_TIMEOUT", "%v: want 100ms to 1m", r.JWKSTimeout)
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
		errs = append(errs, r.validateStreaming(i)...)
		errs = append(errs, r.validateLive(i)...)
		errs = append(errs, r.validateScheme(i)...)
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
