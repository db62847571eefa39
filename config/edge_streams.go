package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Stream is one live stream an edge serves: SIGNGATE_EDGE_STREAMS_<n>_*.
// Its files (playlists and segments that an encoder writes) are served
// under /live/{id}/ on every host, and under / on its own hosts; only
// tokens signed by a key of the stream's id open them.
type Stream struct {
	// ID is the stream's id, the stream_id its signing keys are made
	// for: 1 to 128 letters, digits, dots, hyphens and underscores.
	ID string `env:"ID"`
	// Origin is where the stream's files are: a local directory that an
	// encoder writes HLS or DASH into, or an http(s) URL (a packager, an
	// object store) that request paths are appended to.
	Origin string `env:"ORIGIN"`
	// Hosts are playback domains of the stream alone, as Qencode's
	// play-{id} hosts: there the stream's files are at /, not under
	// /live/{id}/. Comma-separated.
	Hosts []string `env:"HOSTS"`
}

// LivePrefix starts the path of a live stream's files on any host of an
// edge: /live/{stream_id}/index.m3u8.
const LivePrefix = "/live/"

// streamID is the form of a live stream id, for the edge's streams, its
// control API and the gateway's stream routes alike.
var streamID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// CheckStreamID reports whether id is a valid live stream id: 1 to 128
// letters, digits, dots, hyphens and underscores, and not "." or "..",
// which no canonical path can hold as a segment.
func CheckStreamID(id string) error {
	if !streamID.MatchString(id) || id == "." || id == ".." {
		return fmt.Errorf("%q: a stream id is 1 to 128 letters, digits, dots, hyphens and underscores (not . or ..)", truncateID(id))
	}
	return nil
}

func truncateID(id string) string {
	if len(id) > 140 {
		return id[:140] + "..."
	}
	return id
}

// StreamVar names the variable of stream i's field, such as
// SIGNGATE_EDGE_STREAMS_0_ORIGIN, for messages.
func StreamVar(i int, field string) string {
	return fmt.Sprintf("%sEDGE_STREAMS_%d_%s", Prefix, i, field)
}

// IsURL reports whether the stream's origin is an http(s) URL rather than
// a directory.
func (s Stream) IsURL() bool { return isURL(s.Origin) }

// StreamHostsOf returns the host names of stream i, lowercase.
func (c Edge) StreamHostsOf(i int) []string {
	var hs []string
	for _, h := range c.Streams[i].Hosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			hs = append(hs, h)
		}
	}
	return hs
}

// validateStreams checks the streams, each problem naming its variable;
// bucketHosts are the buckets' host names, by bucket number, which no
// stream may take.
func (c *Edge) validateStreams(bucketHosts map[string]int) []error {
	var errs []error
	bad := func(i int, field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", StreamVar(i, field), fmt.Sprintf(format, args...)))
	}
	if c.StreamSegmentMaxAge < 0 || c.StreamSegmentMaxAge > 24*time.Hour {
		errs = append(errs, fmt.Errorf("%sEDGE_STREAM_SEGMENT_MAX_AGE: %s: must be between 0s and 24h", Prefix, c.StreamSegmentMaxAge))
	}
	ids := map[string]int{}
	hosts := map[string]int{}
	for i, s := range c.Streams {
		if err := CheckStreamID(s.ID); err != nil {
			bad(i, "ID", "%v", err)
		} else if j, dup := ids[s.ID]; dup {
			bad(i, "ID", "stream %q is also stream %d", s.ID, j)
		} else {
			ids[s.ID] = i
		}
		if err := checkOrigin(s.Origin); err != nil {
			bad(i, "ORIGIN", "%v", err)
		}
		for _, h := range s.Hosts {
			if h = strings.TrimSpace(h); !hostName.MatchString(strings.ToLower(h)) {
				bad(i, "HOSTS", "%q is not a host name (no scheme, port or path)", h)
			}
		}
		for _, h := range c.StreamHostsOf(i) {
			if j, dup := bucketHosts[h]; dup {
				bad(i, "HOSTS", "host %q is also mapped to bucket %d", h, j)
			} else if j, dup := hosts[h]; dup && j != i {
				bad(i, "HOSTS", "host %q is also mapped to stream %d", h, j)
			}
			hosts[h] = i
		}
	}
	return append(errs, listGaps(c.streamVars, "EDGE_STREAMS_", "stream", "ID", len(c.Streams))...)
}
