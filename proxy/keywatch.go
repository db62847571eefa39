package proxy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// keyState is what the last load of a route's key files found.
type keyState uint8

const (
	keyOK       keyState = iota
	keyMissing           // a file is not there; the old key is kept
	keyInvalid           // a file cannot be read or holds no key; the old key is kept
	keyMismatch          // a new key under a kid fixed in the environment; the old key is kept
)

func (s keyState) String() string {
	return [...]string{"ok", "missing", "invalid", "mismatch"}[s]
}

// Bounds of the retries while a key file is missing or bad: the watcher
// also retries on its own, in case the file comes back without an event
// it watches (its directory replaced, say).
const (
	keyRetryMin = time.Second
	keyRetryMax = 30 * time.Second
)

// Reload reads every route's key file again. A file that is unchanged
// keeps its key (and its cached tokens); a bad new file keeps the old key
// and is part of the returned error. Each route's state (ok, missing,
// invalid) is logged when it changes, not at every attempt, and exported
// as signgate_key_state. Safe to call while requests are served.
func (g *Gateway) Reload() error {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	var errs []error
	for _, rt := range g.routes {
		changed, err := rt.loadKey()
		state := keyOK
		if err != nil {
			state = keyInvalid
			if errors.Is(err, fs.ErrNotExist) {
				state = keyMissing
			} else if ke, ok := errors.AsType[*keyError](err); ok && ke.mismatch {
				state = keyMismatch
			}
			errs = append(errs, err)
			g.metrics.keyReloads.WithLabelValues(rt.name, "error").Inc()
		}
		g.setKeyState(rt, state, err)
		if changed {
			g.metrics.keyReloads.WithLabelValues(rt.name, "changed").Inc()
			g.log.Info("key reloaded", "route", rt.name, "file", rt.keyFile, "scheme", rt.scheme.Name(), "kid", rt.currentSigner().KeyID())
		}
	}
	return errors.Join(errs...)
}

// setKeyState records route rt's key state, logging a change once: an
// ERROR when a file goes bad, INFO when it is good again. Called under
// reloadMu.
func (g *Gateway) setKeyState(rt *route, s keyState, err error) {
	old := rt.keyState
	rt.keyState = s
	for _, st := range []keyState{keyOK, keyMissing, keyInvalid, keyMismatch} {
		v := 0.0
		if st == s {
			v = 1
		}
		g.metrics.keyState.WithLabelValues(rt.name, st.String()).Set(v)
	}
	file := rt.keyFile
	if ke, ok := errors.AsType[*keyError](err); ok {
		file = ke.file
	}
	switch {
	case s == old && err != nil:
		g.log.Debug("key reload failed again; keeping the previous key", "route", rt.name, "file", file, "state", s.String())
	case err != nil:
		g.log.Error("key reload failed; keeping the previous key until the file is good", "route", rt.name, "file", file, "state", s.String(), "err", err.Error())
	case old != keyOK:
		g.log.Info("key file good again", "route", rt.name, "file", rt.keyFile)
	}
}

// keysBad reports whether a route's key file was missing or bad at the
// last load.
func (g *Gateway) keysBad() bool {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	for _, rt := range g.routes {
		if rt.keyState != keyOK {
			return true
		}
	}
	return false
}

// watchKeys reloads keys when a key file, or a link on its way (the
// "..data" swap of a Kubernetes secret), changes in a watched directory.
// Other files there (a log beside the key) are ignored. While a file is
// missing or bad it retries with backoff, from keyRetryMin up to
// keyRetryMax, besides the events. It returns once the watcher is closed.
func (g *Gateway) watchKeys(w *fsnotify.Watcher) {
	defer close(g.watchDone)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	backoff := keyRetryMin
	reload := func() {
		g.Reload()
		if g.keysBad() {
			retry.Reset(backoff)
			backoff = min(2*backoff, keyRetryMax)
		} else {
			retry.Stop()
			backoff = keyRetryMin
		}
		if g.opts.Reloaded != nil {
			g.opts.Reloaded()
		}
	}
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
			reload()
		case <-retry.C:
			reload()
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
