package filewatch

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Bounds of the retries while a file is missing or bad, or a pair is
// refused: the watcher also retries on its own, in case the file comes
// back without an event it watches (its directory replaced, say).
const (
	RetryMin = time.Second
	RetryMax = 30 * time.Second
)

// The watcher reloads once the files have been quiet for Quiet after a
// change, so that two files replaced one after the other (two mv, two cp)
// are read as one pair, and a file being written is not read half-way; a
// burst of changes delays the reload by QuietMax at most.
const (
	Quiet    = 250 * time.Millisecond
	QuietMax = 2 * time.Second
)

// Options says what Run watches and what it does on a change.
type Options struct {
	// Files are the watched files; empty names are ignored.
	Files []string
	// Reload reads the files again. It keeps what it had on a bad read
	// and logs why.
	Reload func()
	// Bad reports whether the last read was bad (a file missing, a pair
	// refused): Run then retries with backoff, from RetryMin up to
	// RetryMax. Nil: never.
	Bad func() bool
	// Reloaded, when set, is called after each reload (tests wait on it).
	Reloaded func()
	// What names the files in logs, e.g. "key file".
	What string
	Log  *slog.Logger
}

// New watches the directories holding files (a file's own inode changes
// on an atomic replace, its directory's does not).
func New(what string, files []string) (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %ss: %w", what, err)
	}
	dirs := map[string]bool{}
	for _, f := range files {
		if f == "" {
			continue
		}
		d := filepath.Dir(f)
		if dirs[d] {
			continue
		}
		dirs[d] = true
		if err := w.Add(d); err != nil {
			w.Close()
			return nil, fmt.Errorf("watch %s directory %s: %w", what, d, err)
		}
	}
	return w, nil
}

// Run reloads when a watched file, or a link on its way (the "..data"
// swap of a Kubernetes secret), changes in a watched directory, once the
// files have been quiet for Quiet (QuietMax at most). Other files there
// (a log beside the key) are ignored. It returns once w is closed.
func Run(w *fsnotify.Watcher, o Options) {
	retry, quiet := time.NewTimer(time.Hour), time.NewTimer(time.Hour)
	retry.Stop()
	quiet.Stop()
	defer retry.Stop()
	defer quiet.Stop()
	backoff := RetryMin
	var since time.Time // the first change not reloaded yet; zero: none
	schedule := func() {
		if o.Bad != nil && o.Bad() {
			retry.Reset(backoff)
			backoff = min(2*backoff, RetryMax)
		} else {
			retry.Stop()
			backoff = RetryMin
		}
	}
	reload := func() {
		since = time.Time{}
		o.Reload()
		schedule()
		if o.Reloaded != nil {
			o.Reloaded()
		}
	}
	schedule() // a read left bad at start-up
	for {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Chmod) && !ev.Has(fsnotify.Write) || !watches(o.Files, ev.Name) {
				continue
			}
			o.Log.Debug(o.What+" changed", "file", ev.Name, "op", ev.Op.String())
			now := time.Now()
			if since.IsZero() {
				since = now
			}
			quiet.Reset(min(Quiet, since.Add(QuietMax).Sub(now)))
		case <-quiet.C:
			reload()
		case <-retry.C:
			if since.IsZero() { // else the quiet timer reloads soon
				reload()
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			o.Log.Warn("watching "+o.What+"s", "err", err.Error())
		}
	}
}

// watches reports whether a change of name concerns one of files: the
// file itself, a name in its directory that starts with ".." (the
// Kubernetes atomic writer's links and data directories), or a link on
// the file's symlink chain.
func watches(files []string, name string) bool {
	name = filepath.Clean(name)
	for _, f := range files {
		if f == "" {
			continue
		}
		f = filepath.Clean(f)
		if name == f || filepath.Dir(name) == filepath.Dir(f) && strings.HasPrefix(filepath.Base(name), "..") {
			return true
		}
		for _, l := range linkChain(f) {
			if name == l {
				return true
			}
		}
	}
	return false
}

// linkChain returns the paths a symlink at f leads through, at most 8.
func linkChain(f string) []string {
	var out []string
	for range 8 {
		t, err := os.Readlink(f)
		if err != nil {
			return out
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(f), t)
		}
		out = append(out, t)
		f = t
	}
	return out
}
