package proxy

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// route is one media prefix, ready to serve.
type route struct {
	index       int   // in Config.Routes
	names       Names // names the route's settings in messages
	name        string
	prefix      string // no trailing "/", except the root "/"
	strip       bool
	base        signer.Base
	life        signer.Lifetime
	scope       signer.Scope
	public      bool
	require     []config.Requirement
	status      int
	keyFile     string // the PEM, or with keyJSON the JSON holding kid and key
	keyJSON     bool
	memory      bool   // the key is held in memory (Route.Key): never reloaded
	kid         string // "" when kidFile or the JSON gives it
	kidFile     string
	jwksURL     string // the CDN's JWKS, which confirms a new pair; "" for none
	jwksTimeout time.Duration
	bucket      string
	streamID    string                            // a live stream's route: its tokens open that stream alone
	key         atomic.Pointer[signer.SigningKey] // the qencode scheme's key, else nil
	scheme      signer.Scheme
	settings    signer.Settings // the scheme's settings, key material aside
	signer      atomic.Pointer[loadedSigner]
	keyHash     atomic.Pointer[[32]byte] // of the files of the pair in use; nil: not confirmed yet
	keyState    atomic.Uint32            // a keyState, of the last load; written under Gateway.reloadMu
	redirect    prometheus.Counter       // redirects served
	stream      stream                   // HLS/DASH settings (streaming.go)
	cookies     prometheus.Counter       // streaming cookies set
	// The route's place in the table (newRoutes), for grant and lookup.
	origin     string   // which bucket space the route reaches: base.Origin(), and the stream of a stream route
	identity   bool     // bucket paths are gateway paths: no prefix stripped
	root       string   // the claim of the route's whole space: its prefix, or "" (the bucket)
	fold       string   // the prefix case-folded (config.Fold), for lookalike readings
	lookalikes bool     // a longer route lies under fold: lenient readings of a path of this route are checked
	shadows    []shadow // longer routes nested in this one (grant.go)
}

func newRoute(i int, rc Route, names Names) (*route, error) {
	base, err := rc.Base()
	if err != nil {
		return nil, routeErr(i, "CDN_BASE", err)
	}
	// New may be handed a configuration that LoadGateway never saw (an
	// embedding program): refuse what would break the hot path.
	if err := rc.Lifetime().Validate(); err != nil {
		return nil, routeErr(i, "TTL", err)
	}
	if rc.RedirectStatus != http.StatusFound && rc.RedirectStatus != http.StatusTemporaryRedirect {
		return nil, routeErrf(i, "REDIRECT_STATUS", "%d, want 302 or 307", rc.RedirectStatus)
	}
	st, err := newStream(i, rc.Route, base)
	if err != nil {
		return nil, err
	}
	if rc.Scheme == "" {
		rc.Scheme = signer.DefaultScheme
	}
	sch, err := signer.LookupScheme(rc.Scheme)
	if err != nil {
		return nil, routeErr(i, "SCHEME", err)
	}
	settings, err := rc.SchemeSettings()
	if err == nil {
		err = sch.Check(settings)
	}
	if err != nil {
		return nil, schemeErrors(i, err)
	}
	name := rc.Name
	if name == "" {
		name = strconv.Itoa(i)
	}
	rt := &route{
		index:    i,
		names:    names,
		stream:   st,
		name:     name,
		prefix:   config.NormalizePrefix(rc.Prefix),
		strip:    rc.StripPrefix,
		base:     base,
		life:     rc.Lifetime(),
		scope:    rc.Scope,
		public:   rc.Public,
		require:  rc.Requirements(),
		status:   rc.RedirectStatus,
		streamID: rc.StreamID,
		scheme:   sch,
		settings: settings,
	}
	if err := rt.setKeySource(rc); err != nil {
		return nil, err
	}
	return rt, nil
}

// loadedSigner is the route's Signer and the memo of its redirects'
// URLs, swapped whole on a key reload.
type loadedSigner struct {
	s    signer.Signer
	urls *signer.URLMemo
}

