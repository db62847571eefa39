package proxy

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fsnotify/fsnotify"

	"github.com/signgate/signgate/signer"
)

// loadKey reads the route's key file. When the file is unchanged the
// loaded key is kept, so the token cache stays warm; a new key is a new
// pointer, so the cache never hands out tokens of the old one. A file that
// cannot be read or parsed keeps the old key and returns why.
func (rt *route) loadKey() (changed bool, err error) {
	data, err := os.ReadFile(rt.keyFile)
	if err != nil {
		return false, fmt.Errorf("route %s: key file: %w", rt.name, err)
	}
	sum := sha256.Sum256(data)
	if old := rt.keyHash.Load(); old != nil && *old == sum && rt.key.Load() != nil {
		return false, nil
	}
	priv, err := signer.ParsePrivateKey(data)
	if err != nil {
		return false, fmt.Errorf("route %s: key file %s: %w", rt.name, rt.keyFile, err)
	}
	rt.key.Store(&signer.SigningKey{ID: rt.kid, Bucket: rt.bucket, Key: priv})
	rt.keyHash.Store(&sum)
	return true, nil
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
			g.log.Error("key reload failed; keeping the previous key", "route", rt.name, "file", rt.keyFile, "error", err.Error())
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
			g.log.Warn("watching key files", "error", err.Error())
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
		d := filepath.Dir(rt.keyFile)
		if dirs[d] {
			continue
		}
		dirs[d] = true
		if err := w.Add(d); err != nil {
			w.Close()
			return nil, fmt.Errorf("watch key directory %s: %w", d, err)
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
