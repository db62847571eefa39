package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/signgate/signgate/edge"
)

// forwardTimeout is the gateway's SIGNGATE_FORWARD_TIMEOUT in the soak;
// the forward fault slows the app down below it, then above it. 3 s, not
// 1 s: a 2-core machine shared with builds stalls a process for over a
// second at times (a 10-minute soak at load 19 saw a forward check time
// out at 1 s with the app at full speed).
const forwardTimeout = 3 * time.Second

// runFaults runs the faults of SOAK_FAULTS one after the other, a gap
// before each, round and round, until the last SOAK_QUIET of the load,
// which stays calm. A fault that cannot do what it should (a key that is
// not picked up, an API that does not come back) fails the soak.
func (sk *soak) runFaults(ctx context.Context, until time.Time) {
	if len(sk.s.faults) == 0 {
		return
	}
	for i := 0; ; i++ {
		if !sleep(ctx, sk.s.FaultGap) || time.Now().After(until) {
			return
		}
		name := sk.s.faults[i%len(sk.s.faults)]
		started := time.Now()
		var err error
		switch name {
		case "rotate":
			err = sk.rotate(ctx)
		case "sighup":
			err = sk.sighup(ctx)
		case "upstream":
			err = sk.upstreamDown(ctx)
		case "postgres":
			err = sk.postgresRestart(ctx)
		case "forward":
			err = sk.forwardSlow(ctx)
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			sk.rec.fail("fault %s: %v", name, err)
		}
		sk.rec.event("%s done in %.1fs", name, time.Since(started).Seconds())
	}
}

// rotate is a key rotation as a Kubernetes Secret update does it: a new
// key is created on the edge, written into a new directory, and the
// ..data link is swapped to it in one rename. The gateway must sign with
// the new kid within 15 s; 5 s later the old key is deleted on the edge.
// No request may fail.
func (sk *soak) rotate(ctx context.Context) error {
	nk, err := retry503(ctx, 20*time.Second, func() (edge.NewKey, error) {
		return sk.api.CreateKey(ctx, edge.CreateKeyRequest{Bucket: bucket, Name: edge.NullString(fmt.Sprintf("soak-%d", sk.keyGen+1))})
	})
	if err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	old := sk.kid
	swapped := time.Now()
	if err := sk.writeKey(nk.ID, nk.PrivateKey.Reveal()); err != nil {
		return err
	}
	sk.rec.event("rotate: ..data swapped to key %s", nk.ID)
	deadline := time.Now().Add(15 * time.Second)
	for n := 0; ; n++ {
		kid, err := sk.probeKid(ctx, n)
		if err == nil && kid == nk.ID {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the gateway still signs with kid %q (%v) 15 s after the swap to %s", kid, err, nk.ID)
		}
		if !sleep(ctx, 20*time.Millisecond) {
			return ctx.Err()
		}
	}
	sk.rec.event("rotate: the gateway signs with the new kid %.0f ms after the swap", float64(time.Since(swapped))/float64(time.Millisecond))
	if !sleep(ctx, 5*time.Second) {
		return ctx.Err()
	}
	if _, err := retry503(ctx, 20*time.Second, func() (struct{}, error) { return struct{}{}, sk.api.DeleteKey(ctx, old) }); err != nil {
		return fmt.Errorf("delete the old key %s: %w", old, err)
	}
	sk.rec.event("rotate: old key %s deleted", old)
	return nil
}

// writeKey puts a key in place as the kubelet updates a Secret volume:
// files in a new ..N directory, then the ..data link renamed onto.
func (sk *soak) writeKey(kid, pem string) error {
	sk.keyGen++
	gen := fmt.Sprintf("..%d", sk.keyGen)
	dir := filepath.Join(sk.keysDir, gen)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "media.pem"), []byte(pem), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "kid"), []byte(kid+"\n"), 0o600); err != nil {
		return err
	}
	tmp := filepath.Join(sk.keysDir, "..data_tmp")
	os.Remove(tmp)
	if err := os.Symlink(gen, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(sk.keysDir, "..data")); err != nil {
		return err
	}
	for _, f := range []string{"media.pem", "kid"} { // first time: the links
		p := filepath.Join(sk.keysDir, f)
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			if err := os.Symlink(filepath.Join("..data", f), p); err != nil {
				return err
			}
		}
	}
	if sk.keyGen > 1 {
		os.RemoveAll(filepath.Join(sk.keysDir, fmt.Sprintf("..%d", sk.keyGen-1)))
	}
	sk.kid = kid
	return nil
}

