package signer

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

// A Scheme is one CDN's way of signing a URL: Qencode's RS256 JWT in
// ?auth=, CloudFront's signed URLs and cookies, an S3 presigned GET, and
// so on. The gateway's routes pick one by name (SIGNGATE_ROUTES_<n>_SCHEME,
// default "qencode"); LookupScheme finds it.
//
// The contract, which every scheme keeps:
//
//   - Minting is split from placing. Signer.Mint makes the Token for a
//     Grant and an expiry; that is the costly, cacheable half, and Cache
//     calls it once per (route, signer, grant, time step). Signer.URL and
//     Signer.Cookies put a token into a URL or cookies, cheaply, on every
//     request. A token must therefore depend on (grant, exp) and the
//     signer's own settings only, never on the request: not on the path
//     asked for inside a prefix grant, nor on the client's query. A scheme
//     whose signature covers the exact URL (CloudFront's canned policy, S3
//     SigV4) expresses only exact grants, so that the grant is the file,
//     and drops the client's query (it is not signed).
//   - A Grant is what the gateway's grant rule (proxy/grant.go) decided a
//     token may open, and nothing wider: Path exactly, or with Prefix also
//     everything below Path at a "/" boundary. Path is canonical (see
//     CanonicalPath) and relative to the bucket; "" is the whole bucket
//     (always a prefix). A scheme may open less than the grant (an exact
//     file when Prefix is false, even where Qencode's uri claim covers what
//     lies below a file too), never more: a vendor wildcard is written so
//     that it stops at the "/" boundary ("/v/abc/*", never "/v/abc*").
//   - Caps says what a scheme can express. A scheme without Prefix
//     refuses the dir and bucket scopes and the streaming modes, at start,
//     in Check (ErrSchemeScope); the caller names the variable.
//   - Settings come from the route's configuration (or the CLI). Check
//     validates them without reading a key; New builds the Signer with
//     the key material. An error about one setting is a *SettingError
//     naming it by its suffix (KEY_FILE, CLOUDFRONT_POLICY), which the
//     caller prefixes with SIGNGATE_ROUTES_<n>_. No error, log value or
//     String of a Signer holds key material or a token.
//   - A Signer must be a pointer type: Cache keys its entries on the
//     Signer value, so a reloaded key (a new Signer) never hands out a
//     token of the old one. Signers are safe for concurrent use.
//   - Schemes that verify (the edge, signgate verify) also implement
//     VerifyingScheme.
type Scheme interface {
	// Name is the value of SIGNGATE_ROUTES_<n>_SCHEME: lower case, such
	// as "qencode" or "cloudfront".
	Name() string
	// Caps says what the scheme can express and where its token rides.
	Caps() Caps
	// Check validates s without reading key material. It refuses a
	// scope the scheme cannot express (ErrSchemeScope), a streaming mode
	// it cannot serve, and bad or foreign options.
	Check(s Settings) error
	// New returns a Signer for s; s.Key holds the key material.
	New(s Settings) (Signer, error)
}

// Signer is a Scheme bound to one route's settings and key.
type Signer interface {
	// Mint returns a token granting g until exp (the zero Time: the
	// scheme's longest, where it has one). The result must not depend
	// on anything but g, exp and the signer: Cache shares it between
	// requests. A g the scheme cannot express is refused (ErrSchemeScope).
	Mint(g Grant, exp time.Time) (Token, error)
	// URL returns the signed URL for canonical bucket path p, which the
	// grant tok was minted for covers, on the signer's CDN base, with
	// the client's raw query: the parameters the scheme drops (Caps.Drops,
	// or all of them with Caps.DropsQuery) left out, the others kept in
	// order, as Base.URL keeps them. A query that cannot be decoded is
	// refused (ErrQuery). Like Mint's, the result must not depend on
	// anything but its arguments and the signer, which must not change
	// once in use: URLMemo hands it out again for the same arguments.
	URL(p, rawQuery string, tok Token) (string, error)
	// Cookies returns the cookies of cookie mode carrying tok: names and
	// values only (the caller sets Path, Domain, expiry and flags). A
	// scheme without a cookie form returns an error wrapping ErrNoCookies.
	Cookies(tok Token) ([]http.Cookie, error)
	// KeyID names the key for logs and errors (kid, key pair id, key
	// name, access key id): never secret.
	KeyID() string
}

