package main

import (
	"errors"
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"testing"

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
		want    int64
		log     string
	}{
		{"a cgroup limit", nil, memlimit.Limit(512 << 20), 483183820, `"source":"cgroup memory limit"`},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "100MiB"}, memlimit.Limit(512 << 20), math.MaxInt64, `"source":"GOMEMLIMIT"`},
		{"no limit", nil, func() (uint64, error) { return 0, memlimit.ErrNoLimit }, math.MaxInt64, `"GOMEMLIMIT":"none"`},
		{"no cgroup", nil, func() (uint64, error) { return 0, errors.New("no cgroup") }, math.MaxInt64, `"GOMEMLIMIT":"none"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetMemoryLimit(math.MaxInt64)
			logs := &testenv.Buffer{}
			applyMemoryLimit(tc.environ, slog.New(slog.NewJSONHandler(logs, nil)), tc.limit)
			if got := debug.SetMemoryLimit(-1); got != tc.want {
				t.Errorf("memory limit %d, want %d", got, tc.want)
			}
			if !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log %s, want %s in it", logs, tc.log)
			}
		})
	}
}
