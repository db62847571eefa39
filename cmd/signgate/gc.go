package main

import (
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// memoryLimitRatio is the share of the container's memory limit given to
// the Go heap as GOMEMLIMIT: the rest is for goroutine stacks, the
// runtime's own memory and what the kernel counts besides.
const memoryLimitRatio = 0.9

// applyGC sets the GC target for a process holding a large resident token
// cache: SIGNGATE_GOGC (default 400) unless GOGC itself is set, which the
// runtime has applied already. GOMEMLIMIT, when set, is honoured by the
// runtime and caps the heap whatever GOGC says.
func applyGC(environ map[string]string, gogc int, log *slog.Logger) {
	if v, ok := environ["GOGC"]; ok && v != "" {
		log.Info("garbage collector", "GOGC", v, "source", "GOGC", "GOMEMLIMIT", environ["GOMEMLIMIT"])
		return
	}
	debug.SetGCPercent(gogc)
	log.Info("garbage collector", "GOGC", gogc, "source", "SIGNGATE_GOGC", "GOMEMLIMIT", environ["GOMEMLIMIT"])
}

// applyMemoryLimit sets the process's memory limit (GOMEMLIMIT) unless
// GOMEMLIMIT is set, which the runtime has applied already, and returns
// a stop for what it started. The ceiling is 90% of the memory limit
// that limit finds (the cgroup's, memlimit.FromCgroup, in a container or
// a systemd unit with MemoryMax): without it a heap under a high GOGC
// grows past the container's limit and the process is killed (a soak of
// the gateway with a full cache peaked at 617-650 MiB of RSS under a 512
// MiB limit).
//
// A gateway passes its token cache's budget as floor (cacheBudget), and
// its heap is then governed: the limit is the budget, raised while the
// live heap needs more (heapLimit), never above the ceiling. So a full
// default cache stays near its budget (~150 MiB of RSS) instead of
// growing to 1 + GOGC/100 times its live data (~470 MiB at GOGC 400),
// while a cache that is not full still gets GOGC's rare collections.
// The edge, with no resident cache, passes 0: the ceiling alone, or no
// limit without a cgroup.
func applyMemoryLimit(environ map[string]string, log *slog.Logger, limit memlimit.Provider, floor int64) (stop func()) {
	if v := environ["GOMEMLIMIT"]; v != "" {
		log.Info("memory limit", "GOMEMLIMIT", v, "source", "GOMEMLIMIT")
		return func() {}
	}
	var ceiling int64
	n, err := limit()
	if err == nil {
		ceiling = int64(float64(n) * memoryLimitRatio)
	}
	switch {
	case floor > 0:
		g := governor{floor: floor, ceiling: ceiling, live: liveHeap}
		set := g.step()
		log.Info("memory limit", "GOMEMLIMIT", set, "source", "token cache budget", "budget", floor, "ceiling", ceiling)
		return g.run(time.Second)
	case err != nil:
		log.Info("memory limit", "GOMEMLIMIT", "none", "source", "no cgroup memory limit found", "err", err.Error())
	default:
		debug.SetMemoryLimit(ceiling)
		log.Info("memory limit", "GOMEMLIMIT", ceiling, "source", "cgroup memory limit", "limit", n)
	}
	return func() {}
}

// cacheBudget is the memory a gateway whose token cache holds entries
// is given by default: 40 MiB for the process besides the cache, and
// 1 KiB per entry (an entry of a usual path is ~0.7 KiB live:
// TestCacheBytesPerEntry in signer). A full default cache: ~138 MiB.
func cacheBudget(entries int) int64 { return 40<<20 + int64(entries)<<10 }

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
