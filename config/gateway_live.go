package config

import (
	"fmt"
	"strings"

	"github.com/signgate/signgate/signer"
)

// validateLive checks route i's live stream setting, STREAM_ID: a valid
// stream id, and a CDN_BASE (no Qencode media-storage bucket serves a
// stream) that, when it ends in the edge's /live/{id} path, names this
// stream.
func (r Route) validateLive(i int) []error {
	if r.StreamID == "" {
		return nil
	}
	var errs []error
	add := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s%d_%s: %s", RoutesPrefix, i, name, fmt.Sprintf(format, args...)))
	}
	if err := CheckStreamID(r.StreamID); err != nil {
		add("STREAM_ID", "%v", err)
	}
	if r.CDNBase == "" {
		add("CDN_BASE", "required with %s%d_STREAM_ID: the stream's base on an edge, such as https://edge.example.com%s%s", RoutesPrefix, i, LivePrefix, r.StreamID)
		return errs
	}
	b, err := signer.ParseBase(r.CDNBase)
	if err != nil {
		return errs // reported by validateRoutes
	}
	if id, ok := liveStreamOf(b.PathPrefix()); ok && id != r.StreamID {
		add("CDN_BASE", "%q is the path of stream %q on an edge, but %s%d_STREAM_ID is %q", r.CDNBase, id, RoutesPrefix, i, r.StreamID)
	}
	return errs
}

// liveStreamOf returns the stream id that an escaped base path ending in
// /live/{id} names on an edge.
func liveStreamOf(prefix string) (string, bool) {
	p, err := signer.CanonicalPath(prefix)
	if err != nil {
		return "", false
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if n := len(segs); n >= 2 && segs[n-2] == strings.Trim(LivePrefix, "/") {
		return segs[n-1], true
	}
	return "", false
}
