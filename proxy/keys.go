package proxy

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"strings"

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
	if old := rt.keyHash.Load(); old != nil && *old == sum && rt.signer.Load() != nil {
		return false, nil
	}
	s, err := rt.newSigner(kid, data)
	if err != nil {
		setting := "KEY_FILE"
		if se, ok := errors.AsType[*signer.SettingError](err); ok && se.Setting == "KEY_ID" {
			setting = "KEY_ID"
		}
		return false, &keyError{setting: setting, file: rt.keyFile, err: fmt.Errorf("route %s: key file %s: %w", rt.name, rt.keyFile, err)}
	}
	// A new key under a kid fixed in the environment would sign every URL
	// with a key the edge does not hold under that kid: refused, so that
	// a rotation is a change of both or of a kid file, never of the key
	// alone.
	if old := rt.currentSigner(); old != nil && rt.kidFile == "" && !sameKey(old, s) {
		return false, &keyError{setting: "KEY_FILE", file: rt.keyFile, mismatch: true, err: fmt.Errorf(
			"route %s: %s%d_KEY_FILE holds a new key, but %s%d_KEY_ID fixes the kid %q of the old one; keeping the old key (rotate with %s%d_KEY_ID_FILE, or restart with the new kid)",
			rt.name, config.RoutesPrefix, rt.index, config.RoutesPrefix, rt.index, rt.kid, config.RoutesPrefix, rt.index)}
	}
	if q, ok := s.(*signer.QencodeSigner); ok {
		rt.key.Store(q.Key)
	}
	rt.signer.Store(&loadedSigner{s: s})
	rt.keyHash.Store(&sum)
	return true, nil
}

// newSigner builds the route's Signer from key file bytes data and kid.
// The qencode scheme keeps the route's bucket on its key, as before
// schemes existed.
func (rt *route) newSigner(kid string, data []byte) (signer.Signer, error) {
	st := rt.settings
	st.KeyID, st.Key = kid, data
	if rt.scheme == nil || rt.scheme.Name() == signer.DefaultScheme {
		priv, err := signer.ParsePrivateKey(data)
		if err != nil {
			return nil, err
		}
		return signer.NewQencodeSigner(&signer.SigningKey{ID: kid, Bucket: rt.bucket, Key: priv}, rt.base), nil
	}
	return rt.scheme.New(st)
}

// sameKey reports whether two signers of a route sign with one key: by
// the scheme's own comparison when it has one (a key file rewritten in
// another encoding is the same key), else never (the file changed).
func sameKey(old, s signer.Signer) bool {
	if k, ok := old.(interface{ SameKey(signer.Signer) bool }); ok {
		return k.SameKey(s)
	}
	return false
}

// CheckKeys loads the key files of every route of cfg as New does, and
// returns every problem, each naming its variable (KEY_FILE or
// KEY_ID_FILE). It starts nothing: signgate config -check uses it, so
// that a check that says ok means the gateway will start. A route
// without a key file is left to the configuration's own checks.
func CheckKeys(cfg config.Gateway) error {
	var errs []error
	for i, rc := range cfg.Routes {
		if rc.KeyFile == "" {
			continue
		}
		rt, err := newRoute(i, rc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := rt.loadKey(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", keyVar(i, err), err))
		}
	}
	return errors.Join(errs...)
}

// keyError is a route key that did not load, with the route setting
// (KEY_FILE or KEY_ID_FILE) and the file at fault.
type keyError struct {
	setting, file string
	mismatch      bool // a new key under a kid fixed in the environment
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

// keysLoaded reports whether every route has a key.
func (g *Gateway) keysLoaded() bool {
	for _, rt := range g.routes {
		if rt.signer.Load() == nil {
			return false
		}
	}
	return true
}
