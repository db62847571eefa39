package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/signgate/signgate/signer"
)

// This file is the one home of the grant rule. Every uri claim the gateway
// puts in a token comes from grant: the redirect and /.signgate/sign
// (sign), cookie mode (setStreamCookie), manifest mode (the manifest's
// own token, and every URI rewritten in it through grantBeside) and the
// forward-auth verdict scope (checkTarget). Nothing else computes a claim.
//
// The grant invariant: for every principal P and every token the gateway
// gives P, every bucket path that token opens is a path that P would get
// through the gateway itself. grant keeps it with three rules, stated on
// the route table that newRoutes prepares (route.shadows):
//
//  1. The path asked for is one the gateway routes to the route: its
//     gateway path matches no longer prefix, nor reads as another route's
//     path (routes.lookalike). The route's own root (its prefix, or "/"
//     of the bucket) names no object and is refused: a prefix is a
//     directory.
//  2. A claim never reaches above the route's root: the bucket scope is
//     the root itself, the prefix (or, for a route that strips its prefix,
//     the whole bucket, all of which the route maps to); the directory of
//     a path below the root is the root or below it.
//  3. A claim never covers the space of a longer route nested in this
//     one's prefix (a "shadow": the gateway sends those paths to the other
//     route), unless that route is on the same origin (compared by
//     signer.Base.Origin, never by key or kid, and by STREAM_ID: a
//     stream route's token opens its live stream alone, so it is never
//     the same space as a bucket's route or another stream's; see
//     newRoutes), maps paths the same way
//     (neither strips its prefix) and admits P. Otherwise the claim is
//     narrowed to the shallowest directory on the way to the path that
//     covers no such shadow, or to the path itself; when even the path
//     covers one (a directory above another route), grant refuses with
//     ErrGrant.
//
// Under these rules every path a claim covers is routed to the route that
// granted it, which admitted P, or to a shadow that admits P and serves
// the same bucket path. Other routes whose bucket space overlaps this
// one's without being nested in it could still serve those paths under
// another access rule; config.Gateway.Validate refuses such tables at
// start (validateRouteSpaces), so no grant needs to reason about them.
// TestGrantInvariant checks all of this over generated route tables.

// ErrGrant: no claim for the path can keep the grant invariant: it is a
// directory above another route's space. The client asked for a
// directory, not an object.
var ErrGrant = errors.New("the path holds another route's space")

// reach is how far the caller wants a claim to reach from a bucket path.
type reach uint8

const (
	reachFile  reach = iota // the path itself (and what lies below it)
	reachDir                // the directory holding the path
	reachRoute              // the route's whole space
	reachTree               // the path, a directory a manifest names
)

// reachOf returns the reach of a route's configured scope.
func reachOf(s signer.Scope) reach {
	switch s {
	case signer.ScopeDir:
		return reachDir
	case signer.ScopeBucket:
		return reachRoute
	}
	return reachFile
}

// shadow is a longer route whose prefix lies inside a route's: the
// gateway sends the paths under it there.
type shadow struct {
	rt     *route
	region string // the bucket path, in the outer route's space, of rt's prefix
	same   bool   // same origin, and neither route strips its prefix
}

// grant returns the uri claim for bucket path bp of route rt, reaching as
// far as want asks and as far as the grant invariant allows for principal
// pr (nil: anonymous, on a public route). See the top of this file.
func (g *Gateway) grant(rt *route, bp string, want reach, pr *Principal) (string, error) {
	if err := checkMediaPath(bp); err != nil {
		return "", fmt.Errorf("route %s: %w", rt.name, err)
	}
	gp := rt.gatewayPath(bp)
	if g.routes.match(gp) != rt {
		return "", fmt.Errorf("%w: %s is not a path of route %s", ErrGrant, gp, rt.name)
	}
	// A path that reads as another route's (a URI in a manifest: lookup
	// refused such requests already).
	if rt.lookalikes {
		if o := g.routes.lookalike(signer.EscapePath(gp), rt); o != nil {
			return "", fmt.Errorf("route %s: %w: %s reads as a path of route %s", rt.name, ErrLookalike, gp, o.name)
		}
	}
	var uri string
	switch want {
	case reachTree:
		uri = bp
		if uri == "/" {
			uri = ""
		}
	default:
		if bp == "/" || rt.identity && bp == rt.prefix {
			return "", fmt.Errorf("%w: %s is the prefix of route %s and names no object", ErrNotFound, gp, rt.name)
		}
		switch want {
		case reachDir:
			uri = signer.ScopeDir.URI(bp)
		case reachRoute:
			uri = rt.root
		default:
			uri = bp
		}
	}
	if !rt.overShadow(uri, pr) {
		return uri, nil
	}
	// Rule 3: narrow, one segment at a time, towards bp.
	for uri != bp {
		next := bp
		if i := strings.IndexByte(bp[len(uri)+1:], '/'); i >= 0 {
			next = bp[:len(uri)+1+i]
		}
		uri = next
		if !rt.overShadow(uri, pr) {
			return uri, nil
		}
	}
	return "", fmt.Errorf("%w: %s holds a route that %s may not see", ErrGrant, gp, describe(pr))
}

