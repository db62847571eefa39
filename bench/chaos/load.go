package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Paths of the load. Every hot path is a file of the edge's bucket.
const (
	hotFiles = 200  // /media/v/0.ts ... /media/v/199.ts, hitSize bytes each
	hitSize  = 1024 // bytes of each file
	users    = 20   // forward-auth users (session cookies)
)

// target is what the load talks to.
type target struct {
	gateway string // http://127.0.0.1:port
	edge    string // the CDN base of the route: the edge's media listener
	api     string // the edge's control API
	token   string // bearer token of the API
	run     string // distinguishes this run's cache-miss paths
	client  *http.Client
}

func newClient(timeout time.Duration, conns int) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: timeout}).DialContext,
			MaxIdleConns:        conns * 2,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     60 * time.Second,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// send runs one request of class; it returns "" on success, else the
// cause: "CLASS[ STEP] STATUS CODE" for an error answer (CODE from the
// JSON body), "CLASS[ STEP] conn KIND" for a transport failure,
// "CLASS[ STEP] bad answer: WHAT" for a wrong success.
func (t *target) send(ctx context.Context, class string, seq uint64) string {
	hot := fmt.Sprintf("/media/v/%d.ts", seq%hotFiles)
	switch class {
	case "hit":
		return t.redirect(ctx, class, hot, nil)
	case "miss":
		return t.redirect(ctx, class, fmt.Sprintf("/media/m/%s/%d.ts", t.run, seq), nil)
	case "forward":
		p := fmt.Sprintf("/media/f/%d.ts", seq%hotFiles)
		return t.redirect(ctx, class, p, http.Header{"Cookie": {fmt.Sprintf("session=u%d", seq%users)}})
	case "pass":
		body, cause := t.get(ctx, class, t.gateway+fmt.Sprintf("/app/page/%d", seq%50), nil, http.StatusOK)
		if cause == "" && len(body) != pageSize {
			cause = fmt.Sprintf("%s bad answer: %d bytes, want %d", class, len(body), pageSize)
		}
		return cause
	case "edge":
		loc, cause := t.location(ctx, class+" gateway", hot, nil)
		if cause != "" {
			return cause
		}
		body, cause := t.get(ctx, class+" cdn", loc, nil, http.StatusOK)
		if cause == "" && len(body) != hitSize {
			cause = fmt.Sprintf("%s cdn bad answer: %d bytes, want %d", class, len(body), hitSize)
		}
		return cause
	case "api":
		_, cause := t.get(ctx, class, t.api+"/v1/signing-keys", http.Header{"Authorization": {"Bearer " + t.token}}, http.StatusOK)
		return cause
	}
	return class + " unknown class"
}

// redirect asks the gateway for path as the trusted proxy's user "soak"
// (or with hdr) and checks the redirect.
func (t *target) redirect(ctx context.Context, class, path string, hdr http.Header) string {
	_, cause := t.location(ctx, class, path, hdr)
	return cause
}

