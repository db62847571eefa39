package proxy

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fsnotify/fsnotify"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/signer"
)

// loadKey reads the route's key file, and its kid file when the kid comes
// from one. When both are unchanged the loaded key is kept, so the token
// cache stays warm; a new key is a new pointer, so the cache never hands
// out tokens of the old one. A file that cannot be read or parsed keeps the
// old key and returns why.
func (rt *route) loadKey() (changed bool, err error) {
	data, err := os.ReadFile(rt.keyFile)
	if err != nil {
		return false, &keyError{setting: "KEY_FILE", file: rt.keyFile, err: fmt.Errorf("route %s: key file: %w", rt.name, err)}
	}
	kid := rt.kid
	h := sha256.New()
	h.Write(data)
	if rt.kidFile != "" {
		if kid, err = readKeyID(rt.kidFile); err != nil {
			return false, &keyError{setting: "KEY_ID_FILE", file: rt.kidFile, err: fmt.Errorf("route %s: %w", rt.name, err)}
		}
		h.Write([]byte{0})
		h.Write([]byte(kid))
	}
	var sum [32]byte
	h.Sum(sum[:0])
	if old := rt.keyHash.Load(); old != nil && *old == sum && rt.key.Load() != nil {
		return false, nil
	}
	priv, err := signer.ParsePrivateKey(data)
	if err != nil {
		return false, &keyError{setting: "KEY_FILE", file: rt.keyFile, err: fmt.Errorf("route %s: key file %s: %w", rt.name, rt.keyFile, err)}
	}
	rt.key.Store(&signer.SigningKey{ID: kid, Bucket: rt.bucket, Key: priv})
	rt.keyHash.Store(&sum)
	return true, nil
}

// keyError is a route key that did not load, with the route setting
// (KEY_FILE or KEY_ID_FILE) and the file at fault.
type keyError struct {
	setting, file string
	err           error
}

func (e *keyError) Error() string { return e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// keyVar names the variable of route i that err, from loadKey, is about:
// SIGNGATE_ROUTES_<i>_KEY_FILE or SIGNGATE_ROUTES_<i>_KEY_ID_FILE.
func keyVar(i int, err error) string {
	setting := "KEY_FILE"
	if ke, ok := errors.AsType[*keyError](err); ok {
		setting = ke.setting
	}
	return fmt.Sprintf("%s%d_%s", config.RoutesPrefix, i, setting)
}

// readKeyID reads a kid file: one line, surrounding space ignored.
func readKeyID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("key id file: %w", err)
	}
	kid := strings.TrimSpace(string(b))
	switch {
	case kid == "":
		return "", fmt.Errorf("key id file %s is empty", path)
	case len(kid) > 256 || strings.ContainsFunc(kid, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "", fmt.Errorf("key id file %s does not hold one key id", path)
	}
	return kid, nil
}

// Reload reads every route's key file again. A file that is unchanged
// keeps its key (and its cached tokens); a bad new file keeps the old key,
// is logged, and is part of the returned error. Safe to call while
// requests are served.
func (g *Gateway) Reload() error {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	var errs []error
	for _, rt := range g.routes {
		changed, err := rt.loadKey()
		switch {
		case err != nil:
			g.metrics.keyReloads.WithLabelValues(rt.name, "error").Inc()
			file := rt.keyFile
			if ke, ok := errors.AsType[*keyError](err); ok {
				file = ke.file
			}
			g.log.Error("key reload failed; keeping the previous key", "route", rt.name, "file", file, "err", err.Error())
			errs = append(errs, err)
		case changed:
			g.metrics.keyReloads.WithLabelValues(rt.name, "changed").Inc()
			g.log.Info("key reloaded", "route", rt.name, "file", rt.keyFile, "key", rt.key.Load())
		}
	}
	return errors.Join(errs...)
}

// watchKeys reloads keys whenever a file in a key file's directory
// changes; watching the directory catches atomic renames and the symlink
// swaps of Kubernetes secrets. It returns once the watcher is closed.
func (g *Gateway) watchKeys(w *fsnotify.Watcher) {
	defer close(g.watchDone)
	for {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Chmod) && !ev.Has(fsnotify.Write) {
				continue
			}
			g.log.Debug("key directory changed", "file", ev.Name, "op", ev.Op.String())
			g.Reload()
			if g.opts.Reloaded != nil {
				g.opts.Reloaded()
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			g.log.Warn("watching key files", "err", err.Error())
		}
	}
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

// keysLoaded reports whether every route has a key.
func (g *Gateway) keysLoaded() bool {
	for _, rt := range g.routes {
		if rt.key.Load() == nil {
			return false
		}
	}
	return true
}
