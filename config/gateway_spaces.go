package config

import (
	"fmt"
	"slices"
	"strings"

	"github.com/signgate/signgate/signer"
)

// validateRouteSpaces refuses a route table in which a route's access
// rule would not hold, because another route hands out the same objects
// under another rule. Two routes reach the same objects when they are on
// one origin (signer.Base.Origin: host case, trailing dot, default port
// and scheme aside; never compared by key or kid, since an edge accepts
// any key of the bucket) and their bucket spaces overlap: a route that
// strips its prefix (or the root route) maps to the whole bucket, any
// other to the bucket paths under its prefix.
//
// Such an overlap is sound when the two rules are the same (PUBLIC and
// REQUIRE), or when neither route strips its prefix: then the longer
// prefix is nested in the shorter one and the gateway sends the paths
// under it to the longer route alone, which the grant keeps tokens of the
// shorter one away from (proxy/grant.go). Anything else is refused,
// naming both routes: /a stripped and /b stripped on one bucket, one
// public, would hand /b's objects to anyone as /a/....
//
// Prefixes that differ only by case are refused too: the gateway refuses
// paths that read as a media path case-folded, and could not tell those
// routes apart.
func (g Gateway) validateRouteSpaces() []error {
	type space struct {
		i        int
		origin   string
		root     string // "" for the whole bucket
		identity bool
		rule     string
	}
	var spaces []space
	var errs []error
	folded := map[string]int{}
	for i, r := range g.Routes {
		p := NormalizePrefix(r.Prefix)
		if j, dup := folded[strings.ToLower(p)]; dup && NormalizePrefix(g.Routes[j].Prefix) != p {
			errs = append(errs, fmt.Errorf("%s%d_PREFIX: %q differs from route %d's %q only by case; the gateway reads paths case-folded to refuse look-alikes, and cannot tell them apart",
				RoutesPrefix, i, r.Prefix, j, g.Routes[j].Prefix))
		}
		folded[strings.ToLower(p)] = i
		b, err := r.Base()
		if err != nil || p == "" || !strings.HasPrefix(p, "/") {
			continue // reported by validateRoutes
		}
		sp := space{i: i, origin: b.Origin(), identity: !r.StripPrefix || p == "/", rule: accessRule(r)}
		if sp.identity && p != "/" {
			sp.root = p
		}
		spaces = append(spaces, sp)
	}
	for x, a := range spaces {
		for _, b := range spaces[x+1:] {
			if a.origin != b.origin || a.rule == b.rule || a.identity && b.identity {
				continue
			}
			if !signer.Covers(a.root, b.root) && !signer.Covers(b.root, a.root) {
				continue
			}
			errs = append(errs, fmt.Errorf("%[1]s%[2]d_PREFIX and %[1]s%[3]d_PREFIX: both reach bucket paths under %[4]q of %[5]s under different access rules (PUBLIC, REQUIRE), so the stricter one would not hold; give them the same rule, separate CDN bases, or stop stripping the prefix (STRIP_PREFIX)",
				RoutesPrefix, a.i, b.i, cmpRoot(a.root, b.root), a.origin))
		}
	}
	return errs
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
	if a == "" {
		return "/"
	}
	return a
}