// grantOf returns the signer.Grant that claim uri, which grant gave for
// bucket path bp with reach want, stands for: a prefix grant of a
// directory, or the file bp itself when uri is bp (a file asked for, or a
// directory narrowed down to the file). A Qencode uri claim opens what
// lies below a file too; other schemes open the file alone, which is less,
// never more.
func grantOf(want reach, uri, bp string) signer.Grant {
	return signer.Grant{Path: uri, Prefix: want == reachTree || uri != bp}
}

// grantBeside is grant for a path that another claim, approved, already
// led to: a URI in a manifest whose own claim was approved. A principal
// of forward-auth was authorized by the app for approved alone (it was
// named in X-Signgate-Grant), so a claim for a path outside it is refused
// rather than signed on the strength of a yes the app never gave for it;
// any other principal was authorized for the route, and gets grant's
// claim.
func (g *Gateway) grantBeside(rt *route, bp string, want reach, pr *Principal, approved string) (string, error) {
	if pr != nil && g.viaForward(pr.Via) && !signer.Covers(approved, bp) {
		return "", fmt.Errorf("%w: %s is outside the grant %s that forward-auth approved", ErrGrant, rt.gatewayPath(bp), rt.grantPath(approved, ""))
	}
	return g.grant(rt, bp, want, pr)
}

// overShadow reports whether claim uri covers a shadow of rt that P may
// not be given: one that is not the same space, or does not admit pr.
func (rt *route) overShadow(uri string, pr *Principal) bool {
	for i := range rt.shadows {
		sh := &rt.shadows[i]
		if signer.Covers(uri, sh.region) && !(sh.same && sh.rt.admits(pr)) {
			return true
		}
	}
	return false
}

// admits reports whether route rt serves principal pr (nil: anonymous):
// the same decision serveMedia makes, without asking any backend.
func (rt *route) admits(pr *Principal) bool {
	if rt.public {
		return true
	}
	return pr != nil && authorize(*pr, rt.require) == nil
}

// describe names a principal in an error, for the log.
func describe(pr *Principal) string {
	if pr == nil {
		return "an anonymous user"
	}
	return fmt.Sprintf("subject %q", pr.Subject)
}

// checkTarget is the forward-auth ForwardOptions.Target: what a check
// about r asks. The path is r's canonical path, escaped canonically (never
// the client's spelling), or r's escaped path when it has none. On a
// media route the grant is the claim a token for the path will carry,
// as grantPath names it, for an authenticated principal without claims:
// what forward-auth itself gives; on a streaming route at least the
// directory, which the cookie or the manifest's claim opens (a rewritten
// manifest signs media inside that claim only: rewriter.scopeOf). A path
// grant refuses gets none (the request is refused after the check).
func (g *Gateway) checkTarget(r *http.Request) (path, grant string) {
	rt, p, err := g.routes.lookup(r)
	if err != nil || p == "" {
		return "", ""
	}
	path = signer.EscapePath(p)
	if rt == nil {
		return path, ""
	}
	bp, err := rt.bucketPath(p)
	if err != nil {
		return path, ""
	}
	want := reachOf(rt.scope)
	if want == reachFile && rt.stream.mode != streamOff {
		want = reachDir // the streaming cookie, or the manifest's own claim
	}
	uri, err := g.grant(rt, bp, want, &Principal{})
	if err != nil {
		return path, ""
	}
	return path, rt.grantPath(uri, bp)
}

// grantPath returns the gateway path that claim uri opens, as the
// forward-auth check names it (X-Signgate-Grant): the file bp itself, or
// a directory with a trailing "/", which grants everything below it.
func (rt *route) grantPath(uri, bp string) string {
	if uri == bp {
		return rt.gatewayPath(bp)
	}
	p := "/"
	if uri != "" {
		p = uri
	}
	gp := rt.gatewayPath(p)
	if !strings.HasSuffix(gp, "/") {
		gp += "/"
	}
	return gp
}

// checkMediaPath refuses what a canonical path may hold but a media path
// may not: a ";" in a segment, which servers such as Tomcat, Jetty and
// Spring read as the start of path parameters ("..;" as ".."), so that
// the origin would serve another path than the one signed.
func checkMediaPath(p string) error {
	if strings.IndexByte(p, ';') >= 0 {
		return ErrPathParams
	}
	return nil
}
