package config

import (
	"strings"
	"time"

	"github.com/signgate/signgate/signer"
)

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
	// StreamID makes the route a live stream's: CDN_BASE is then the
	// stream's base on an edge (https://edge.example.com/live/{id}, or a
	// host of the stream alone), and KEY_FILE a key made for this
	// stream_id, which opens this stream and nothing else.
	StreamID string `env:"STREAM_ID"`
	// Scheme is the signing scheme, the CDN's URL-signing format:
	// qencode, ed25519, cloudfront, s3, google, mediacdn, akamai or bunny
	// (see docs/cdn.md).
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
	// KeyFile: a new key with a new kid then rotates without a restart.
	// The watcher takes the pair once both files have been quiet for a
	// moment, and never a new key under the old kid (nor the reverse).
	KeyIDFile string `env:"KEY_ID_FILE"`
	// KeyJSONFile, instead of KeyFile with KeyID or KeyIDFile, is one
	// JSON file holding the kid and the key: the answer of the create-key
	// API (its signing key object, with the id and the private key), as
	// signgate keys create --out KEY.json writes it, or that object
	// alone. A rotation is then one atomic write.
	KeyJSONFile string `env:"KEY_JSON_FILE"`
	// JWKSURL is the CDN's JWK Set of the route's bucket (a signgate
	// edge's /v1/buckets/BUCKET/jwks.json). When set, a new kid and key
	// are used only once the set lists the kid with that key's public
	// half; until then the old pair serves on.
	JWKSURL string `env:"JWKS_URL"`
	// JWKSTimeout bounds one fetch of JWKSURL; past it the new pair is
	// unverified and the old one serves on.
	JWKSTimeout time.Duration `env:"JWKS_TIMEOUT" envDefault:"5s"`
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
