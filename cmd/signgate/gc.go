package main

import (
	"errors"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// memoryLimitRatio is the share of the container's memory limit given to
// the Go heap as GOMEMLIMIT: the rest is for goroutine stacks, the
// runtime's own memory and what the kernel counts besides.
const memoryLimitRatio = 0.9

// applyGC sets the GC target gogc (SIGNGATE_GOGC or SIGNGATE_EDGE_GOGC,
// default 400; 0 leaves Go's 100) unless GOGC itself is set, which the
// runtime has applied already. GOMEMLIMIT, when set, is honoured by the
// runtime and caps the heap whatever GOGC says; without it,
// applyMemoryLimit's budget does. A
// gateway's resident token cache is mostly live data, which a higher
// target than Go's 100 scans less often. An edge's heap is mostly garbage
// of its requests: at 100 it is collected many times a second under
// load, and each collection shrinks the stacks of the connections'
// goroutines, which their next request grows again (with the collection,
// 4.3-5.2 % of an edge's CPU serving 1 KiB files under perf, 0.7-1.0 %
// at 400).
func applyGC(environ map[string]string, gogc int, log *slog.Logger) {
	if v, ok := environ["GOGC"]; ok && v != "" {
		log.Info("garbage collector", "GOGC", v, "source", "GOGC", "GOMEMLIMIT", environ["GOMEMLIMIT"])
		return
	}
	if gogc == 0 {
		log.Info("garbage collector", "GOGC", 100, "source", "Go's default", "GOMEMLIMIT", environ["GOMEMLIMIT"])
		return
	}
	debug.SetGCPercent(gogc)
	log.Info("garbage collector", "GOGC", gogc, "source", "SIGNGATE_GOGC", "GOMEMLIMIT", environ["GOMEMLIMIT"])
}

// applyMemoryLimit sets the process's memory limit (GOMEMLIMIT) unless
// GOMEMLIMIT is set, which the runtime has applied already, and returns
// a stop for what it started. The process passes the budget of its
// token cache as floor (cacheBudget for a gateway, edgeBudget for an
// edge), and its heap is then governed: the limit is the budget, raised
// while the live heap needs more (heapLimit), never above the ceiling,
// 90% of the memory limit that limit finds (the cgroup's,
// memlimit.FromCgroup, in a container or a systemd unit with MemoryMax).
// Without the ceiling a heap under a high GOGC grows past the
// container's limit and the process is killed (a soak of the gateway
// with a full cache peaked at 617-650 MiB of RSS under a 512 MiB
// limit); without the budget a full default cache would grow to 1 +
// GOGC/100 times its live data (~470 MiB at GOGC 400) instead of
// staying near it (~150 MiB of RSS), while a cache that is not full
// still gets GOGC's rare collections.
func applyMemoryLimit(environ map[string]string, log *slog.Logger, limit memlimit.Provider, floor int64) (stop func()) {
	if v := environ["GOMEMLIMIT"]; v != "" {
		log.Info("memory limit", "GOMEMLIMIT", v, "source", "GOMEMLIMIT")
		return func() {}
	}
	var ceiling int64
	cgroup := "none"
	if n, err := limit(); err == nil {
		ceiling, cgroup = int64(float64(n)*memoryLimitRatio), strconv.FormatUint(n, 10)
	} else if !errors.Is(err, memlimit.ErrNoLimit) {
		cgroup = "not found: " + err.Error()
	}
	g := governor{floor: floor, ceiling: ceiling, live: liveHeap}
	set := g.step()
	log.Info("memory limit", "GOMEMLIMIT", set, "source", "token cache budget", "budget", floor, "ceiling", ceiling, "cgroup_limit", cgroup)
	return g.run(time.Second)
}

// cacheBudget is the memory a gateway whose token cache holds entries
// is given by default: 40 MiB for the process besides the cache, and
// 1 KiB per entry (an entry of a usual path is ~0.7 KiB live:
// TestCacheBytesPerEntry in signer). A full default cache: ~138 MiB.
func cacheBudget(entries int) int64 { return 40<<20 + int64(entries)<<10 }

// edgeBudget is the memory an edge whose verified-token cache holds
// entries is given by default: 40 MiB for the process besides the cache,
// and 512 bytes per entry (~340 live: TestVerifiedBytesPerEntry in edge).
// A full default cache: ~89 MiB.
func edgeBudget(entries int) int64 { return 40<<20 + int64(entries)<<9 }

// heapLimit is the memory limit for a live heap of live bytes: the
// floor, or the live heap and a quarter more (plus 16 MiB) when that is
// larger, so that a heap of longer paths than the budget assumed is
// collected about as often as under GOGC=25, never in a loop; at most
// the ceiling when there is one (> 0).
func heapLimit(live, floor, ceiling int64) int64 {
	l := max(floor, live+live/4+16<<20)
	if ceiling > 0 {
		l = min(l, ceiling)
	}
	return l
}

// governor keeps the memory limit at heapLimit of the live heap.
type governor struct {
	floor, ceiling int64
	live           func() int64
}

// step sets the limit for the live heap now and returns it.
func (g governor) step() int64 {
	l := heapLimit(g.live(), g.floor, g.ceiling)
	debug.SetMemoryLimit(l)
	return l
}

// run calls step every interval until the returned stop is called.
func (g governor) run(interval time.Duration) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				g.step()
			}
		}
	}()
	return func() { close(done); <-exited }
}

// liveHeap is the heap the last collection found live, in bytes.
func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}
