package main

import (
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/signgate/signgate/internal/testenv"
)

func TestApplyMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	for _, tc := range []struct {
		name    string
		environ map[string]string
		limit   memlimit.Provider
		floor   int64
		want    int64
		log     string
	}{
		// A gateway: its cache's budget, under the cgroup's ceiling; a
		// ceiling below the budget wins; GOMEMLIMIT still wins over both.
		{"a cache budget", nil, func() (uint64, error) { return 0, memlimit.ErrNoLimit }, cacheBudget(100_000), cacheBudget(100_000), `"source":"token cache budget"`},
		{"a cache budget under a cgroup limit", nil, memlimit.Limit(512 << 20), cacheBudget(100_000), cacheBudget(100_000), `"ceiling":483183820,"cgroup_limit":"536870912"`},
		{"a cgroup limit under the budget", nil, memlimit.Limit(128 << 20), cacheBudget(100_000), 120795955, `"source":"token cache budget"`},
		{"no cgroup", nil, func() (uint64, error) { return 0, errors.New("no cgroup") }, cacheBudget(10), cacheBudget(10), `"ceiling":0,"cgroup_limit":"not found: no cgroup"`},
		// An edge: its verified-token cache's budget, in the same way.
		{"an edge's budget", nil, func() (uint64, error) { return 0, memlimit.ErrNoLimit }, edgeBudget(100_000), edgeBudget(100_000), `"budget":93143040,"ceiling":0,"cgroup_limit":"none"`},
		{"a cgroup limit under an edge's budget", nil, memlimit.Limit(64 << 20), edgeBudget(100_000), 60397977, `"source":"token cache budget"`},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "100MiB"}, memlimit.Limit(512 << 20), edgeBudget(100_000), math.MaxInt64, `"source":"GOMEMLIMIT"`},
		{"GOMEMLIMIT over a budget", map[string]string{"GOMEMLIMIT": "1GiB"}, memlimit.Limit(512 << 20), cacheBudget(100_000), math.MaxInt64, `"source":"GOMEMLIMIT"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetMemoryLimit(math.MaxInt64)
			logs := &testenv.Buffer{}
			stop := applyMemoryLimit(tc.environ, slog.New(slog.NewJSONHandler(logs, nil)), tc.limit, tc.floor)
			stop()
			if got := debug.SetMemoryLimit(-1); got != tc.want {
				t.Errorf("memory limit %d, want %d", got, tc.want)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log %s, want %s in it", logs, tc.log)
			}
		})
	}
}

// TestHeapLimitProperty checks heapLimit over generated heaps, budgets
// and ceilings against its rule: never above a ceiling; else at least
// the budget and at least a quarter over the live heap (so the collector
// never runs in a loop, whatever the paths cost); and a larger live heap
// never lowers the limit.
func TestHeapLimitProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		live, floor := r.Int64N(4<<30), r.Int64N(1<<30)+1
		ceiling := int64(0)
		if r.IntN(2) == 0 {
			ceiling = r.Int64N(2<<30) + 1
		}
		got := heapLimit(live, floor, ceiling)
		switch {
		case ceiling > 0 && got > ceiling:
			t.Fatalf("heapLimit(%d, %d, %d) = %d, over the ceiling", live, floor, ceiling, got)
		case ceiling > 0 && got == ceiling:
		case got < floor || got < live+live/4:
			t.Fatalf("heapLimit(%d, %d, %d) = %d, under the budget or a quarter over the live heap", live, floor, ceiling, got)
		}
		if more := heapLimit(live+r.Int64N(1<<30), floor, ceiling); more < got {
			t.Fatalf("heapLimit(%d, %d, %d) = %d, but a larger live heap gets %d", live, floor, ceiling, got, more)
		}
	}
}

// TestGovernorFollowsTheLiveHeap runs the governor: the limit starts at
// the budget, rises while the live heap grows past what the budget
// holds, and comes back down with it; the live heap it reads is the
// runtime's own.
func TestGovernorFollowsTheLiveHeap(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	var live atomic.Int64
	g := governor{floor: 100 << 20, live: live.Load}
	if got := g.step(); got != 100<<20 {
		t.Fatalf("limit %d with an empty heap, want the budget", got)
	}
	stop := g.run(time.Millisecond)
	defer stop()
	want := func(l int64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for debug.SetMemoryLimit(-1) != l {
			if time.Now().After(deadline) {
				t.Fatalf("limit %d, want %d", debug.SetMemoryLimit(-1), l)
			}
			<-tick.C
		}
	}
	live.Store(200 << 20)
	want(200<<20 + 50<<20 + 16<<20)
	live.Store(10 << 20)
	want(100 << 20)

	runtime.GC()
	if l := liveHeap(); l <= 0 || l > 1<<30 {
		t.Errorf("the runtime's live heap reads %d bytes", l)
	}
}
