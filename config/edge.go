package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Edge configures "signgate edge", the verifying origin: every variable
// starts with SIGNGATE_EDGE_.
type Edge struct {
	// Listen is the address media is served on.
	Listen string `env:"EDGE_LISTEN" envDefault:":8081"`
	// TLS serves the edge and API listeners over TLS, SIGNGATE_EDGE_TLS_*.
	TLS TLS `envPrefix:"EDGE_TLS_"`
	// APIListen is the address of the control API (/v1). "off" turns the
	// API off; keys and policies can then only change through the store.
	APIListen string `env:"EDGE_API_LISTEN" envDefault:"127.0.0.1:8082"`
	// Console serves the portal, the web pages for buckets and signing
	// keys, under /console/ on the API listener: sign-in with an API key.
	// It is off while the API is off.
	Console bool `env:"EDGE_CONSOLE" envDefault:"true"`
	// MetricsListen is the address of the Prometheus /metrics listener
	// (with /healthz and /readyz); "off" turns it off.
	MetricsListen string `env:"EDGE_METRICS_LISTEN" envDefault:"127.0.0.1:9091"`
	// DB holds policies, public keys and API access tokens: an SQLite
	// database file (created when missing) for one node, or a PostgreSQL
	// URL (postgres://user:password@host/db) shared by several edges. The
	// URL's password never reaches a log or an error message.
	DB Database `env:"EDGE_DB" envDefault:"signgate-edge.db"`
	// Domain, when set, maps each bucket with a region to the host
	// {bucket}.media-storage.{region}.{domain}, as Qencode's CDN names them.
	Domain string `env:"EDGE_DOMAIN"`
	// SingleBucket serves every request from the one configured bucket,
	// whatever its Host.
	SingleBucket bool `env:"EDGE_SINGLE_BUCKET"`
	// Buckets are SIGNGATE_EDGE_BUCKETS_0_NAME, ..._0_REGION and so on.
	Buckets []Bucket `envPrefix:"EDGE_BUCKETS"`
	// Streams are the live streams: SIGNGATE_EDGE_STREAMS_0_ID,
	// ..._0_ORIGIN and so on.
	Streams []Stream `envPrefix:"EDGE_STREAMS"`
	// StreamSegmentMaxAge is how long a client may keep a live stream's
	// segment (Cache-Control: private, max-age); playlists are never
	// kept (no-store).
	StreamSegmentMaxAge time.Duration `env:"EDGE_STREAM_SEGMENT_MAX_AGE" envDefault:"60s"`
	// APIKeys are the keys that POST /v1/access_token/{api_key} exchanges
	// for a bearer token. Comma-separated.
	APIKeys []Secret `env:"EDGE_API_KEYS"`
	// CORSOrigins are the web origins (https://app.example.com) whose pages
	// may read media from the edge, as browser players need; "*" allows
	// any page, without cookies. Comma-separated; empty sends no CORS
	// headers.
	CORSOrigins []string `env:"EDGE_CORS_ORIGINS"`
	// Leeway is the clock skew tolerated on a token's exp and nbf.
	Leeway time.Duration `env:"EDGE_LEEWAY" envDefault:"60s"`
	// CacheSize bounds the number of verified tokens kept.
	CacheSize int `env:"EDGE_CACHE_SIZE" envDefault:"100000"`
	// GOGC is the garbage collector's target percentage, applied unless
	// the GOGC variable itself is set. The edge's live heap is small, so at
	// Go's 100 it collects many times a second under load, and each
	// collection shrinks the stacks of the connections' goroutines, which
	// their next request grows again; the heap stays within a budget for
	// the verified-token cache either way. -1 turns the collector off
	// (only sensible with GOMEMLIMIT); 0 leaves the runtime's own (Go's
	// 100).
	GOGC int `env:"EDGE_GOGC" envDefault:"400"`
	// Refresh is how often keys and policies are re-read from the store, so
	// that a revocation made through another edge arrives here.
	Refresh time.Duration `env:"EDGE_REFRESH" envDefault:"5s"`
	// MaxStaleness bounds how old the snapshot of keys and policies may
	// grow while the store cannot be read: past it, authenticated buckets
	// and live streams fail closed (503 store_stale), since a revocation made through
	// another edge could not arrive; public buckets serve on. 0 turns the
	// bound off (serve from the last snapshot for as long as it takes).
	MaxStaleness time.Duration `env:"EDGE_MAX_STALENESS" envDefault:"15m"`
	// OriginTimeout bounds the wait for an HTTP origin's response
	// headers (past it the client gets 504), and then each wait for the
	// body's next bytes: a download that stalls that long is cut, one
	// that keeps coming, however slowly, is not. 0 turns it off.
	OriginTimeout time.Duration `env:"EDGE_ORIGIN_TIMEOUT" envDefault:"30s"`
	// AccessLog writes one JSON line per media request (host, path,
	// status, bytes, duration, peer; never a query, cookie or token).
	// Turn it off where a load balancer or CDN logs already; the control
	// API logs its requests either way.
	AccessLog bool `env:"EDGE_ACCESS_LOG" envDefault:"true"`
	// EdgeLimits bounds connections and API request bodies.
	EdgeLimits
	// EdgeShutdown says how the edge drains on SIGTERM.
	EdgeShutdown
	// EdgeFleet says how edges on PostgreSQL confirm a revocation.
	EdgeFleet

	// bucketVars and streamVars are the SIGNGATE_EDGE_BUCKETS_* and
	// SIGNGATE_EDGE_STREAMS_* names that were set, to catch a gap in the
	// numbers, where the env library would stop without a word.
	bucketVars, streamVars []string
}

