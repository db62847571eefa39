package signer

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Bunny is Bunny CDN's token authentication. Settings: KEY_FILE (the pull
// zone's token authentication key), and the options BUNNY_MODE (hmac, the
// default and the form of Bunny's current libraries; advanced; basic),
// BUNNY_FORM (query, or path: /bcdn_token=…/dir/file, which relative URLs
// in a manifest keep; default path for a prefix grant, query otherwise),
// BUNNY_COUNTRIES and BUNNY_COUNTRIES_BLOCKED (comma-separated codes) and
// BUNNY_LIMIT (kB/s). An exact grant signs the file's path; a prefix
// grant signs token_path=/dir/ (with the slash, so that /dir/ never opens
// /dirx). basic signs one file. The client's query is dropped: Bunny
// signs every parameter. KEY_ID is not used.
type Bunny struct{}

var (
	_ Scheme          = Bunny{}
	_ VerifyingScheme = Bunny{}
	_ Signer          = (*BunnySigner)(nil)
)

const (
	bnMode      = "BUNNY_MODE"
	bnForm      = "BUNNY_FORM"
	bnCountries = "BUNNY_COUNTRIES"
	bnBlocked   = "BUNNY_COUNTRIES_BLOCKED"
	bnLimit     = "BUNNY_LIMIT"
)

// Name implements Scheme.
func (Bunny) Name() string { return "bunny" }

// Caps implements Scheme.
func (Bunny) Caps() Caps {
	return Caps{
		Exact: true, Prefix: true,
		Rides:      []string{"query", "path"},
		Drops:      []string{"token", "expires", "token_path", "token_countries", "token_countries_blocked", "limit", "token_ignore_params"},
		DropsQuery: true, KeyIDOptional: true,
	}
}

type bunnyOptions struct {
	mode               BunnyMode
	form               string
	countries, blocked string
	limit              int
}

func (b Bunny) options(s Settings) (bunnyOptions, error) {
	var o bunnyOptions
	var errs []error
	var err error
	if o.mode, err = ParseBunnyMode(s.Options[bnMode]); err != nil {
		errs = append(errs, settingErr(bnMode, nil, "%q: want hmac, advanced or basic", s.Options[bnMode]))
	}
	switch o.form = s.Options[bnForm]; o.form {
	case "", "query", "path":
	default:
		errs = append(errs, settingErr(bnForm, nil, "%q: want query or path", o.form))
	}
	for _, name := range []string{bnCountries, bnBlocked} {
		for c := range strings.SplitSeq(s.Options[name], ",") {
			if v := s.Options[name]; v != "" && (len(c) != 2 || strings.ToUpper(c) != c) {
				errs = append(errs, settingErr(name, nil, "%q: want two-letter codes such as CA,US", v))
				break
			}
		}
	}
	o.countries, o.blocked = s.Options[bnCountries], s.Options[bnBlocked]
	if v := s.Options[bnLimit]; v != "" {
		if o.limit, err = strconv.Atoi(v); err != nil || o.limit <= 0 {
			errs = append(errs, settingErr(bnLimit, nil, "%q: want a positive number of kB/s", v))
		}
	}
	if o.mode == BunnyBasic {
		if s.Scope != ScopeFile || s.Streaming == "cookie" || s.Streaming == "manifest" {
			errs = append(errs, settingErr("SCOPE", ErrSchemeScope, "%s=basic signs one file; scope %s needs advanced or hmac", bnMode, s.Scope))
		}
		if o.countries != "" || o.blocked != "" || o.limit != 0 {
			errs = append(errs, settingErr(bnMode, ErrSchemeScope, "basic tokens have no countries or limit"))
		}
	}
	return o, errors.Join(errs...)
}

// Check implements Scheme.
func (b Bunny) Check(s Settings) error {
	_, err := b.options(s)
	return errors.Join(CheckCaps(b.Name(), b.Caps(), s),
		CheckOptions(b.Name(), s, bnMode, bnForm, bnCountries, bnBlocked, bnLimit), err)
}

// New implements Scheme.
func (b Bunny) New(s Settings) (Signer, error) {
	if err := b.Check(s); err != nil {
		return nil, err
	}
	o, _ := b.options(s)
	key := Secret(strings.TrimSpace(string(s.Key)))
	if len(key) == 0 {
		return nil, settingErr("KEY_FILE", ErrKey, "the Bunny token authentication key is empty")
	}
	if s.Base.IsZero() {
		return nil, settingErr("CDN_BASE", nil, "the pull zone's URL is required")
	}
	return &BunnySigner{key: key, opts: o, base: s.Base}, nil
}

