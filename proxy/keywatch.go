package proxy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Bounds of the retries while a key file is missing or bad, or a pair is
// refused: the watcher also retries on its own, in case the file comes
// back without an event it watches (its directory replaced, say), or the
// route's JWKS comes to list the new kid.
const (
	keyRetryMin = time.Second
	keyRetryMax = 30 * time.Second
)

// The watcher reloads once the key files have been quiet for keyQuiet
// after a change, so that a key and a kid replaced one after the other
// (two mv, two cp) are read as one pair, and a file being written is not
// read half-way; a burst of changes delays the reload by keyQuietMax at
// most.
const (
	keyQuiet    = 250 * time.Millisecond
	keyQuietMax = 2 * time.Second
)

// watchKeys reloads keys when a key file, or a link on its way (the
// "..data" swap of a Kubernetes secret), changes in a watched directory,
// once the files have been quiet for keyQuiet (keyQuietMax at most).
// Other files there (a log beside the key) are ignored. While a file is
// missing or bad, or a pair refused, it retries with backoff, from
// keyRetryMin up to keyRetryMax, besides the events. It returns once the
// watcher is closed.
func (g *Gateway) watchKeys(w *fsnotify.Watcher) {
	defer close(g.watchDone)
	retry, quiet := time.NewTimer(time.Hour), time.NewTimer(time.Hour)
	retry.Stop()
	quiet.Stop()
	defer retry.Stop()
	defer quiet.Stop()
	backoff := keyRetryMin
	var since time.Time // the first change not reloaded yet; zero: none
	schedule := func() {
		if g.keysBad() {
			retry.Reset(backoff)
			backoff = min(2*backoff, keyRetryMax)
		} else {
			retry.Stop()
			backoff = keyRetryMin
		}
	}
	reload := func() {
		since = time.Time{}
		g.Reload()
		schedule()
		if g.opts.Reloaded != nil {
			g.opts.Reloaded()
		}
	}
	schedule() // a pair left unverified at start-up
	for {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Chmod) && !ev.Has(fsnotify.Write) || !g.watches(ev.Name) {
				continue
			}
			g.log.Debug("key file changed", "file", ev.Name, "op", ev.Op.String())
			now := time.Now()
			if since.IsZero() {
				since = now
			}
			quiet.Reset(min(keyQuiet, since.Add(keyQuietMax).Sub(now)))
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
			g.log.Warn("watching key files", "err", err.Error())
		}
	}
}

// watches reports whether a change of name concerns a key file: the file
// itself, a name in its directory that starts with ".." (the Kubernetes
// atomic writer's links and data directories), or a link on the file's
// symlink chain.
func (g *Gateway) watches(name string) bool {
	name = filepath.Clean(name)
	for _, rt := range g.routes {
		for _, f := range []string{rt.keyFile, rt.kidFile} {
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

// newKeyWatcher watches the directories holding the routes' key files.
func (g *Gateway) newKeyWatcher() (*fsnotify.Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch key files: %w", err)
	}
	dirs := map[string]bool{}
	for _, rt := range g.routes {
		for _, f := range []string{rt.keyFile, rt.kidFile} {
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
				return nil, fmt.Errorf("watch key directory %s: %w", d, err)
			}
		}
	}
	return w, nil
}

// hasKeyFiles reports whether a route reads its key from files: without
// one there is nothing to watch.
func (g *Gateway) hasKeyFiles() bool {
	for _, rt := range g.routes {
		if !rt.memory {
			return true
		}
	}
	return false
}
