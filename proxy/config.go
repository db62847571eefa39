package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/proxy/auth"
	"github.com/signgate/signgate/signer"
)

// Config is what New builds a gateway from: the routes and the gateway's
// own settings. It reads no environment; cmd/signgate's adapter fills it
// from config.Gateway (the environment), and an embedding program
// fills it itself. Authenticators and in-memory keys come in Options and
// Route.
type Config struct {
	// Routes are the media prefixes.
	Routes []Route
	// Upstream is the app every non-media path is passed to; empty
	// answers 404 for them.
	Upstream string
	// UpstreamIdentity authenticates pass-through requests (never
	// requiring it) so that the subject reaches the app in SubjectHeader.
	UpstreamIdentity bool
	// UpstreamTimeout bounds the wait for the upstream's response
	// headers, on the transport New makes. 0: none.
	UpstreamTimeout time.Duration
	// SubjectHeader carries the subject to the upstream; clients' copies
	// are always stripped. Default: X-Signgate-Subject.
	SubjectHeader string
	// AuthHeader is the identity header a trusted proxy sets (auth.Header),
	// stripped from everyone else's requests before the upstream.
	AuthHeader string
	// TrustedProxies are the proxies whose identity header, X-Forwarded-*
	// and X-Original-* are believed. Empty trusts nobody.
	TrustedProxies []netip.Prefix
	// LoginURL is where unauthenticated browsers are sent, with the path
	// to come back to in LoginReturnParam (default return_to); empty
	// answers 401.
	LoginURL, LoginReturnParam string
	// CacheSize bounds the token cache, in entries. Default: 100000.
	CacheSize int
	// CORSOrigins, CORSHeaders and CORSMaxAge are the CORS rules of media
	// paths and /.signgate/ endpoints.
	CORSOrigins, CORSHeaders []string
	CORSMaxAge               time.Duration
	// AccessLog writes one line per request to Options.Log.
	AccessLog bool
	// WatchKeys reloads key files when they change on disk.
	WatchKeys bool
	// ManifestConcurrency bounds the manifests rewritten at once; it must
	// be positive when a route is in manifest mode.
	ManifestConcurrency int
	// BodyTimeout, BodyIdleTimeout, BodyMinRate and BodyRateWindow bound
	// request bodies, as config.Limits describes.
	BodyTimeout, BodyIdleTimeout, BodyRateWindow time.Duration
	BodyMinRate                                  int64
}

// Route is one media prefix. Its settings are config.Route's (prefix, CDN
// base, scheme, lifetime, access rule, streaming), checked as New builds
// it. Its key comes from one source: Key, held in memory, or else the
// files the settings name (KeyFile with KeyID or KeyIDFile, or
// KeyJSONFile), which Reload and the watcher read again.
type Route struct {
	config.Route
	// Key is the route's qencode signing key, held in memory: never
	// reloaded, and the key files must be empty. Nil: the key files.
	Key *signer.SigningKey
}

// SettingError is a setting that New refuses: Setting is its name as in
// config (KEY_FILE, CDN_BASE, CACHE_SIZE, ...), of route Route, or of the
// gateway when Route is -1. cmd/signgate turns it into a config.VarError
// naming the environment variable.
type SettingError struct {
	Route   int
	Setting string
	Err     error
}

func (e *SettingError) Error() string {
	if e.Route < 0 {
		return e.Setting + ": " + e.Err.Error()
	}
	return fmt.Sprintf("route %d %s: %s", e.Route, e.Setting, e.Err)
}

func (e *SettingError) Unwrap() error { return e.Err }

// settingErr is a SettingError of the gateway.
func settingErr(setting string, err error) error {
	return &SettingError{Route: -1, Setting: setting, Err: err}
}

// routeErr is a SettingError of route i.
func routeErr(i int, setting string, err error) error {
	return &SettingError{Route: i, Setting: setting, Err: err}
}

// routeErrf is routeErr with a formatted error.
func routeErrf(i int, setting, format string, a ...any) error {
	return routeErr(i, setting, fmt.Errorf(format, a...))
}

// Names name settings in messages that are not a SettingError: key
// reloads, which name several in one sentence, and the front doors' 400
// for an untrusted proxy. route is -1 for a gateway setting.
// Options.Names sets it; the default says "route 0 KEY_FILE" and
// "TRUSTED_PROXIES".
type Names func(route int, setting string) string

func defaultNames(route int, setting string) string {
	if route < 0 {
		return setting
	}
	return fmt.Sprintf("route %d %s", route, setting)
}

// Forward returns a chain link that New turns into the app's forward-auth
// check (auth.NewForward) under name: New sets o.Target to the gateway's
// own (the grant, grant.go) and, when o.Transport is nil, the transport
// of Options.Transport. The gateway closes it. A principal it accepts is
// authorized for the grant alone, and pass-through identity skips it.
func Forward(name string, o auth.ForwardOptions) auth.Link {
	return auth.Link{Name: name, Authenticator: &forwardLink{o: o}}
}

// forwardLink stands for a forward-auth check until New builds it.
type forwardLink struct{ o auth.ForwardOptions }

func (*forwardLink) Authenticate(*http.Request) (auth.Principal, error) {
	return auth.Principal{}, fmt.Errorf("%w: a proxy.Forward link outside a gateway", auth.ErrAuthBackend)
}

// schemeErrors turns an error of a signer.Scheme about route i into
// SettingErrors, one per setting (config.SchemeSetting).
func schemeErrors(i int, err error) error {
	var out []error
	for _, e := range config.Leaves(err) {
		setting, cause := config.SchemeSetting(e)
		out = append(out, routeErr(i, setting, cause))
	}
	return errors.Join(out...)
}

// routeSpaces refuses a route table whose access rules would not hold
// (config.Gateway.CheckRouteSpaces, the one home of that rule): a key
// held in memory counts by its kid, as KEY_ID does.
func routeSpaces(rs []Route) error {
	g := config.Gateway{Routes: make([]config.Route, len(rs))}
	for i, r := range rs {
		g.Routes[i] = r.Route
		if r.Key != nil {
			g.Routes[i].KeyID = r.Key.ID
		}
	}
	return g.CheckRouteSpaces()
}