// BunnySigner is the bunny scheme's Signer.
type BunnySigner struct {
	key  Secret
	opts bunnyOptions
	base Base
}

// bunnyPathForm is the Token parameter that says the token rides in the
// path; URL reads it, and it never reaches a URL.
const bunnyPathForm = "bcdn_path_form"

// Mint implements Signer.
func (s *BunnySigner) Mint(g Grant, exp time.Time) (Token, error) {
	if err := grantOf("bunny", Bunny{}.Caps(), g); err != nil {
		return Token{}, err
	}
	if exp.IsZero() {
		return Token{}, errors.New("signer: a Bunny token needs an expiry")
	}
	t := BunnyToken{Expires: exp, CountriesAllowed: s.opts.countries, CountriesBlocked: s.opts.blocked, Limit: s.opts.limit}
	exact := !g.Prefix && g.Path != ""
	if exact {
		t.Path = cdnPath(s.base, g.Path)
	} else {
		t.TokenPath = cdnPath(s.base, dirOf(g))
		t.Path = t.TokenPath
	}
	ps, err := BunnySign(s.opts.mode, s.key, t)
	if err != nil {
		return Token{}, err
	}
	if s.opts.form == "path" || s.opts.form == "" && !exact {
		ps = append(ps, Param{bunnyPathForm, "1"})
	}
	return Token{Params: ps}, nil
}

// URL implements Signer: the token in the query or as the first path
// component; the client's query is dropped (see Bunny).
func (s *BunnySigner) URL(p, _ string, tok Token) (string, error) {
	ps := tok.Params
	pathForm := len(ps) > 0 && ps[len(ps)-1].Name == bunnyPathForm
	if pathForm {
		ps = ps[:len(ps)-1]
	}
	origin := strings.TrimSuffix(s.base.String(), s.base.PathPrefix())
	return BunnyURL(origin, cdnPath(s.base, p), ps, pathForm), nil
}

// Cookies implements Signer: Bunny has no signed cookie.
func (s *BunnySigner) Cookies(Token) ([]http.Cookie, error) {
	return nil, fmt.Errorf("%w: Bunny tokens ride in the query or the path", ErrNoCookies)
}

// KeyID implements Signer: Bunny's tokens name no key.
func (s *BunnySigner) KeyID() string { return "bunny-" + s.opts.mode.String() }

// String describes the signer without its key.
func (s *BunnySigner) String() string { return fmt.Sprintf("bunny %s on %s", s.opts.mode, s.base) }

// NewChecker implements VerifyingScheme: s.Key is the security key.
func (b Bunny) NewChecker(s Settings) (Checker, error) {
	o, err := b.options(Settings{Scope: ScopeFile, Options: s.Options})
	if err != nil {
		return nil, err
	}
	key := Secret(strings.TrimSpace(string(s.Key)))
	if len(key) == 0 {
		return nil, settingErr("KEY_FILE", ErrKey, "the Bunny token authentication key is empty")
	}
	return bunnyChecker{key: key, mode: o.mode}, nil
}

type bunnyChecker struct {
	key  Secret
	mode BunnyMode
}

// Check implements Checker: either form, for the client's address.
func (c bunnyChecker) Check(req Request) (Verified, error) {
	uri := req.EscapedPath
	if uri == "" {
		uri = EscapePath(slashed(req.Path))
	}
	if req.RawQuery != "" {
		uri += "?" + req.RawQuery
	}
	p, err := BunnyVerify(c.mode, c.key, uri, req.ClientIP, nowOf(req))
	if err != nil {
		return Verified{}, err
	}
	v := Verified{KeyID: "bunny-" + c.mode.String(), Grant: Grant{Path: p}}
	if i := strings.Index(uri, "token_path="); i >= 0 {
		tp, _, _ := strings.Cut(uri[i+len("token_path="):], "&")
		if d, err := url.QueryUnescape(tp); err == nil {
			v.Grant = Grant{Path: strings.TrimSuffix(d, "/"), Prefix: true}
		}
	}
	return v, nil
}

// LogValue implements slog.LogValuer: the key never reaches a log.
func (s *BunnySigner) LogValue() slog.Value { return signerLog("bunny", s.KeyID()) }

// GoString implements fmt.GoStringer, so %#v shows no key either.
func (s *BunnySigner) GoString() string { return s.String() }
