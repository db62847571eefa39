// Command peer holds the plain Go servers that bench/run measures signgate
// against, and a port picker for the script:
//
//	peer redirect -listen ADDR -location URL   a bare net/http handler writing signgate's 302
//	peer files -listen ADDR -dir DIR           http.FileServer over DIR
//	peer proxy -listen ADDR -upstream URL      a bare httputil.ReverseProxy
//	peer ports N                               print N free 127.0.0.1 ports
//
// The servers have no middleware, no logging and no timeouts beyond
// signgate's own server limits: they are the ceiling of a net/http stack
// on this machine, not products. They stop on SIGINT or SIGTERM.
package main