// location asks the gateway for a media path and returns the Location of
// its redirect, checked: the edge's base, the same path, a token.
func (t *target) location(ctx context.Context, step, path string, hdr http.Header) (string, string) {
	if hdr == nil {
		hdr = http.Header{"X-Forwarded-User": {"soak"}}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.gateway+path, nil)
	if err != nil {
		return "", step + " " + err.Error()
	}
	req.Header = hdr
	resp, err := t.client.Do(req)
	if err != nil {
		return "", step + " conn " + connKind(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Sprintf("%s %d %s", step, resp.StatusCode, reason(resp, body))
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, t.edge+path+"?auth=") {
		return "", step + " bad answer: Location is not the edge's URL of the path with a token"
	}
	return loc, ""
}

// get fetches url and returns its body, or the cause when the status is
// not want.
func (t *target) get(ctx context.Context, step, url string, hdr http.Header, want int) ([]byte, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, step + " " + err.Error()
	}
	if hdr != nil {
		req.Header = hdr
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, step + " conn " + connKind(err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != want {
		return nil, fmt.Sprintf("%s %d %s", step, resp.StatusCode, reason(resp, body))
	}
	if err != nil {
		return nil, step + " conn " + connKind(err) + " (body)"
	}
	return body, ""
}

// reason is the machine-readable code of an error answer: the gateway's
// {"error":{"code"}}, the edge's {"error":N,"code"} or X-Signgate-Reason.
func reason(resp *http.Response, body []byte) string {
	var b struct {
		Code  string          `json:"code"`
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &b) == nil {
		if b.Code != "" {
			return b.Code
		}
		var inner struct {
			Code string `json:"code"`
		}
		if json.Unmarshal(b.Error, &inner) == nil && inner.Code != "" {
			return inner.Code
		}
	}
	if r := resp.Header.Get("X-Signgate-Reason"); r != "" {
		return r
	}
	return "(no code)"
}

// connKind names a transport failure without its addresses.
func connKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	return "other"
}

// picker chooses a class by weight, the same sequence for the same seed.
type picker struct {
	mix   []share
	total int
	rng   *rand.Rand
}

func newPicker(mix []share, seed uint64) *picker {
	p := &picker{mix: mix, rng: rand.New(rand.NewPCG(seed, seed^0x5eed))}
	for _, s := range mix {
		p.total += s.weight
	}
	return p
}

func (p *picker) next() string {
	n := p.rng.IntN(p.total)
	for _, s := range p.mix {
		if n < s.weight {
			return s.class
		}
		n -= s.weight
	}
	return p.mix[len(p.mix)-1].class
}

type job struct {
	class string
	seq   uint64
	sent  time.Time // when it was due: latency counts from here
}

// runLoad sends rate requests a second for d, open loop: a request is
// due at its time whatever the answers before it. Latency is counted from
// that time, so a stall shows as latency, not as fewer requests. When
// every worker is busy and 5 s of requests wait already, a due request
// is not sent and counted as "client saturated", which is unexpected.
func runLoad(ctx context.Context, t *target, rec *recorder, mix []share, rate, workers int, d time.Duration) {
	// Up to 5 s of requests may wait for a worker (a machine stall delays
	// the dispatcher as much as the workers); past that, saturated.
	jobs := make(chan job, max(workers, 5*rate))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				cause := t.send(ctx, j.class, j.seq)
				rec.record(j.class, j.sent, time.Now(), cause)
			}
		}()
	}
	pick := newPicker(mix, uint64(time.Now().UnixNano()))
	period := time.Second / time.Duration(rate)
	start := time.Now()
	var seq uint64
	for ctx.Err() == nil {
		now := time.Now()
		if now.Sub(start) >= d {
			break
		}
		for due := uint64(now.Sub(start) / period); seq <= due; seq++ {
			j := job{class: pick.next(), seq: seq, sent: start.Add(time.Duration(seq) * period)}
			select {
			case jobs <- j:
			default:
				rec.record(j.class, j.sent, now, j.class+" client saturated (every worker busy)")
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(period):
		}
	}
	close(jobs)
	wg.Wait()
}

// prefill fills the gateway's token cache with n distinct paths, four
// requests at a time, before the load, and the edge's verified-token
// cache with their tokens (the files do not exist: 404 once verified):
// from then on both caches are full, and RSS that keeps growing is not a
// cache filling.
func prefill(ctx context.Context, t *target, n int) error {
	var next, failed sync.Mutex
	var i int
	var firstErr string
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				next.Lock()
				k := i
				i++
				next.Unlock()
				if k >= n {
					return
				}
				loc, cause := t.location(ctx, "prefill", "/media/p/"+t.run+"/"+strconv.Itoa(k)+".ts", nil)
				if cause == "" {
					// The edge verifies (and caches) the token, then finds
					// no such file.
					_, cause = t.get(ctx, "prefill cdn", loc, nil, http.StatusNotFound)
				}
				if cause != "" {
					failed.Lock()
					if firstErr == "" {
						firstErr = cause
					}
					failed.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != "" {
		return errors.New(firstErr)
	}
	return ctx.Err()
}
