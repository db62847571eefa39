// Package demo runs signgate's demo: the edge (SQLite in a temporary
// directory, one authenticated bucket holding the sample media, its signing
// key created through the edge's own API), a small web app with a login
// form and a forward-auth check, and the gateway in front of both, all in
// one process. The sample media is embedded; media/generate.sh made it.
//
// The app's page plays the five variants (progressive, HLS and DASH in
// manifest and in cookie mode) with hls.js and dash.js, embedded from
// players/ (players/update.sh copies them from npm at pinned versions),
// and page.js renews what each player holds before its token expires.
//
// App is safe for concurrent use.
package demo