// urlMemoSlots is the number of (path, query) pairs of a route whose
// Location a signer remembers for the token in force: a hot set of that
// size gets its redirects without a URL built, and each slot holds a few
// KiB at most (signer.URLMemo).
const urlMemoSlots = 1024

func newLoadedSigner(s signer.Signer) *loadedSigner {
	return &loadedSigner{s: s, urls: signer.NewURLMemo(s, urlMemoSlots)}
}

// currentSigner returns the route's Signer, or nil before a key loaded.
func (rt *route) currentSigner() signer.Signer {
	if l := rt.signer.Load(); l != nil {
		return l.s
	}
	return nil
}

// dropQuery returns the client's query rawQuery without what the route's
// scheme drops from it: its own parameters, or all of it.
func (rt *route) dropQuery(rawQuery string) (string, error) {
	c := rt.scheme.Caps()
	if c.DropsQuery {
		return "", nil
	}
	return signer.DropParams(rawQuery, c.Drops...)
}

// matches reports whether canonical path p is under the route's prefix, at
// a "/" boundary: /media matches /media and /media/x, never /mediax.
func (rt *route) matches(p string) bool { return prefixCovers(rt.prefix, p) }

// bucketPath returns the path inside the bucket that canonical path p
// names: p itself, or p without the prefix when the route strips it.
func (rt *route) bucketPath(p string) (string, error) {
	if !rt.strip || rt.prefix == "/" {
		return p, nil
	}
	bp := p[len(rt.prefix):]
	if bp == "" || bp == "/" {
		return "", fmt.Errorf("%w: %s names no object", ErrNotFound, rt.prefix)
	}
	return bp, nil
}

// routes is the route table, longest prefix first.
type routes []*route

func newRoutes(rs []*route) routes {
	out := append(routes(nil), rs...)
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].prefix) > len(out[j].prefix) })
	for _, rt := range out {
		rt.origin = rt.base.Origin()
		if rt.streamID != "" {
			// A stream key opens its stream alone: no bucket route, nor
			// another stream's, is the same space, whatever the URLs.
			rt.origin = "live stream " + rt.streamID + " at " + rt.origin
		}
		rt.identity = !rt.strip || rt.prefix == "/"
		rt.root = ""
		if rt.identity && rt.prefix != "/" {
			rt.root = rt.prefix
		}
		rt.fold = config.Fold(rt.prefix)
	}
	for _, rt := range out {
		rt.shadows, rt.lookalikes = nil, false
		for _, o := range out {
			if o == rt {
				continue
			}
			if len(o.fold) > len(rt.fold) && prefixCovers(rt.fold, o.fold) {
				rt.lookalikes = true
			}
			if len(o.prefix) > len(rt.prefix) && rt.matches(o.prefix) {
				region, _ := rt.bucketPath(o.prefix) // longer than the prefix: never an error
				rt.shadows = append(rt.shadows, shadow{
					rt:     o,
					region: region,
					same:   o.origin == rt.origin && o.identity && rt.identity,
				})
			}
		}
	}
	return out
}

// prefixCovers reports whether route prefix p covers path q at a "/"
// boundary ("/" covers every path).
func prefixCovers(p, q string) bool {
	return p == "/" || strings.HasPrefix(q, p) && (len(q) == len(p) || q[len(p)] == '/')
}

// match returns the route with the longest prefix covering p, or nil.
func (rs routes) match(p string) *route {
	for _, rt := range rs {
		if rt.matches(p) {
			return rt
		}
	}
	return nil
}

