package demo

import (
	"embed"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

//go:embed media/progressive.webm media/hls media/dash
var sampleMedia embed.FS

// embeddedMedia is the sample media that media/generate.sh made: six
// seconds of each kind.
func embeddedMedia() fs.FS {
	sub, err := fs.Sub(sampleMedia, "media")
	if err != nil {
		panic(err) // "media" is a valid path: cannot happen
	}
	return sub
}

// Bucket is the demo's authenticated bucket.
const Bucket = "demo"

// Links returns where the sample media sits, as the gateway and the
// bucket see it. The bucket holds it under these same paths, so the routes
// need not strip their prefixes: /media/ (progressive, file scope),
// /media/hls/ and /media/dash/ (manifests rewritten), /cookie/hls/ and
// /cookie/dash/ (signed-cookie mode).
func Links() MediaLinks {
	return MediaLinks{
		Progressive: "/media/progressive.webm",
		HLS:         "/media/hls/master.m3u8",
		DASH:        "/media/dash/manifest.mpd",
		HLSCookie:   "/cookie/hls/master.m3u8",
		DASHCookie:  "/cookie/dash/manifest.mpd",
	}
}

// renewEvery is how often the page renews the streaming cookie: half the
// least validity a token has when the gateway hands it out, so that the
// cookie the browser holds never has less than half of it left.
func renewEvery(ttl, minValidity time.Duration) time.Duration {
	if minValidity <= 0 {
		minValidity = ttl / 2
	}
	return max(minValidity/2, time.Second)
}

// extractMedia writes the sample media in src into dir under the paths the
// routes use: media/... and a copy of the HLS ladder and of the DASH set
// under cookie/hls and cookie/dash.
func extractMedia(src fs.FS, dir string) error {
	return fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		targets := []string{path.Join("media", p)}
		for _, kind := range []string{"hls", "dash"} {
			if rest, ok := strings.CutPrefix(p, kind+"/"); ok {
				targets = append(targets, path.Join("cookie", kind, rest))
			}
		}
		for _, t := range targets {
			out := filepath.Join(dir, filepath.FromSlash(t))
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(out, data, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}
