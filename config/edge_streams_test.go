package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoadEdgeStreams(t *testing.T) {
	m := edgeEnv()
	m["SIGNGATE_EDGE_STREAMS_0_ID"] = "cam1"
	m["SIGNGATE_EDGE_STREAMS_0_ORIGIN"] = "/srv/live/cam1"
	m["SIGNGATE_EDGE_STREAMS_0_HOSTS"] = "Play-Cam1.example.com, cam1.example.net"
	m["SIGNGATE_EDGE_STREAMS_1_ID"] = "Studio_B.2"
	m["SIGNGATE_EDGE_STREAMS_1_ORIGIN"] = "http://packager.internal:8080/b"
	c, err := LoadEdge(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Streams) != 2 || c.Streams[0].IsURL() || !c.Streams[1].IsURL() || c.Streams[1].ID != "Studio_B.2" {
		t.Fatalf("streams = %+v", c.Streams)
	}
	if got := strings.Join(c.StreamHostsOf(0), " "); got != "play-cam1.example.com cam1.example.net" {
		t.Errorf("StreamHostsOf(0) = %q", got)
	}
	if c.StreamSegmentMaxAge != time.Minute {
		t.Errorf("segment max-age %s", c.StreamSegmentMaxAge)
	}
}

// TestLoadEdgeStreamsOnly: an edge may serve live streams and no bucket.
func TestLoadEdgeStreamsOnly(t *testing.T) {
	m := edgeEnv()
	for _, k := range []string{"SIGNGATE_EDGE_BUCKETS_0_NAME", "SIGNGATE_EDGE_BUCKETS_0_REGION", "SIGNGATE_EDGE_BUCKETS_0_ORIGIN"} {
		delete(m, k)
	}
	m["SIGNGATE_EDGE_STREAMS_0_ID"] = "cam1"
	m["SIGNGATE_EDGE_STREAMS_0_ORIGIN"] = "/srv/live/cam1"
	if _, err := LoadEdge(m); err != nil {
		t.Fatal(err)
	}
	m["SIGNGATE_EDGE_SINGLE_BUCKET"] = "true"
	if _, err := LoadEdge(m); err == nil || !strings.Contains(err.Error(), "SIGNGATE_EDGE_SINGLE_BUCKET: single-bucket mode needs exactly one bucket, 0") {
		t.Errorf("single-bucket mode without a bucket: %v", err)
	}
}

func TestLoadEdgeStreamErrors(t *testing.T) {
	stream := map[string]string{"SIGNGATE_EDGE_STREAMS_0_ID": "cam1", "SIGNGATE_EDGE_STREAMS_0_ORIGIN": "/srv/live"}
	for _, tc := range []struct {
		name string
		set  map[string]string // on top of stream 0; "" deletes
		want string
	}{
		{"bad id", map[string]string{"SIGNGATE_EDGE_STREAMS_0_ID": "cam/1"}, "SIGNGATE_EDGE_STREAMS_0_ID: \"cam/1\": a stream id is"},
		{"dot dot id", map[string]string{"SIGNGATE_EDGE_STREAMS_0_ID": ".."}, "SIGNGATE_EDGE_STREAMS_0_ID"},
		{"no id", map[string]string{"SIGNGATE_EDGE_STREAMS_0_ID": ""}, "SIGNGATE_EDGE_STREAMS_0_ID: \"\": a stream id is"},
		{"long id", map[string]string{"SIGNGATE_EDGE_STREAMS_0_ID": strings.Repeat("a", 129)}, "SIGNGATE_EDGE_STREAMS_0_ID"},
		{"no origin", map[string]string{"SIGNGATE_EDGE_STREAMS_0_ORIGIN": ""}, "SIGNGATE_EDGE_STREAMS_0_ORIGIN: required"},
		{"rtmp origin", map[string]string{"SIGNGATE_EDGE_STREAMS_0_ORIGIN": "rtmp://encoder/live"}, "SIGNGATE_EDGE_STREAMS_0_ORIGIN: \"rtmp://encoder/live\": a URL origin must be http or https"},
		{"duplicate id", map[string]string{"SIGNGATE_EDGE_STREAMS_1_ID": "cam1", "SIGNGATE_EDGE_STREAMS_1_ORIGIN": "/x"},
			"SIGNGATE_EDGE_STREAMS_1_ID: stream \"cam1\" is also stream 0"},
		{"bad host", map[string]string{"SIGNGATE_EDGE_STREAMS_0_HOSTS": "play.example.com:443"}, "SIGNGATE_EDGE_STREAMS_0_HOSTS: \"play.example.com:443\" is not a host name"},
		{"a bucket's host", map[string]string{"SIGNGATE_EDGE_STREAMS_0_HOSTS": "media.media-storage.us-west.example.com"},
			"SIGNGATE_EDGE_STREAMS_0_HOSTS: host \"media.media-storage.us-west.example.com\" is also mapped to bucket 0"},
		{"another stream's host", map[string]string{"SIGNGATE_EDGE_STREAMS_0_HOSTS": "play.example.com", "SIGNGATE_EDGE_STREAMS_1_ID": "cam2",
			"SIGNGATE_EDGE_STREAMS_1_ORIGIN": "/x", "SIGNGATE_EDGE_STREAMS_1_HOSTS": "PLAY.example.com"},
			"SIGNGATE_EDGE_STREAMS_1_HOSTS: host \"play.example.com\" is also mapped to stream 0"},
		{"gap", map[string]string{"SIGNGATE_EDGE_STREAMS_2_ID": "late"}, "SIGNGATE_EDGE_STREAMS_2_ID: stream 2 is ignored"},
		{"no number", map[string]string{"SIGNGATE_EDGE_STREAMS_X_ID": "late"}, "SIGNGATE_EDGE_STREAMS_X_ID: not a stream setting; want SIGNGATE_EDGE_STREAMS_<n>_ID"},
		{"misspelt", map[string]string{"SIGNGATE_EDGE_STREAMS_0_DIR": "/x"}, "SIGNGATE_EDGE_STREAMS_0_DIR: unknown variable"},
		{"negative max-age", map[string]string{"SIGNGATE_EDGE_STREAM_SEGMENT_MAX_AGE": "-1s"}, "SIGNGATE_EDGE_STREAM_SEGMENT_MAX_AGE: -1s: must be between 0s and 24h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := edgeEnv()
			for k, v := range stream {
				m[k] = v
			}
			for k, v := range tc.set {
				if v == "" {
					delete(m, k)
				} else {
					m[k] = v
				}
			}
			_, err := LoadEdge(m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q in it", err, tc.want)
			}
		})
	}
}