// probeKid asks the gateway for a new path (a cache miss, so a token
// minted now) and returns the kid in the token's header.
func (sk *soak) probeKid(ctx context.Context, n int) (string, error) {
	loc, cause := sk.t.location(ctx, "probe", fmt.Sprintf("/media/probe/%s/%d/%d.ts", sk.t.run, sk.keyGen, n), nil)
	if cause != "" {
		return "", errors.New(cause)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	head, _, _ := strings.Cut(u.Query().Get("auth"), ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", err
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return "", err
	}
	return h.Kid, nil
}

// sighup sends SIGHUP to the gateway: it must log the reload (an
// unchanged key file is not counted in signgate_key_reloads_total) and
// stay ready. No request may fail.
func (sk *soak) sighup(ctx context.Context) error {
	const line = `"msg":"SIGHUP: reloading keys"`
	from := sk.ps.logSize("gateway")
	if err := syscall.Kill(sk.ps.get("gateway").cmd.Process.Pid, syscall.SIGHUP); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(sk.ps.logFrom("gateway", from), line) {
		if time.Now().After(deadline) {
			return errors.New("the gateway did not log the reload within 10 s of SIGHUP")
		}
		if !sleep(ctx, 20*time.Millisecond) {
			return ctx.Err()
		}
	}
	return waitHTTP(ctx, sk.ps.get("gateway"), strings.TrimSuffix(sk.gatewayMetrics, "/metrics")+"/readyz", http.StatusOK, 5*time.Second)
}

// upstreamDown kills the upstream app (SIGKILL), leaves it down for
// SOAK_FAULT_DOWN and starts it again on the same port. Meanwhile, and
// for 2 s after it answers again, pass-through may answer 502
// bad_gateway; nothing else may fail.
func (sk *soak) upstreamDown(ctx context.Context) error {
	w := sk.rec.expect("upstream", "pass", "pass 502 bad_gateway")
	defer sk.rec.end(w, 2*time.Second)
	sk.ps.stop("upstream", syscall.SIGKILL, 5*time.Second)
	sk.rec.event("upstream: killed")
	if !sleep(ctx, sk.s.FaultDown) {
		return ctx.Err()
	}
	if err := sk.startUpstream(ctx); err != nil {
		return err
	}
	sk.rec.event("upstream: back")
	return nil
}

// postgresRestart stops the private PostgreSQL (fast shutdown), leaves it
// down for SOAK_FAULT_DOWN and starts it again. Meanwhile, and until the
// API answers again (at most 30 s after PostgreSQL is back), the API may
// answer 503 store_unavailable; media must keep being served.
func (sk *soak) postgresRestart(ctx context.Context) error {
	w := sk.rec.expect("postgres", "api", "api 503 store_unavailable")
	defer sk.rec.end(w, time.Second)
	if err := sk.pg.stop(); err != nil {
		return err
	}
	sk.rec.event("postgres: stopped")
	if !sleep(ctx, sk.s.FaultDown) {
		return ctx.Err()
	}
	if err := sk.pg.start(ctx); err != nil {
		return err
	}
	back := time.Now()
	sk.rec.event("postgres: started")
	for {
		_, cause := sk.t.get(ctx, "probe", sk.t.api+"/v1/signing-keys", http.Header{"Authorization": {"Bearer " + sk.t.token}}, http.StatusOK)
		if cause == "" {
			break
		}
		if time.Since(back) > 30*time.Second {
			return fmt.Errorf("the API still answers %q 30 s after PostgreSQL is back", cause)
		}
		if !sleep(ctx, 50*time.Millisecond) {
			return ctx.Err()
		}
	}
	sk.rec.event("postgres: the API answers again %.0f ms after PostgreSQL is back", float64(time.Since(back))/float64(time.Millisecond))
	return nil
}

// forwardSlow slows the forward-auth app down: first below the gateway's
// forward timeout (answers only get slower, no request may fail), then
// above it (the forward class may answer 503 auth_unavailable), each for
// SOAK_FAULT_DOWN, then back to full speed.
func (sk *soak) forwardSlow(ctx context.Context) error {
	if err := sk.forwardDelay(forwardTimeout * 3 / 10); err != nil {
		return err
	}
	sk.rec.event("forward: checks take %s", forwardTimeout*3/10)
	if !sleep(ctx, sk.s.FaultDown) {
		return ctx.Err()
	}
	w := sk.rec.expect("forward", "forward", "forward 503 auth_unavailable")
	defer sk.rec.end(w, forwardTimeout+time.Second)
	if err := sk.forwardDelay(2 * forwardTimeout); err != nil {
		return err
	}
	sk.rec.event("forward: checks take %s, over SIGNGATE_FORWARD_TIMEOUT=%s", 2*forwardTimeout, forwardTimeout)
	if !sleep(ctx, sk.s.FaultDown) {
		return ctx.Err()
	}
	if err := sk.forwardDelay(0); err != nil {
		return err
	}
	sk.rec.event("forward: full speed")
	return nil
}

func (sk *soak) forwardDelay(d time.Duration) error {
	resp, err := http.Post(sk.forwardApp+"/control?delay="+d.String(), "text/plain", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("forward-auth app control: %s", resp.Status)
	}
	return nil
}

// retry503 calls f until it succeeds or fails otherwise than with the
// store unavailable (503), for up to limit.
func retry503[T any](ctx context.Context, limit time.Duration, f func() (T, error)) (T, error) {
	deadline := time.Now().Add(limit)
	for {
		v, err := f()
		var ae *edge.APIError
		if err == nil || !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			return v, err
		}
		if !sleep(ctx, 200*time.Millisecond) {
			return v, ctx.Err()
		}
	}
}

// sleep waits d, or less when ctx ends: it reports whether ctx is alive.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
