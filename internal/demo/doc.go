// Package demo runs signgate's demo: the edge (SQLite in a temporary
// directory, one authenticated bucket holding the sample media, its signing
// key created through the edge's own API), a small web app with a login
// form and a forward-auth check, and the gateway in front of both, all in
// one process. The sample media is embedded; media/generate.sh made it.
//
// App is safe for concurrent use.
package demo
