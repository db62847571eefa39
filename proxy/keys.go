package proxy

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/signgate/signgate/signer"
)

// A route's key comes in one of three forms (the route's settings):
//
//   - KEY_FILE (PEM) with KEY_ID: the kid is fixed for the process;
//   - KEY_FILE with KEY_ID_FILE: two files, replaced together to rotate;
//   - KEY_JSON_FILE: one file holding both, the create-key API's answer.
//
// loadKey reads them; checkPair (keycheck.go) decides whether a new pair
// may replace the one in use.

// loadKey reads the route's key files. When they are unchanged the loaded
// key is kept, so the token cache stays warm; a new key is a new pointer,
// so the cache never hands out tokens of the old one. A file that cannot
// be read or parsed, or a new pair checkPair refuses, keeps the old key
// and returns why, as a *keyError.
//
// The one exception is the first load, at start-up: a pair the route's
// JWKS could not confirm (unreachable, or not listing the kid yet) is
// used, for there is no other, and returned with its error
// (state unverified); it is checked again at the next load.
func (rt *route) loadKey(ctx context.Context, c *http.Client) (changed bool, err error) {
	if rt.memory {
		return false, nil
	}
	if !rt.qencode() {
		return rt.loadSchemeKey()
	}
	k, sum, err := rt.readKey()
	if err != nil {
		return false, err
	}
	old := rt.key.Load()
	if h := rt.keyHash.Load(); old != nil && h != nil && *h == sum {
		return false, nil
	}
	same := old != nil && old.ID == k.ID && old.Key.Equal(k.Key)
	if same && rt.keyHash.Load() != nil { // the pair in use, written again
		rt.keyHash.Store(&sum)
		return false, nil
	}
	if err := rt.checkPair(ctx, c, old, k); err != nil {
		if ke, ok := errors.AsType[*keyError](err); ok && ke.state == keyUnverified && old == nil {
			rt.storeKey(k) // no hash: the next load checks it again
			return true, err
		}
		return false, err
	}
	rt.keyHash.Store(&sum)
	if same {
		return false, nil
	}
	rt.storeKey(k)
	return true, nil
}

// qencode reports whether the route signs Qencode's tokens, whose keys
// the rotation checks above (kid and key pairs, the JWKS) are about.
func (rt *route) qencode() bool {
	return rt.scheme == nil || rt.scheme.Name() == signer.DefaultScheme
}

// storeKey puts k, a qencode key, in use.
func (rt *route) storeKey(k *signer.SigningKey) {
	rt.key.Store(k)
	rt.signer.Store(newLoadedSigner(signer.NewQencodeSigner(k, rt.base)))
}

