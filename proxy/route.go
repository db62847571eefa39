package proxy

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// route is one media prefix, ready to serve.
type route struct {
	name     string
	prefix   string // no trailing "/", except the root "/"
	strip    bool
	base     signer.Base
	life     signer.Lifetime
	scope    signer.Scope
	public   bool
	require  []config.Requirement
	status   int
	keyFile  string
	kid      string // "" when kidFile gives it
	kidFile  string
	bucket   string
	key      atomic.Pointer[signer.SigningKey]
	keyHash  atomic.Pointer[[32]byte] // of the key file's bytes
	redirect prometheus.Counter       // redirects served
	stream   stream                   // HLS/DASH settings (streaming.go)
	cookies  prometheus.Counter       // streaming cookies set
	// nested holds the bucket paths of the other routes that serve the same
	// bucket with the same key file under a longer, unstripped prefix. A dir or
	// bucket token that would cover one of them is narrowed to the file, so
	// that a route's token never opens another, maybe more restricted one.
	nested []string
}

func newRoute(i int, rc config.Route) (*route, error) {
	base, err := rc.Base()
	if err != nil {
		return nil, fmt.Errorf("%s%d_CDN_BASE: %w", config.RoutesPrefix, i, err)
	}
	// New may be handed a configuration that LoadGateway never saw (an
	// embedding program): refuse what would break the hot path.
	if err := rc.Lifetime().Validate(); err != nil {
		return nil, fmt.Errorf("%s%d_TTL: %w", config.RoutesPrefix, i, err)
	}
	if rc.RedirectStatus != http.StatusFound && rc.RedirectStatus != http.StatusTemporaryRedirect {
		return nil, fmt.Errorf("%s%d_REDIRECT_STATUS: %d, want 302 or 307", config.RoutesPrefix, i, rc.RedirectStatus)
	}
	st, err := newStream(i, rc, base)
	if err != nil {
		return nil, err
	}
	name := rc.Name
	if name == "" {
		name = strconv.Itoa(i)
	}
	return &route{
		stream:  st,
		name:    name,
		prefix:  config.NormalizePrefix(rc.Prefix),
		strip:   rc.StripPrefix,
		base:    base,
		life:    rc.Lifetime(),
		scope:   rc.Scope,
		public:  rc.Public,
		require: rc.Requirements(),
		status:  rc.RedirectStatus,
		keyFile: rc.KeyFile,
		kid:     rc.KeyID,
		kidFile: rc.KeyIDFile,
		bucket:  rc.Bucket,
	}, nil
}

// matches reports whether canonical path p is under the route's prefix, at
// a "/" boundary: /media matches /media and /media/x, never /mediax.
func (rt *route) matches(p string) bool {
	if rt.prefix == "/" {
		return true
	}
	return strings.HasPrefix(p, rt.prefix) && (len(p) == len(rt.prefix) || p[len(rt.prefix)] == '/')
}

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
		for _, o := range out {
			if o != rt && !o.strip && len(o.prefix) > len(rt.prefix) &&
				o.base == rt.base && o.keyFile == rt.keyFile {
				rt.nested = append(rt.nested, o.prefix)
			}
		}
	}
	return out
}

// tokenURI returns the uri claim for bucket path bp: the route's scope,
// narrowed to bp itself where it would reach a nested route.
func (rt *route) tokenURI(bp string) string {
	uri := rt.scope.URI(bp)
	if rt.scope == signer.ScopeFile {
		return uri
	}
	for _, n := range rt.nested {
		if signer.Covers(uri, n) {
			return bp
		}
	}
	return uri
}

// authScope is the forward-auth verdict scope of r: on a media route, the
// route's name and the uri claim a token for the path would carry
// (tokenURI), so that one verdict serves every path one token covers;
// elsewhere "", which keys the verdict by the path.
func (g *Gateway) authScope(r *http.Request) string {
	rt, p, err := g.routes.lookup(r)
	if err != nil || rt == nil {
		return ""
	}
	bp, err := rt.bucketPath(p)
	if err != nil {
		return ""
	}
	return rt.name + "\x00" + rt.tokenURI(bp)
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
// canonical path when there is one. A path that is not canonical but would
// reach a media route once decoded is refused (signer.ErrPath); one that
// reaches no media route gives a nil route and goes to the upstream as is.
func (rs routes) lookup(r *http.Request) (*route, string, error) {
	ep := r.URL.EscapedPath()
	p, err := signer.CanonicalPath(ep)
	if err == nil {
		return rs.match(p), p, nil
	}
	// Would any lenient reading of the path reach a media route?
	for _, lp := range []string{ep, loosePath(ep, false), loosePath(ep, true)} {
		if rt := rs.match(lp); rt != nil {
			return rt, "", fmt.Errorf("route %s: %w", rt.name, err)
		}
	}
	return nil, "", nil
}

// loosePath decodes what it can of an escaped path, reads a backslash as "/" and
// drops empty and "." segments, the way a lenient server would read it;
// dots resolves ".." segments too.
func loosePath(ep string, dots bool) string {
	var b strings.Builder
	for i := 0; i < len(ep); i++ {
		c := ep[i]
		if c == '%' && i+2 < len(ep) && isHex(ep[i+1]) && isHex(ep[i+2]) {
			c = unhex(ep[i+1])<<4 | unhex(ep[i+2])
			i += 2
		}
		if c == '\\' {
			c = '/'
		}
		b.WriteByte(c)
	}
	var segs []string
	for _, s := range strings.Split(b.String(), "/") {
		switch s {
		case "", ".":
		case "..":
			if !dots {
				segs = append(segs, s)
			} else if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
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
