package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEdgeCommandSIGHUP: SIGHUP makes a running edge read its store again
// and keep serving; before, it ended the edge (Go's default), which the
// soak found.
func TestEdgeCommandSIGHUP(t *testing.T) {
	environ, _ := edgeTestEnviron(t)
	media, _, logs := startEdgeCommand(t, environ)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(logs.String(), "SIGHUP: refreshing keys and policies") {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("no refresh logged after SIGHUP\n%s", logs.String())
		}
	}
	if st, b := httpGet(t, media+"/v/seg.ts"); st != 200 || b != "SEGMENT" {
		t.Fatalf("after SIGHUP: %d %q", st, b)
	}
}
