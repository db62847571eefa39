//go:build !linux

package edge

import "os"

// beneath is Linux's openat2(2) opener (open_linux.go); elsewhere os.Root
// opens every file.
type beneath struct{}

func newBeneath(*os.Root) *beneath { return nil }

func (*beneath) open(string) (*os.File, error) { panic("edge: no openat2 on this system") }

func (*beneath) close() error { return nil }
