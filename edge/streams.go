package edge

import (
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// Live streams. A stream is served like an authenticated bucket, from its
// own origin (a directory an encoder writes HLS or DASH into, or an HTTP
// origin), with two differences:
//
//   - Its tokens are its own: only a key made for its stream_id opens it.
//     The snapshot keeps stream keys apart from bucket keys (snapshot.streams
//     and snapshot.keys), and each space verifies against its own map with
//     a verifier bound to its name, so that a bucket key never opens a
//     stream, nor a stream key a bucket, even where a stream id and a
//     bucket name are spelled alike.
//   - Its playlists change every segment: they are never kept by a cache
//     (no-store), while its segments, written once, may be kept a while
//     (private, max-age=SIGNGATE_EDGE_STREAM_SEGMENT_MAX_AGE).
//
// A stream's files are at /live/{id}/... on every host (its path form,
// ahead of any bucket: a bucket's own /live/{id}/ of a configured stream
// id is not served), and at /... on the stream's own hosts (Qencode's
// play-{id} playback domains). Tokens are checked against the path inside
// the stream: /live/{id}/index.m3u8 is the stream path /index.m3u8, as a
// gateway route whose CDN base is https://edge/live/{id} signs it.

// metricsLabel is the bucket label of a stream's series: no bucket name
// holds a "/", so it never meets a bucket's.
func metricsLabel(streamID string) string {
	return strings.TrimPrefix(config.LivePrefix, "/") + streamID
}

// openStreams opens the configured streams' origins and maps their ids
// and hosts; problems are collected into errs, naming the variable.
func (e *Edge) openStreams(errs []error) []error {
	for i, sc := range e.cfg.Streams {
		s := &bucket{name: sc.ID, stream: true, defaultPolicy: Authenticated, metrics: e.metrics.bucket(metricsLabel(sc.ID))}
		if err := e.open(s, sc.Origin, sc.IsURL()); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", config.StreamVar(i, "ORIGIN"), err))
			continue
		}
		e.streams = append(e.streams, s)
		e.byStream[s.name] = s
		for _, h := range e.cfg.StreamHostsOf(i) {
			e.streamHosts[h] = s
		}
	}
	return errs
}

// target maps a request to the bucket or stream it asks for, and the
// canonical path inside it (err when the request path is not canonical):
// a stream's own host first, then a stream's path form /live/{id}/...,
// then the bucket of the host. The space is nil when none matches.
func (e *Edge) target(r *http.Request) (*bucket, string, error) {
	host := hostName(r.Host)
	p, err := signer.CanonicalPath(r.URL.EscapedPath())
	if s := e.streamHosts[host]; s != nil {
		return s, p, err
	}
	if err == nil {
		if s, sp := e.livePath(p); s != nil {
			return s, sp, nil
		}
	}
	return e.bucketFor(host), p, err
}

// livePath returns the stream whose path form canonical path p is under,
// and the path inside the stream ("/" for the stream's root, which names
// no file); nil when p is no configured stream's.
func (e *Edge) livePath(p string) (*bucket, string) {
	rest, ok := strings.CutPrefix(p, config.LivePrefix)
	if !ok || len(e.byStream) == 0 {
		return nil, ""
	}
	id, sub, _ := strings.Cut(rest, "/")
	s := e.byStream[id]
	if s == nil {
		return nil, ""
	}
	return s, "/" + sub
}

// keysOf returns the keys that may open b in snapshot s: the stream keys
// of a stream, the bucket keys of a bucket.
func (b *bucket) keysOf(s *snapshot) signer.Keys {
	if b.stream {
		return s.streams
	}
	return s.keys
}

// cacheControl returns the Cache-Control of a successful answer for the
// file at path p of b, private marking an authenticated bucket; "" leaves
// the header alone (a public bucket: the origin's, or none).
func (e *Edge) cacheControl(b *bucket, p string, private bool) string {
	switch {
	case b.stream && isPlaylist(p):
		return "no-store"
	case b.stream:
		return "private, max-age=" + strconv.Itoa(int(e.cfg.StreamSegmentMaxAge.Seconds()))
	case private:
		return "private"
	}
	return ""
}

// isPlaylist reports whether p is an HLS playlist or a DASH manifest,
// which a live encoder rewrites every segment.
func isPlaylist(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".m3u8", ".m3u", ".mpd":
		return true
	}
	return false
}