// lookup routes a request by its path alone (never the query): the
// canonical path when there is one, by longest prefix. Refused with 400:
//
//   - a path holding a NUL or control character, or bytes that are not
//     UTF-8 (over-long forms such as %c0%ae among them), once decoded, on
//     every route and pass-through alike: no app needs them, and they are
//     how lenient servers are tricked (signer.ErrPath);
//   - a path that is not canonical but would reach a media route read
//     leniently (signer.ErrPath);
//   - a media path holding ";" (ErrPathParams, see checkMediaPath);
//   - a path whose lenient reading (lookalike) reaches another media
//     route than the path itself, or a media route when the path itself
//     reaches none: /MEDIA/x, /media;x/y, /media./y, /media/premium./y
//     beside /media/premium (ErrLookalike). The origin behind a CDN may
//     read paths that way; the gateway must not route them another way.
//
// Any other path that reaches no media route gives a nil route and goes
// to the upstream as it is.
func (rs routes) lookup(r *http.Request) (*route, string, error) {
	ep := r.URL.EscapedPath()
	p, err := signer.CanonicalPath(ep)
	if err != nil {
		if herr := hostilePath(ep); herr != nil {
			return nil, "", herr
		}
		if rt := rs.lookalike(ep, nil); rt != nil {
			return rt, "", fmt.Errorf("route %s: %w", rt.name, err)
		}
		return nil, "", nil
	}
	rt := rs.match(p)
	if rt != nil {
		if err := checkMediaPath(p); err != nil {
			return rt, "", fmt.Errorf("route %s: %w", rt.name, err)
		}
	}
	if rt == nil || rt.lookalikes {
		if o := rs.lookalike(ep, rt); o != nil {
			return o, "", fmt.Errorf("%w: %s reads as a path of route %s", ErrLookalike, ep, o.name)
		}
	}
	return rt, p, nil
}

// lookalike returns the route that a lenient reading of escaped path ep
// reaches when it is not strict, the route ep reaches as written (nil
// for none); else nil. The readings: decoded once and twice (an origin
// behind a proxy may decode again), each with ".." segments kept and
// resolved (a server may do either).
func (rs routes) lookalike(ep string, strict *route) *route {
	for _, twice := range []bool{false, true} {
		if twice && strings.IndexByte(decodeLoose(ep), '%') < 0 {
			break
		}
		for _, dots := range []bool{false, true} {
			if rt := rs.matchFold(loosePath(ep, dots, twice)); rt != nil && rt != strict {
				return rt
			}
		}
	}
	return nil
}

// matchFold is match on a case-folded path (config.Fold).
func (rs routes) matchFold(lp string) *route {
	for _, rt := range rs {
		if prefixCovers(rt.fold, lp) {
			return rt
		}
	}
	return nil
}

// hostilePath refuses an escaped path that holds, once decoded, a NUL or
// control character or bytes that are not UTF-8.
func hostilePath(ep string) error {
	d := decodeLoose(ep)
	if !utf8.ValidString(d) {
		return fmt.Errorf("%w: not valid UTF-8", signer.ErrPath)
	}
	for i := 0; i < len(d); i++ {
		if c := d[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("%w: control character", signer.ErrPath)
		}
	}
	return nil
}

// decodeLoose decodes every valid percent-escape of ep, once.
func decodeLoose(ep string) string {
	if strings.IndexByte(ep, '%') < 0 {
		return ep
	}
	var b strings.Builder
	b.Grow(len(ep))
	for i := 0; i < len(ep); i++ {
		c := ep[i]
		if c == '%' && i+2 < len(ep) && isHex(ep[i+1]) && isHex(ep[i+2]) {
			c = unhex(ep[i+1])<<4 | unhex(ep[i+2])
			i += 2
		}
		b.WriteByte(c)
	}
	return b.String()
}

// loosePath reads an escaped path the way a lenient server might,
// case-folded (config.Fold): escapes decoded (twice: again), a backslash
// as "/", each segment cut at its first ";" (path parameters) and
// stripped of trailing dots and spaces (Windows), empty and "." segments
// dropped; dots resolves ".." segments too.
func loosePath(ep string, dots, twice bool) string {
	d := decodeLoose(ep)
	if twice {
		d = decodeLoose(d)
	}
	d = strings.ReplaceAll(d, "\\", "/")
	var segs []string
	for s := range strings.SplitSeq(d, "/") {
		if i := strings.IndexByte(s, ';'); i >= 0 {
			s = s[:i]
		}
		if s != "." && s != ".." {
			s = strings.TrimRight(s, ". ")
		}
		switch s {
		case "", ".":
		case "..":
			if !dots {
				segs = append(segs, s)
			} else if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, config.Fold(s))
		}
	}
	return "/" + strings.Join(segs, "/")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
