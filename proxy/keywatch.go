package proxy

import (
	"github.com/fsnotify/fsnotify"

	"github.com/signgate/signgate/internal/filewatch"
)

// watchKeys reloads keys when a route's key or kid file changes, as
// filewatch.Run says: once the files have been quiet, and with backoff
// while a file is missing or bad, or a pair refused. It returns once
// the watcher is closed.
func (g *Gateway) watchKeys(w *fsnotify.Watcher) {
	defer close(g.watchDone)
	filewatch.Run(w, filewatch.Options{
		Files:    g.keyFiles(),
		Reload:   func() { g.Reload() }, // it logs each failure
		Bad:      g.keysBad,
		Reloaded: g.opts.Reloaded,
		What:     "key file",
		Log:      g.log,
	})
}

// keyFiles lists the routes' key and kid files.
func (g *Gateway) keyFiles() []string {
	var fs []string
	for _, rt := range g.routes {
		fs = append(fs, rt.keyFile, rt.kidFile)
	}
	return fs
}

// newKeyWatcher watches the directories holding the routes' key files.
func (g *Gateway) newKeyWatcher() (*fsnotify.Watcher, error) {
	return filewatch.New("key file", g.keyFiles())
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
