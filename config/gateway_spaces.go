package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/signgate/signgate/signer"
)

// CheckRouteSpaces refuses a route table in which a route's access rule
// would not hold, because another route hands out the same objects under
// another rule. Validate calls it, and so does proxy.New, which may be
// handed a configuration Validate never saw.
//
// A token belongs to a bucket, not to a host or a path prefix: the edge
// checks it against the whole bucket its key belongs to. Two routes may
// therefore reach the same objects when their CDN bases share a host
// (signer.Base.Host: case, IDNA, IP and port spellings, and the scheme,
// aside; path prefixes are not told apart), or when they hold the same
// key (KEY_ID, KEY_FILE or KEY_ID_FILE), whatever their hosts. Routes on
// different hosts with different keys are taken to be different buckets.
//
// In one such pair, a route maps to the whole bucket when it strips its
// prefix or is the root route; any other route maps to the bucket paths
// under its prefix (a CDN base's path prefix is not signed: the CDN is
// taken to strip it). Two spaces that overlap are sound when the rules
// are the same (PUBLIC and REQUIRE), or when one prefix is nested in the
// other and neither strips it: the gateway sends the paths under the
// longer prefix to that route alone, and the grant keeps the shorter
// route's tokens away from it unless both are on one origin, spelled
// alike, and the user may see both (proxy/grant.go). Anything else is refused, naming both routes:
// /a and /b stripping on one bucket, one public, would hand /b's objects
// to anyone as /a/....
//
// A live stream's route (STREAM_ID) reaches the stream alone: a token of
// a stream key opens that stream on an edge, whatever the host, and
// nothing else; a bucket key opens no stream. So a stream route shares
// its space with the routes of the same STREAM_ID only, and a key (the
// same KEY_ID, KEY_FILE or KEY_ID_FILE) held by routes of two different
// spaces, a bucket and a stream or two streams, is refused: the edge
// knows each key as one bucket's or one stream's.
//
// Prefixes are also compared case-folded (Fold): two that differ only by
// case, or that nest only once folded (/media and /Media/premium), are
// refused, since a case-insensitive origin would read one as the other
// while the gateway routes and narrows them apart.
func (g Gateway) CheckRouteSpaces() error { return errors.Join(g.validateRouteSpaces()...) }

func (g Gateway) validateRouteSpaces() []error {
	type space struct {
		i        int
		prefix   string
		fold     string
		host     string
		keys     []string
		root     string // "/" for the whole bucket
		identity bool   // bucket paths are gateway paths
		rule     string
		stream   string // STREAM_ID: "" for a bucket's route
	}
	var spaces []space
	for i, r := range g.Routes {
		p := NormalizePrefix(r.Prefix)
		b, err := r.Base()
		if err != nil || p == "" || !strings.HasPrefix(p, "/") {
			continue // reported by validateRoutes
		}
		sp := space{
			i: i, prefix: p, fold: Fold(p), host: b.Host(), rule: accessRule(r),
			identity: !r.StripPrefix || p == "/", stream: r.StreamID,
		}
		for _, k := range []string{r.KeyFile, r.KeyIDFile} {
			if k != "" {
				sp.keys = append(sp.keys, "file "+filepath.Clean(k))
			}
		}
		if r.KeyID != "" {
			sp.keys = append(sp.keys, "kid "+r.KeyID)
		}
		sp.root = "/"
		if sp.identity {
			sp.root = p
		}
		spaces = append(spaces, sp)
	}
	var errs []error
	for x, a := range spaces {
		for _, b := range spaces[x+1:] {
			switch {
			case a.fold == b.fold && a.prefix != b.prefix:
				errs = append(errs, fmt.Errorf("%s%d_PREFIX: %q differs from route %d's %q only by case; a case-insensitive origin would read one as the other",
					RoutesPrefix, b.i, b.prefix, a.i, a.prefix))
				continue
			case nested(a.fold, b.fold) != nested(a.prefix, b.prefix):
				errs = append(errs, fmt.Errorf("%[1]s%[2]d_PREFIX and %[1]s%[3]d_PREFIX: %[4]q and %[5]q nest only when case is ignored; a case-insensitive origin would read one inside the other, while the gateway keeps them apart",
					RoutesPrefix, a.i, b.i, a.prefix, b.prefix))
				continue
			}
			sameKey := slices.ContainsFunc(a.keys, func(k string) bool { return slices.Contains(b.keys, k) })
			if sameKey && a.stream != b.stream {
				errs = append(errs, fmt.Errorf("%[1]s%[2]d_KEY_ID and %[1]s%[3]d_KEY_ID: the routes hold the same signing key, but one serves %[4]s and the other %[5]s; a key belongs to one bucket or one live stream (STREAM_ID), so give each its own key",
					RoutesPrefix, a.i, b.i, spaceName(a.stream), spaceName(b.stream)))
				continue
			}
			shared := a.host == b.host || sameKey
			if a.stream != "" || b.stream != "" {
				shared = a.stream == b.stream // one stream, on whichever host
			}
			if !shared || a.rule == b.rule || a.identity && b.identity {
				continue
			}
			if !signer.Covers(a.root, b.root) && !signer.Covers(b.root, a.root) {
				continue
			}
			errs = append(errs, fmt.Errorf("%[1]s%[2]d_PREFIX and %[1]s%[3]d_PREFIX: both may reach bucket paths under %[4]q (their CDN bases share a host or a key, or they serve one STREAM_ID) under different access rules (PUBLIC, REQUIRE), so the stricter one would not hold; give them the same rule, separate buckets with their own keys, or stop stripping the prefix (STRIP_PREFIX)",
				RoutesPrefix, a.i, b.i, cmpRoot(a.root, b.root)))
		}
	}
	return errs
}

// nested reports whether one of two prefixes covers the other at a "/"
// boundary.
func nested(a, b string) bool {
	return signer.Covers(a, b) || signer.Covers(b, a)
}

// accessRule is a route's access rule in a comparable form.
func accessRule(r Route) string {
	if r.Public {
		return "public"
	}
	reqs := r.Requirements()
	out := make([]string, len(reqs))
	for i, q := range reqs {
		out[i] = q.Claim + "=" + q.Value
	}
	slices.Sort(out)
	return "auth " + strings.Join(slices.Compact(out), "\x00")
}

// cmpRoot names the deeper of two overlapping roots.
func cmpRoot(a, b string) string {
	if len(b) > len(a) {
		a = b
	}
	return a
}

// spaceName names what a route's tokens open, for messages.
func spaceName(stream string) string {
	if stream == "" {
		return "a bucket"
	}
	return fmt.Sprintf("live stream %q", stream)
}