// loadSchemeKey is loadKey for the other schemes: the key file (and kid
// file) read again, the Signer rebuilt when they changed. A new key
// under a kid fixed in the environment is refused, as for qencode.
func (rt *route) loadSchemeKey() (changed bool, err error) {
	data, err := os.ReadFile(rt.keyFile)
	if err != nil {
		return false, rt.keyErr(fmt.Errorf("route %s: key file: %w", rt.name, err), "KEY_FILE")
	}
	kid := rt.kid
	h := sha256.New()
	h.Write(data)
	if rt.kidFile != "" {
		if kid, err = readKeyID(rt.kidFile); err != nil {
			return false, rt.keyErr(fmt.Errorf("route %s: %w", rt.name, err), "KEY_ID_FILE")
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
		return false, rt.keyErr(fmt.Errorf("route %s: key file %s: %w", rt.name, rt.keyFile, err), setting)
	}
	if old := rt.currentSigner(); old != nil && rt.kidFile == "" && !sameKey(old, s) {
		return false, rt.pairErr(keyMismatch, fmt.Errorf(
			"route %s: %s holds a new key, but %s fixes the kid %q of the old one; keeping the old key (rotate with %s, or restart with the new kid)",
			rt.name, rt.variable("KEY_FILE"), rt.variable("KEY_ID"), rt.kid, rt.variable("KEY_ID_FILE")), "KEY_FILE", "KEY_ID")
	}
	rt.signer.Store(newLoadedSigner(s))
	rt.keyHash.Store(&sum)
	return true, nil
}

// readKey reads the route's key and kid from their files, and returns
// them with a hash of what was read.
func (rt *route) readKey() (*signer.SigningKey, [32]byte, error) {
	var sum [32]byte
	data, err := os.ReadFile(rt.keyFile)
	if err != nil {
		return nil, sum, rt.keyErr(fmt.Errorf("route %s: key file: %w", rt.name, err), rt.keySetting())
	}
	h := sha256.New()
	h.Write(data)
	k := &signer.SigningKey{ID: rt.kid, Bucket: rt.bucket}
	if rt.keyJSON {
		jk, err := signer.ParseKeyJSON(data)
		if err != nil {
			return nil, sum, rt.keyErr(fmt.Errorf("route %s: key file %s: %w", rt.name, rt.keyFile, err), "KEY_JSON_FILE")
		}
		if jk.Bucket != "" && rt.bucket != "" && jk.Bucket != rt.bucket {
			return nil, sum, rt.keyErr(fmt.Errorf("route %s: key file %s: the key %q is for bucket %q, the route's %s is %q",
				rt.name, rt.keyFile, jk.ID, jk.Bucket, rt.variable("BUCKET"), rt.bucket), "KEY_JSON_FILE")
		}
		k.ID, k.Key = jk.ID, jk.Key
		h.Sum(sum[:0])
		return k, sum, nil
	}
	if rt.kidFile != "" {
		if k.ID, err = readKeyID(rt.kidFile); err != nil {
			return nil, sum, rt.keyErr(fmt.Errorf("route %s: %w", rt.name, err), "KEY_ID_FILE")
		}
		h.Write([]byte{0})
		h.Write([]byte(k.ID))
	}
	h.Sum(sum[:0])
	if k.Key, err = signer.ParsePrivateKey(data); err != nil {
		return nil, sum, rt.keyErr(fmt.Errorf("route %s: key file %s: %w", rt.name, rt.keyFile, err), "KEY_FILE")
	}
	return k, sum, nil
}

// keySetting is the route's setting that names its key file: KEY_FILE,
// or KEY_JSON_FILE.
func (rt *route) keySetting() string {
	if rt.keyJSON {
		return "KEY_JSON_FILE"
	}
	return "KEY_FILE"
}

// kidSetting is the route's setting that gives its kid: KEY_ID,
// KEY_ID_FILE or KEY_JSON_FILE.
func (rt *route) kidSetting() string {
	switch {
	case rt.keyJSON:
		return "KEY_JSON_FILE"
	case rt.kidFile != "":
		return "KEY_ID_FILE"
	}
	return "KEY_ID"
}

// variable names the route's setting name in a message, as
// Options.Names does (the command: its environment variable).
func (rt *route) variable(name string) string { return rt.names(rt.index, name) }

// keyErr returns a *keyError about settings: their first is the one at
// fault, the others are involved.
func (rt *route) keyErr(err error, settings ...string) *keyError {
	ke := &keyError{settings: settings, file: rt.keyFile, err: err}
	if len(settings) > 0 && settings[0] == "KEY_ID_FILE" {
		ke.file = rt.kidFile
	}
	return ke
}

// pairErr returns a *keyError for a pair checkPair refused, in state s
// (mismatch or unverified).
func (rt *route) pairErr(s keyState, err error, settings ...string) *keyError {
	ke := rt.keyErr(err, settings...)
	ke.state = s
	return ke
}

// newSigner builds the Signer of a route of another scheme than qencode
// (whose keys storeKey puts in use) from key file bytes data and kid.
func (rt *route) newSigner(kid string, data []byte) (signer.Signer, error) {
	st := rt.settings
	st.KeyID, st.Key = kid, data
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

// CheckKeys loads the key files of every route of cfg as New does (and,
// where a route has a JWKS_URL, checks the pair against it), and returns
// every problem, each a *SettingError naming its setting (KEY_FILE,
// KEY_ID_FILE or KEY_JSON_FILE). It starts nothing: signgate config
// -check uses it, so that a check that says ok means the gateway will
// start. A route without a key file is left to the configuration's own
// checks.
func CheckKeys(ctx context.Context, cfg Config, names Names) error {
	if names == nil {
		names = defaultNames
	}
	c := newKeyClient()
	defer c.CloseIdleConnections()
	var errs []error
	for i, rc := range cfg.Routes {
		if rc.Key != nil || rc.KeyFile == "" && rc.KeyJSONFile == "" {
			continue
		}
		rt, err := newRoute(i, rc, names)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := rt.loadKey(ctx, c); err != nil && !startsUnverified(err) {
			errs = append(errs, routeErr(i, keySettingOf(err), err))
		}
	}
	return errors.Join(errs...)
}

// setKeySource sets the route's key source from rc: its Key, held in
// memory, or its key files.
func (rt *route) setKeySource(rc Route) error {
	if rc.Key != nil {
		switch {
		case rc.KeyFile != "" || rc.KeyIDFile != "" || rc.KeyJSONFile != "":
			return routeErrf(rt.index, "KEY_FILE", "a key in memory and a key file both given")
		case !rt.qencode():
			return routeErrf(rt.index, "SCHEME", "a key in memory is for the %s scheme only", signer.DefaultScheme)
		case rc.Key.Key == nil || !signer.ValidKeyID(rc.Key.ID):
			return routeErrf(rt.index, "KEY_ID", "the key in memory has no key or no valid kid")
		}
		k := *rc.Key
		if k.Bucket == "" {
			k.Bucket = rc.Bucket
		}
		rt.memory = true
		rt.kid, rt.bucket = k.ID, k.Bucket
		rt.storeKey(&k)
		return nil
	}
	rt.keyFile, rt.kid, rt.kidFile, rt.bucket = rc.KeyFile, rc.KeyID, rc.KeyIDFile, rc.Bucket
	rt.jwksURL, rt.jwksTimeout = rc.JWKSURL, rc.JWKSTimeout
	if rt.jwksTimeout <= 0 { // a configuration LoadGateway never saw
		rt.jwksTimeout = 5 * time.Second
	}
	if rc.KeyJSONFile != "" {
		rt.keyFile, rt.keyJSON = rc.KeyJSONFile, true
	}
	return nil
}

// startsUnverified reports whether err, from a first loadKey, leaves the
// route serving with a key its JWKS has not confirmed yet: not a start-up
// error.
func startsUnverified(err error) bool {
	ke, ok := errors.AsType[*keyError](err)
	return ok && ke.state == keyUnverified
}

// keyError is a route key that did not load, with the route settings
// involved (KEY_FILE, KEY_ID, KEY_ID_FILE, KEY_JSON_FILE, JWKS_URL; the
// first is the one at fault), the file at fault and, for a refused pair,
// the state (mismatch or unverified).
type keyError struct {
	settings []string
	file     string
	state    keyState // keyOK: missing or invalid, as err says
	err      error
}

func (e *keyError) Error() string { return e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// keySettingOf names the setting that err, from loadKey, is about:
// KEY_FILE, or the setting at fault.
func keySettingOf(err error) string {
	if ke, ok := errors.AsType[*keyError](err); ok && len(ke.settings) > 0 {
		return ke.settings[0]
	}
	return "KEY_FILE"
}

// keyVars names every setting of route rt that err is about, for the
// log, as Options.Names names them (the command: the environment
// variables).
func (rt *route) keyVars(err error) string {
	ke, ok := errors.AsType[*keyError](err)
	if !ok || len(ke.settings) == 0 {
		return rt.variable(keySettingOf(err))
	}
	names := make([]string, 0, len(ke.settings))
	for _, s := range ke.settings {
		names = append(names, rt.variable(s))
	}
	return strings.Join(names, ", ")
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
	case !signer.ValidKeyID(kid):
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