// Token is what Mint made: the parameters that ride in the URL, in order.
// Values are written as they stand in a query (escaped where needed),
// since most schemes' values are URL-safe already and a cache hit should
// cost no escaping. A path-form scheme keeps its path part here too,
// under a name of its own, and places it in URL.
type Token struct {
	Params []Param
}

// Param is one name=value of a Token.
type Param struct {
	Name, Value string
}

// Get returns the value of the first parameter named name, or "".
func (t Token) Get(name string) string {
	for _, p := range t.Params {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// Grant is what a token may open: Path, and with Prefix everything below
// it at a "/" boundary. Path is a canonical bucket path, or "" for the
// whole bucket (which is always a prefix grant).
type Grant struct {
	Path   string
	Prefix bool
}

// URI returns the Qencode uri claim for g: Path ("" is the bucket).
func (g Grant) URI() string { return g.Path }

// Covers reports whether g opens canonical path p, by the rule of the uri
// claim (Covers) for a prefix grant, and equality for an exact one.
func (g Grant) Covers(p string) bool {
	if g.Prefix || g.Path == "" {
		return Covers(g.Path, p)
	}
	return g.Path == p
}

// Caps describes a Scheme.
type Caps struct {
	// Exact: a grant of one file. Every scheme has it.
	Exact bool
	// Prefix: a grant of a directory and everything below it, needed by
	// the dir and bucket scopes, cookie mode and manifest mode.
	Prefix bool
	// Wildcard: the vendor writes a prefix grant as a wildcard ("/dir/*").
	Wildcard bool
	// Cookies: the scheme has a cookie form, for cookie mode.
	Cookies bool
	// Rides says where the token goes: "query", "cookie", "path", or
	// several, for docs/cdn.md and signgate sign.
	Rides []string
	// Drops names the query parameters taken out of the client's query
	// (the scheme's own, which a client must not smuggle in).
	Drops []string
	// DropsQuery: the client's whole query is dropped (its signature
	// covers the exact URL, and a token must not depend on the request).
	DropsQuery bool
	// MaxTTL bounds the token lifetime, 0 for no bound (S3: 7 days).
	MaxTTL time.Duration
	// KeyIDOptional: KEY_ID may be left empty (the tokens name no key,
	// as Bunny's). By default KEY_ID (or KEY_ID_FILE) is required.
	KeyIDOptional bool
}

// Settings are a route's signing settings, the scheme's share of
// config.Route. Key is secret: it never reaches a log or an error.
type Settings struct {
	// Base is the CDN (or S3 endpoint) base URL that signed URLs are
	// built on.
	Base Base
	// KeyID is the id the vendor knows the key by: kid (qencode),
	// key pair id (cloudfront), access key id (s3), key name (google).
	KeyID string
	// Key is the key material: the key file's bytes (a PEM private key,
	// or a shared secret). Empty for Check.
	Key []byte
	// Bucket and Region: the bucket and its region (s3, qencode).
	Bucket, Region string
	// Scope is the route's scope; Streaming its streaming mode ("off",
	// "cookie" or "manifest"). Check refuses what the scheme cannot do.
	Scope     Scope
	Streaming string
	// TTL is the route's token lifetime, for Caps.MaxTTL.
	TTL time.Duration
	// Options are the scheme's own settings, by variable suffix: for
	// SIGNGATE_ROUTES_<n>_CLOUDFRONT_POLICY the key CLOUDFRONT_POLICY.
	// Empty values are left out. A scheme refuses options of another
	// scheme's (their names start with another scheme's prefix).
	Options map[string]string
}

// LogValue implements slog.LogValuer: the key never reaches a log.
func (s Settings) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base", s.Base.String()), slog.String("key_id", s.KeyID), slog.String("key", "REDACTED"))
}

// String describes s without its key.
func (s Settings) String() string {
	return fmt.Sprintf("signing settings (base %s, key id %q, key REDACTED)", s.Base, s.KeyID)
}

// SettingError is a bad setting, named by its variable suffix (KEY_FILE,
// SCOPE, CLOUDFRONT_POLICY).
type SettingError struct {
	Setting string
	Err     error
}

func (e *SettingError) Error() string { return e.Setting + ": " + e.Err.Error() }
func (e *SettingError) Unwrap() error { return e.Err }

// settingErr returns a *SettingError for setting, its message formatted.
func settingErr(setting string, kind error, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	if kind != nil {
		err = fmt.Errorf("%w: %w", kind, err)
	}
	return &SettingError{Setting: setting, Err: err}
}

// Scheme errors.
var (
	// ErrSchemeScope: the scheme cannot express the scope asked for.
	ErrSchemeScope = errors.New("the signing scheme cannot express this scope")
	// ErrNoCookies: the scheme has no cookie form.
	ErrNoCookies = errors.New("the signing scheme has no signed cookies")
	// ErrUnknownScheme: no scheme of that name.
	ErrUnknownScheme = errors.New("unknown signing scheme")
)

// DefaultScheme is the scheme of a route that names none.
const DefaultScheme = "qencode"

// Schemes returns every scheme signgate knows, in the order docs/cdn.md
// lists them. The list is made afresh on each call.
func Schemes() []Scheme {
	return []Scheme{
		Qencode{},
		Ed25519{},
		CloudFront{},
		S3{},
		Google{},
		MediaCDN{},
		Akamai{},
		Bunny{},
	}
}

// SchemeNames returns the names of Schemes, in order.
func SchemeNames() []string {
	var out []string
	for _, s := range Schemes() {
		out = append(out, s.Name())
	}
	return out
}

// LookupScheme returns the scheme called name ("" is DefaultScheme), or
// an error wrapping ErrUnknownScheme that lists the known ones.
func LookupScheme(name string) (Scheme, error) {
	if name == "" {
		name = DefaultScheme
	}
	for _, s := range Schemes() {
		if s.Name() == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%w %q, want one of %v", ErrUnknownScheme, name, SchemeNames())
}

// CheckCaps is the part of Scheme.Check every scheme shares: the scope
// and streaming mode against caps, and TTL against MaxTTL. Errors are
// *SettingError naming SCOPE, STREAMING or TTL.
func CheckCaps(name string, caps Caps, s Settings) error {
	var errs []error
	if !caps.Prefix && s.Scope != ScopeFile {
		errs = append(errs, settingErr("SCOPE", ErrSchemeScope, "scheme %s signs one file per URL; scope %s needs a directory grant, use file", name, s.Scope))
	}
	switch s.Streaming {
	case "", "off":
	case "cookie":
		if !caps.Cookies || !caps.Prefix {
			errs = append(errs, settingErr("STREAMING", ErrSchemeScope, "scheme %s has no directory-scoped signed cookie; cookie mode needs one", name))
		}
	case "manifest":
		if !caps.Prefix {
			errs = append(errs, settingErr("STREAMING", ErrSchemeScope, "scheme %s cannot grant a directory; manifest mode needs one", name))
		}
	}
	if caps.MaxTTL > 0 && s.TTL > caps.MaxTTL {
		errs = append(errs, settingErr("TTL", nil, "%s: scheme %s allows at most %s", s.TTL, name, caps.MaxTTL))
	}
	return errors.Join(errs...)
}

// CheckOptions refuses an option of s that none of names is, naming it.
func CheckOptions(name string, s Settings, names ...string) error {
	var errs []error
	keys := make([]string, 0, len(s.Options))
	for k := range s.Options {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if s.Options[k] != "" && !slices.Contains(names, k) {
			errs = append(errs, settingErr(k, nil, "not a setting of scheme %s", name))
		}
	}
	return errors.Join(errs...)
}

// DropParams returns rawQuery without the parameters named in names (in
// any escaped spelling) and without empty parts, keeping the others in
// order, by the rules of StripAuth.
func DropParams(rawQuery string, names ...string) (string, error) {
	return stripParams(rawQuery, names)
}

// grantOf checks that g is one a scheme with caps can express.
func grantOf(name string, caps Caps, g Grant) error {
	if (g.Prefix || g.Path == "") && !caps.Prefix {
		return fmt.Errorf("%w: scheme %s signs one file, not %q and below", ErrSchemeScope, name, g.Path)
	}
	if g.Path != "" {
		if err := checkPath(g.Path); err != nil {
			return err
		}
	}
	return nil
}

// VerifyingScheme is a Scheme whose tokens can be checked with a public
// key or a shared secret: the edge (for a bucket's extra scheme) and
// signgate verify use it.
type VerifyingScheme interface {
	Scheme
	// NewChecker returns a Checker for s; s.Key holds the public key
	// (PEM) or the shared secret, s.KeyID the id tokens must name.
	NewChecker(s Settings) (Checker, error)
}

// Checker checks signed requests of one scheme. Safe for concurrent use.
type Checker interface {
	// Check verifies the token that req carries for req.Path. Errors
	// wrap this package's sentinels (ErrMissing, ErrMalformed,
	// ErrSignature, ErrExpired, ErrScope, ...), so Reason names them,
	// and never hold the token.
	Check(req Request) (Verified, error)
}

// Request is what a Checker reads of a request.
type Request struct {
	// Path is the canonical bucket path asked for; EscapedPath the path
	// as the client wrote it, for schemes that sign the URL as written.
	Path, EscapedPath string
	// Host is the request's host, for schemes that sign it (CloudFront,
	// S3).
	Host     string
	RawQuery string
	Cookies  []*http.Cookie
	Header   http.Header
	// ClientIP is the client's address, for schemes that bind one.
	ClientIP string
	// Now is the time to check against; the zero Time means time.Now.
	Now time.Time
}

// Verified is what a Checker found in a good token.
type Verified struct {
	KeyID   string
	Grant   Grant
	Expires time.Time // the zero Time: never
}

// signerLog is the LogValue of a Signer: its scheme and key id, never
// its key.
func signerLog(scheme, keyID string) slog.Value {
	return slog.GroupValue(slog.String("scheme", scheme), slog.String("key_id", keyID), slog.String("key", "REDACTED"))
}

// LogValue implements slog.LogValuer: the key never reaches a log.
func (s *QencodeSigner) LogValue() slog.Value {
	name := "qencode"
	if s.Key.Ed25519 != nil {
		name = "ed25519"
	}
	return signerLog(name, s.Key.ID)
}

// LogValue implements slog.LogValuer: the key never reaches a log.
func (s *CloudFrontSigner) LogValue() slog.Value { return signerLog("cloudfront", s.keyID) }

// LogValue implements slog.LogValuer: the secret never reaches a log.
func (s *S3Signer) LogValue() slog.Value { return signerLog("s3", s.keyID) }

// GoString implements fmt.GoStringer, so %#v shows no key either (the
// vendor schemes' signers do the same).
func (s *QencodeSigner) GoString() string { return s.String() }

// GoString implements fmt.GoStringer: no key in %#v.
func (s *CloudFrontSigner) GoString() string { return s.String() }

// GoString implements fmt.GoStringer: no secret in %#v.
func (s *S3Signer) GoString() string { return s.String() }
