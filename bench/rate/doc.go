// Command rate is the open-loop, constant-rate HTTP load generator of
// bench/run (its miss-rate and ahead cases): wrk2's method, in Go.
//
//	rate -url http://127.0.0.1:PORT -rate 400 -duration 20s -paths distinct -prefix /media/miss -tag RUN
//	rate -url http://127.0.0.1:PORT -rate 1000 -duration 60s -paths hot -hot 8 -prefix /media/hot \
//	     -H 'X-Forwarded-User: alice' -status 302 -metrics http://127.0.0.1:MPORT/metrics \
//	     -counters signgate_token_signatures_total,signgate_token_cache_misses_total -timeline FILE
//
// Request i is due at start + i/rate, whatever became of the ones before
// it: the schedule never waits for an answer (open loop), each request
// goes out on its own goroutine when it is due, and its latency is taken
// from the time it was due, not from the time it went out. So a server
// that stalls is charged for every request that should have been sent
// meanwhile, and the percentiles have no coordinated omission, as wrk2's
// corrected ones. The generator's own lateness (due to dispatched) is
// reported apart (lag_*), so a busy load core can be told from a slow
// server. Connections are capped by -conns; a request waiting for one is
// still timed from when it was due.
//
// Paths: "distinct" sends PREFIX/TAG/i.ts, a new path every request (a
// token-cache miss each); "hot" sends PREFIX/(i mod N).ts, N hot paths.
//
// The first -warmup of the schedule is sent but not counted. Percentiles
// are exact (nearest rank over every counted request, errors included).
// With -metrics, the sums of the -counters on that Prometheus text page
// are read when the counted window starts, every second of it, and after
// its last answer; the RESULT line has their growth over the window, and
// the timeline (-timeline FILE, one TSV row per second of the window) has
// it per second next to that second's latencies.
//
// Output, on stdout, one line: RESULT key=value ... (microseconds), read
// by bench/run. Why not vegeta (v12.13.0, in the module proxy): its
// result's timestamp is taken when a worker picks the tick up, so time a
// request spends waiting for a worker or a connection is not in its
// latency; its percentiles are estimates; a new path per request would
// need a target feeder; and installing it would build its dependencies on
// a shared 2-core machine at every run. This is ~500 lines, and tested.
//
// Everything is safe to run concurrently; rate only ever talks to the
// -url and -metrics given, which bench/run sets to 127.0.0.1.
package main
