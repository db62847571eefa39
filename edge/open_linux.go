package edge

import (
	"os"

	"golang.org/x/sys/unix"
)

// beneath opens files below a directory with one openat2(2) and
// RESOLVE_BENEATH: the kernel refuses any resolution that would leave the
// directory, through "..", an absolute path or a symbolic link, which is
// what os.Root guarantees too. os.Root walks the path itself, an openat(2)
// and a close(2) per directory level; for a file two levels down that
// costs more than twice as much (BenchmarkOpen, BENCHMARKS.md "Edge"), a
// large share of serving a small segment.
type beneath struct {
	dir *os.File // kept open: fd is its descriptor
	fd  int
}

var openHow = unix.OpenHow{
	Flags:   unix.O_RDONLY | unix.O_CLOEXEC,
	Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
}

// newBeneath returns an opener for root's directory, or nil when the
// kernel has no openat2 (before Linux 5.6) or a seccomp filter refuses it,
// and the caller keeps to os.Root.
func newBeneath(root *os.Root) *beneath {
	dir, err := root.Open(".")
	if err != nil {
		return nil
	}
	b := &beneath{dir: dir, fd: int(dir.Fd())}
	f, err := b.open(".")
	if err != nil {
		dir.Close()
		return nil
	}
	f.Close()
	return b
}

// open opens name, a relative slash-separated path, below the directory.
func (b *beneath) open(name string) (*os.File, error) {
	for {
		fd, err := unix.Openat2(b.fd, name, &openHow)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "openat2", Path: name, Err: err}
		}
		return os.NewFile(uintptr(fd), name), nil
	}
}

func (b *beneath) close() error { return b.dir.Close() }