// Bucket is one bucket an edge serves.
type Bucket struct {
	// Name is the bucket's name: 3 to 63 lowercase letters, digits, dots
	// and hyphens.
	Name string `env:"NAME"`
	// Region, with SIGNGATE_EDGE_DOMAIN, gives the bucket the host
	// {name}.media-storage.{region}.{domain}.
	Region string `env:"REGION"`
	// Origin is where the bucket's files are: a local directory, or an
	// http(s) URL (an S3 or MinIO bucket URL, for example) that request
	// paths are appended to.
	Origin string `env:"ORIGIN"`
	// Hosts are custom domains mapped to the bucket. Comma-separated.
	Hosts []string `env:"HOSTS"`
	// Policy is the initial access policy, public or authenticated; once
	// set through the API, the stored policy wins.
	Policy string `env:"POLICY" envDefault:"public"`
}

// Policies a bucket can have.
const (
	PolicyPublic        = "public"
	PolicyAuthenticated = "authenticated"
)

// MinAPIKeyLen is the least length of a configured API key.
const MinAPIKeyLen = 16

var (
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	regionName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	// bucketIndexed and streamIndexed match a bucket or stream variable
	// with a number.
	bucketIndexed = regexp.MustCompile(`^` + Prefix + `EDGE_BUCKETS_(0|[1-9][0-9]{0,3})_`)
	streamIndexed = regexp.MustCompile(`^` + Prefix + `EDGE_STREAMS_(0|[1-9][0-9]{0,3})_`)
	hostName      = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// LoadEdge reads the edge's configuration from environ and validates it,
// including that the bucket numbers have no gap (which Load alone cannot
// see) and that every SIGNGATE_EDGE_ name is one the edge reads.
func LoadEdge(environ map[string]string) (Edge, error) {
	cfg, err := env.ParseAsWithOptions[Edge](env.Options{Environment: environ, Prefix: Prefix})
	if err != nil {
		return Edge{}, fmt.Errorf("configuration:\n%w", nameVars(reflect.TypeFor[Edge](), err))
	}
	// The gateway judges the other SIGNGATE_ names; Validate reports a
	// bucket or stream variable without a number.
	errs := unknownVars(environ, func(k string) bool {
		switch {
		case strings.HasPrefix(k, Prefix+"EDGE_BUCKETS_"):
			return bucketIndexed.MatchString(k)
		case strings.HasPrefix(k, Prefix+"EDGE_STREAMS_"):
			return streamIndexed.MatchString(k)
		}
		return strings.HasPrefix(k, Prefix+"EDGE_")
	})
	for k := range environ {
		switch {
		case strings.HasPrefix(k, Prefix+"EDGE_BUCKETS_"):
			cfg.bucketVars = append(cfg.bucketVars, k)
		case strings.HasPrefix(k, Prefix+"EDGE_STREAMS_"):
			cfg.streamVars = append(cfg.streamVars, k)
		}
	}
	slices.Sort(cfg.bucketVars)
	slices.Sort(cfg.streamVars)
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return Edge{}, fmt.Errorf("configuration:\n%w", errors.Join(errs...))
	}
	return cfg, nil
}

