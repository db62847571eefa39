package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/signgate/signgate/signer"
)

// SchemeOptions are a route's settings for one signing scheme, read with
// the route's own prefix (SIGNGATE_ROUTES_<n>_CLOUDFRONT_POLICY). Each
// scheme reads the options whose names start with its own prefix and
// refuses the others (signer.CheckOptions). Every field is a string that
// the scheme itself parses and checks (signer.Scheme.Check), so that a
// scheme's rules live in one place; Options hands them over by name.
type SchemeOptions struct {
	// CloudFrontPolicy is how CloudFront URLs are signed: canned (a
	// signature of the exact URL; file scope only) or custom (a JSON
	// policy whose Resource may end in "/*", needed for dir and bucket
	// scope and for cookie mode). Default: canned for file scope, custom
	// otherwise.
	CloudFrontPolicy string `env:"CLOUDFRONT_POLICY"`
	// CloudFrontIPAddress, when set, is the client network a custom
	// policy allows (IpAddress, a CIDR such as 192.0.2.0/24). It is one
	// network for the route, not each client's address: a token stays
	// shareable between clients, and so cacheable.
	CloudFrontIPAddress string `env:"CLOUDFRONT_IP_ADDRESS"`
	// CloudFrontNotBefore, true or false (default), adds DateGreaterThan
	// to a custom policy: the start of the token's time step (its exp
	// less the TTL).
	CloudFrontNotBefore string `env:"CLOUDFRONT_NOT_BEFORE"`
	// CloudFrontHash is the signature's hash: sha1 (CloudFront's
	// default) or sha256 (adds Hash-Algorithm=SHA256 to the URL).
	CloudFrontHash string `env:"CLOUDFRONT_HASH"`
	// S3Bucket is the bucket of an s3 route. CDN_BASE is then the
	// endpoint with the bucket: https://host/BUCKET (path style, as MinIO
	// serves it) or https://BUCKET.host (virtual-hosted style).
	S3Bucket string `env:"S3_BUCKET"`
	// S3Region is the region of an s3 route's bucket, which SigV4 signs
	// (MinIO's default is us-east-1).
	S3Region string `env:"S3_REGION"`
	// MediaCDNAlgorithm is how mediacdn tokens are signed: ed25519 (the
	// default), sha1 or sha256 (HMAC).
	MediaCDNAlgorithm string `env:"MEDIACDN_ALGORITHM"`
	// AkamaiAlgorithm is the EdgeAuth HMAC: sha256 (default), sha1 or md5.
	AkamaiAlgorithm string `env:"AKAMAI_ALGORITHM"`
	// AkamaiTokenName is the token's query, cookie or header name
	// (default __token__).
	AkamaiTokenName string `env:"AKAMAI_TOKEN_NAME"`
	// AkamaiEscapeEarly, true or false (default), is the property's
	// "Escape token input".
	AkamaiEscapeEarly string `env:"AKAMAI_ESCAPE_EARLY"`
	// AkamaiSessionID is the token's id field, the same for every token.
	AkamaiSessionID string `env:"AKAMAI_SESSION_ID"`
	// BunnyMode is Bunny's token form: hmac (default, Bunny's current
	// libraries), advanced (SHA-256) or basic (MD5, one file).
	BunnyMode string `env:"BUNNY_MODE"`
	// BunnyForm is where the token rides: query, or path
	// (/bcdn_token=.../dir/file, which relative manifest URLs keep);
	// default path for a prefix grant, query otherwise.
	BunnyForm string `env:"BUNNY_FORM"`
	// BunnyCountries and BunnyCountriesBlocked are comma-separated
	// country codes the token allows or blocks.
	BunnyCountries        string `env:"BUNNY_COUNTRIES"`
	BunnyCountriesBlocked string `env:"BUNNY_COUNTRIES_BLOCKED"`
	// BunnyLimit is a download speed limit in kB/s.
	BunnyLimit string `env:"BUNNY_LIMIT"`
}

// Options returns the options that are set, by variable suffix.
func (o SchemeOptions) Options() map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(o)
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("env"), ",")
		if s := v.Field(i).String(); s != "" {
			out[name] = s
		}
	}
	return out
}

// SchemeSettings returns what route r's scheme reads, without key
// material (proxy reads the key file and adds it).
func (r Route) SchemeSettings() (signer.Settings, error) {
	base, err := r.Base()
	if err != nil {
		return signer.Settings{}, &signer.SettingError{Setting: "CDN_BASE", Err: err}
	}
	return signer.Settings{
		Base:      base,
		KeyID:     r.KeyID,
		Bucket:    r.Bucket,
		Region:    r.Region,
		Scope:     r.Scope,
		Streaming: r.Streaming,
		TTL:       r.TTL,
		Options:   r.SchemeOptions.Options(),
	}, nil
}

// keyIDOptional reports whether route r's scheme names no key.
func (r Route) keyIDOptional() bool {
	sch, err := signer.LookupScheme(r.Scheme)
	return err == nil && sch.Caps().KeyIDOptional
}

// validateScheme checks route i's scheme and its settings.
func (r Route) validateScheme(i int) []error {
	name := fmt.Sprintf("%s%d_", RoutesPrefix, i)
	sch, err := signer.LookupScheme(r.Scheme)
	if err != nil {
		return []error{fmt.Errorf("%sSCHEME: %w", name, err)}
	}
	var errs []error
	if sch.Name() != signer.DefaultScheme && r.CDNBase == "" {
		errs = append(errs, fmt.Errorf("%sCDN_BASE: required by scheme %s (%sBUCKET with _REGION names a Qencode bucket)", name, sch.Name(), name))
	}
	s, err := r.SchemeSettings()
	if err != nil {
		return errs // CDN_BASE is reported by validateRoutes
	}
	return append(errs, SchemeErrors(name, sch.Check(s))...)
}

// SchemeErrors turns an error of a signer.Scheme into errors naming the
// variables (prefix + the setting, e.g. SIGNGATE_ROUTES_0_SCOPE).
func SchemeErrors(prefix string, err error) []error {
	var out []error
	for _, e := range Leaves(err) {
		setting, cause := SchemeSetting(e)
		out = append(out, fmt.Errorf("%s%s: %w", prefix, setting, cause))
	}
	return out
}

// SchemeSetting names the route setting that e, one error of a
// signer.Scheme, is about, and returns its cause: a
// *signer.SettingError's, else SCHEME and e itself.
func SchemeSetting(e error) (setting string, cause error) {
	if se, ok := errors.AsType[*signer.SettingError](e); ok {
		return se.Setting, se.Err
	}
	return "SCHEME", e
}

// Leaves returns the errors an errors.Join tree holds, joins unwrapped
// at every level; nil for nil.
func Leaves(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Leaves(e)...)
		}
		return out
	}
	return []error{err}
}
