package main

import (
	"log/slog"
	"runtime/debug"

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

// applyMemoryLimit sets GOMEMLIMIT to 90% of the memory limit that limit
// finds (the cgroup's, memlimit.FromCgroup, in a container or a systemd
// unit with MemoryMax), unless GOMEMLIMIT is set, which the runtime has
// applied already. Without it a heap under a high GOGC grows past the
// container's limit and the process is killed: a soak of the gateway
// with a full cache peaked at 617-650 MiB of RSS under a 512 MiB limit.
// No limit found leaves the runtime's default (none).
func applyMemoryLimit(environ map[string]string, log *slog.Logger, limit memlimit.Provider) {
	if v := environ["GOMEMLIMIT"]; v != "" {
		log.Info("memory limit", "GOMEMLIMIT", v, "source", "GOMEMLIMIT")
		return
	}
	n, err := limit()
	if err != nil {
		log.Info("memory limit", "GOMEMLIMIT", "none", "source", "no cgroup memory limit found", "err", err.Error())
		return
	}
	set := int64(float64(n) * memoryLimitRatio)
	debug.SetMemoryLimit(set)
	log.Info("memory limit", "GOMEMLIMIT", set, "source", "cgroup memory limit", "limit", n)
}