// BucketVar names the variable of bucket i's field, such as
// SIGNGATE_EDGE_BUCKETS_0_ORIGIN, for messages.
func BucketVar(i int, field string) string {
	return fmt.Sprintf("%sEDGE_BUCKETS_%d_%s", Prefix, i, field)
}

// HostsOf returns the host names of bucket i: the Qencode-style
// {name}.media-storage.{region}.{domain} (when the domain and region are
// set) and the custom hosts, lowercase.
func (c Edge) HostsOf(i int) []string {
	b := c.Buckets[i]
	var hs []string
	if c.Domain != "" && b.Region != "" {
		hs = append(hs, strings.ToLower(b.Name+".media-storage."+b.Region+"."+c.Domain))
	}
	for _, h := range b.Hosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			hs = append(hs, h)
		}
	}
	return hs
}

// APIEnabled reports whether the control API is on.
func (c Edge) APIEnabled() bool { return c.APIListen != APIOff }

// ConsoleEnabled reports whether the portal is on: SIGNGATE_EDGE_CONSOLE
// and the API listener it is served on.
func (c Edge) ConsoleEnabled() bool { return c.Console && c.APIEnabled() }

// APIOff, as SIGNGATE_EDGE_API_LISTEN, turns the control API off.
const APIOff = "off"

// MetricsEnabled reports whether the metrics listener is on: not "off",
// nor empty (as in an Edge built in code; LoadEdge gives the default).
func (c Edge) MetricsEnabled() bool { return c.MetricsListen != MetricsOff && c.MetricsListen != "" }

// IsURL reports whether the origin is an http(s) URL rather than a
// directory.
func (b Bucket) IsURL() bool { return isURL(b.Origin) }

func isURL(origin string) bool {
	return strings.HasPrefix(origin, "http://") || strings.HasPrefix(origin, "https://")
}

