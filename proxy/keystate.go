package proxy

import (
	"errors"
	"io/fs"
	"slices"
)

// keyState is what the last load of a route's key files found.
type keyState uint32

const (
	keyOK         keyState = iota
	keyMissing             // a file is not there; the old key is kept
	keyInvalid             // a file cannot be read or holds no key; the old key is kept
	keyMismatch            // a new kid and key that do not belong together; the old pair is kept
	keyUnverified          // a new pair the route's JWKS has not confirmed (yet); the old pair is kept
	keyStates              // the number of states
)

func (s keyState) String() string {
	return [...]string{"ok", "missing", "invalid", "mismatch", "unverified"}[s]
}

// stateOf is the key state err, from loadKey, leaves a route in.
func stateOf(err error) keyState {
	ke, ok := errors.AsType[*keyError](err)
	switch {
	case err == nil:
		return keyOK
	case errors.Is(err, fs.ErrNotExist):
		return keyMissing
	case ok && ke.state != keyOK:
		return ke.state
	}
	return keyInvalid
}

// Reload reads every route's key files again. Files that are unchanged
// keep their key (and its cached tokens); a bad file, or a new pair that
// checkPair refuses, keeps the old key and is part of the returned
// error. Each route's state (ok, missing, invalid, mismatch, unverified)
// is logged when it changes, not at every attempt, exported as
// signgate_key_state and shown by /readyz. Safe to call while requests
// are served.
func (g *Gateway) Reload() error {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	var errs []error
	for _, rt := range g.routes {
		changed, err := rt.loadKey(g.ctx, g.keyClient)
		if err != nil {
			errs = append(errs, err)
			g.metrics.keyReloads.WithLabelValues(rt.name, "error").Inc()
		}
		g.setKeyState(rt, stateOf(err), err)
		if changed {
			g.metrics.keyReloads.WithLabelValues(rt.name, "changed").Inc()
			g.log.Info("key reloaded", "route", rt.name, "file", rt.keyFile, "signer", rt.currentSigner())
		}
	}
	return errors.Join(errs...)
}

// setKeyState records route rt's key state, logging a change once: an
// ERROR naming every variable involved when a file goes bad or a pair is
// refused, INFO when it is good again. Called under reloadMu, or before
// the gateway serves.
func (g *Gateway) setKeyState(rt *route, s keyState, err error) {
	old := keyState(rt.keyState.Swap(uint32(s)))
	for st := range keyStates {
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
		g.log.Error("key reload failed; keeping the previous key until the files are good", "route", rt.name,
			"variables", rt.keyVars(err), "file", file, "state", s.String(), "signer", rt.currentSigner(), "err", err.Error())
	case old != keyOK:
		g.log.Info("key file good again", "route", rt.name, "file", rt.keyFile, "signer", rt.currentSigner())
	}
}

// keysBad reports whether a route's key files were missing, bad or
// refused at the last load.
func (g *Gateway) keysBad() bool {
	for _, rt := range g.routes {
		if keyState(rt.keyState.Load()) != keyOK {
			return true
		}
	}
	return false
}

// keyReport is one route's key state as /readyz shows it.
type keyReport struct {
	Route  string `json:"route"`
	Prefix string `json:"prefix"`
	State  string `json:"state"`
	KeyID  string `json:"kid,omitempty"`
}

// keyReports returns every route's key state, in configuration order,
// and whether all are ok.
func (g *Gateway) keyReports() ([]keyReport, bool) {
	rs := slices.Clone(g.routes)
	slices.SortFunc(rs, func(a, b *route) int { return a.index - b.index })
	out := make([]keyReport, 0, len(rs))
	ok := true
	for _, rt := range rs {
		s := keyState(rt.keyState.Load())
		ok = ok && s == keyOK
		r := keyReport{Route: rt.name, Prefix: rt.prefix, State: s.String()}
		if sg := rt.currentSigner(); sg != nil {
			r.KeyID = sg.KeyID()
		}
		out = append(out, r)
	}
	return out, ok
}
