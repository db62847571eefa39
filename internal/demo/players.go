package demo

import (
	"embed"
	"net/http"
	"strconv"
	"time"
)

// The players the page loads: hls.js and dash.js, copied from npm at the
// versions in players/VERSIONS by players/update.sh (make players), with
// their licences; and the page's own script.
//
//go:embed players/hls.min.js players/dash.all.min.js players/LICENSE.hls.js players/LICENSE.dashjs.md players/VERSIONS
var playerFiles embed.FS

//go:embed page.js
var pageJS []byte

// player is one <video> on the page.
type player struct {
	Variant   string // element ids: video-<Variant>, state-<Variant>, ...
	Kind      string // progressive, hls, dash
	Streaming string // off, manifest, cookie (the route's mode)
	Title     string
	Mode      string // the one-line explanation of the mode
	Link      string // the gateway path
}

// players lists the page's five players.
func players(l MediaLinks) []player {
	return []player{
		{"progressive", "progressive", "off", "Progressive WebM", "One file, one URL: the gateway redirects the <video> to the edge with ?auth=, a token for this file alone.", l.Progressive},
		{"hls", "hls", "manifest", "HLS, manifest mode (hls.js)", "The gateway fetches each playlist from the edge and rewrites every URI: variant playlists back through the gateway, segments to signed edge URLs.", l.HLS},
		{"hls-cookie", "hls", "cookie", "HLS, cookie mode (hls.js)", "The redirect of the master playlist sets the Qencode-Auth-Token cookie for its directory; hls.js sends it with every relative URL.", l.HLSCookie},
		{"dash", "dash", "manifest", "DASH, manifest mode (dash.js)", "The gateway rewrites the MPD: its SegmentTemplate points at the edge with a token for the segments' directory.", l.DASH},
		{"dash-cookie", "dash", "cookie", "DASH, cookie mode (dash.js)", "The redirect of the MPD sets the Qencode-Auth-Token cookie for its directory; dash.js sends it with every segment request.", l.DASHCookie},
	}
}

// pageConfig is what page.js reads from the page.
type pageConfig struct {
	RenewEvery int64 `json:"renewEvery"` // ms between renewals of a streaming cookie
}

// servePlayers serves /players/... and /page.js.
func servePlayers(mux *http.ServeMux) {
	files := http.FileServerFS(playerFiles)
	mux.Handle("GET /players/", cacheFor(time.Hour, files))
	mux.HandleFunc("GET /page.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(pageJS)
	})
}

func cacheFor(d time.Duration, h http.Handler) http.Handler {
	v := "public, max-age=" + strconv.FormatInt(int64(d/time.Second), 10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", v)
		h.ServeHTTP(w, r)
	})
}