// Validate reports every problem at once, each naming its variable.
func (c *Edge) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%s: %s", Prefix, name, fmt.Sprintf(format, args...)))
	}
	if err := checkAddr(c.Listen); err != nil {
		bad("EDGE_LISTEN", "%v", err)
	}
	errs = append(errs, c.TLS.check("EDGE_TLS_")...)
	if c.APIEnabled() {
		if err := checkAddr(c.APIListen); err != nil {
			bad("EDGE_API_LISTEN", "%v", err)
		}
		if len(c.APIKeys) == 0 {
			bad("EDGE_API_KEYS", "at least one API key is required while the API is on (SIGNGATE_EDGE_API_LISTEN=off turns it off)")
		}
	}
	if c.MetricsEnabled() {
		if err := checkAddr(c.MetricsListen); err != nil {
			bad("EDGE_METRICS_LISTEN", "%v (or off)", err)
		}
	}
	for i, k := range c.APIKeys {
		if len(k.Reveal()) < MinAPIKeyLen {
			bad("EDGE_API_KEYS", "key %d is shorter than %d characters", i, MinAPIKeyLen)
		}
	}
	if err := c.DB.check(); err != nil {
		bad("EDGE_DB", "%v", err)
	}
	if c.Domain != "" && !hostName.MatchString(c.Domain) {
		bad("EDGE_DOMAIN", "%q is not a lowercase domain name", c.Domain)
	}
	for _, o := range c.CORSOrigins {
		if err := checkWebOrigin(o, len(c.CORSOrigins)); err != nil {
			bad("EDGE_CORS_ORIGINS", "%v", err)
		}
	}
	if c.Leeway < 0 || c.Leeway > 10*time.Minute {
		bad("EDGE_LEEWAY", "%s: must be between 0s and 10m", c.Leeway)
	}
	if c.CacheSize < 1 {
		bad("EDGE_CACHE_SIZE", "%d: must be at least 1", c.CacheSize)
	}
	if !validGOGC(c.GOGC) {
		bad("EDGE_GOGC", gogcWant, c.GOGC)
	}
	if c.Refresh < 100*time.Millisecond {
		bad("EDGE_REFRESH", "%s: must be at least 100ms", c.Refresh)
	}
	if c.OriginTimeout < 0 {
		errs = append(errs, fmt.Errorf("%sEDGE_ORIGIN_TIMEOUT: %s: must not be negative (0 turns it off)", Prefix, c.OriginTimeout))
	}
	if c.MaxStaleness != 0 && c.MaxStaleness < 2*c.Refresh {
		errs = append(errs, fmt.Errorf("%sEDGE_MAX_STALENESS: %s: want 0 (off) or at least twice SIGNGATE_EDGE_REFRESH (%s)", Prefix, c.MaxStaleness, c.Refresh))
	}
	errs = append(errs, c.EdgeLimits.validate()...)
	errs = append(errs, c.EdgeFleet.validate()...)
	errs = append(errs, validateShutdown("EDGE_SHUTDOWN_DELAY", c.EdgeShutdown.ShutdownDelay, "EDGE_SHUTDOWN_TIMEOUT", c.EdgeShutdown.ShutdownTimeout)...)
	if len(c.Buckets) == 0 && len(c.Streams) == 0 {
		bad("EDGE_BUCKETS_0_NAME", "at least one bucket (or a live stream, SIGNGATE_EDGE_STREAMS_0_ID) is required")
	}
	if c.SingleBucket && len(c.Buckets) != 1 && (len(c.Buckets) > 0 || len(c.Streams) > 0) {
		bad("EDGE_SINGLE_BUCKET", "single-bucket mode needs exactly one bucket, %d are configured", len(c.Buckets))
	}
	names := map[string]int{}
	hosts := map[string]int{}
	for i, b := range c.Buckets {
		v := func(f string) string { return strings.TrimPrefix(BucketVar(i, f), Prefix) }
		if !bucketName.MatchString(b.Name) {
			bad(v("NAME"), "%q: a bucket name is 3 to 63 lowercase letters, digits, dots and hyphens", b.Name)
		} else if j, dup := names[b.Name]; dup {
			bad(v("NAME"), "bucket %q is also bucket %d", b.Name, j)
		} else {
			names[b.Name] = i
		}
		if b.Region != "" && !regionName.MatchString(b.Region) {
			bad(v("REGION"), "%q is not a region name such as us-west", b.Region)
		}
		if err := checkOrigin(b.Origin); err != nil {
			bad(v("ORIGIN"), "%v", err)
		}
		for _, h := range b.Hosts {
			h = strings.TrimSpace(h)
			if !hostName.MatchString(strings.ToLower(h)) {
				bad(v("HOSTS"), "%q is not a host name (no scheme, port or path)", h)
			}
		}
		switch b.Policy {
		case PolicyPublic, PolicyAuthenticated:
		default:
			bad(v("POLICY"), "%q: want public or authenticated", b.Policy)
		}
		hs := c.HostsOf(i)
		if len(hs) == 0 && !c.SingleBucket {
			bad(v("HOSTS"), "bucket %q has no host name: set SIGNGATE_EDGE_DOMAIN and %s, or %s, or SIGNGATE_EDGE_SINGLE_BUCKET=true",
				b.Name, BucketVar(i, "REGION"), BucketVar(i, "HOSTS"))
		}
		for _, h := range hs {
			if j, dup := hosts[h]; dup && j != i {
				bad(v("HOSTS"), "host %q is also mapped to bucket %d", h, j)
			}
			hosts[h] = i
		}
	}
	errs = append(errs, listGaps(c.bucketVars, "EDGE_BUCKETS_", "bucket", "NAME", len(c.Buckets))...)
	errs = append(errs, c.validateStreams(hosts)...)
	return errors.Join(errs...)
}

// nameVars rewrites the env library's parse errors, which name the Go
// field, to name the variable instead.
func nameVars(t reflect.Type, err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	errs := make([]error, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			if name := varOf(t, pe.Name); name != "" {
				e = fmt.Errorf("%s%s: %w", Prefix, name, pe.Err)
			}
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// varOf names the variable of t's field called field, or of a field of a
// nested struct (such as TLS) under its envPrefix; "" when none.
func varOf(t reflect.Type, field string) string {
	if f, ok := t.FieldByName(field); ok && f.Tag.Get("env") != "" {
		tag, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		return tag
	}
	for i := range t.NumField() {
		n := t.Field(i)
		if p := n.Tag.Get("envPrefix"); p != "" && n.Type.Kind() == reflect.Struct {
			if f, ok := n.Type.FieldByName(field); ok && f.Tag.Get("env") != "" {
				tag, _, _ := strings.Cut(f.Tag.Get("env"), ",")
				return p + tag
			}
		}
	}
	return ""
}
