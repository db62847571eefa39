package testenv

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// SlowResult is what one slow client saw.
type SlowResult struct {
	Status int           // the answer's status, 0 when none came
	Answer time.Duration // from the request head to the answer's status line
	Closed time.Duration // from the request head to the server closing
}

// SlowBodies opens n connections to addr. Each sends head (a request line
// and headers ending in a blank line, announcing a body), then trickles
// the body one byte (a space) each tick, and reads until the server closes the
// connection or limit passes (then Closed is limit or a little more). It
// returns what each client saw; failing to connect fails the test.
func SlowBodies(t testing.TB, addr, head string, n int, tick, limit time.Duration) []SlowResult {
	t.Helper()
	out := make([]SlowResult, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := slowBody(addr, head, tick, limit)
			out[i] = res
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	return out
}

func slowBody(addr, head string, tick, limit time.Duration) (SlowResult, error) {
	var res SlowResult
	c, err := net.DialTimeout("tcp", addr, limit)
	if err != nil {
		return res, err
	}
	defer c.Close()
	start := time.Now()
	_ = c.SetDeadline(start.Add(limit))
	if _, err := c.Write([]byte(head)); err != nil {
		return res, err
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		br := bufio.NewReader(c)
		line, err := br.ReadString('\n')
		if err == nil {
			res.Answer = time.Since(start)
			if f := strings.Fields(line); len(f) > 1 {
				res.Status, _ = strconv.Atoi(f[1])
			}
		}
		buf := make([]byte, 4096)
		for {
			if _, err := br.Read(buf); err != nil {
				break
			}
		}
		res.Closed = time.Since(start)
	}()
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for {
		select {
		case <-read:
			return res, nil
		case <-tk.C:
			// JSON whitespace, so that a decoder waits for more. An
			// error means the server closed; the reader sees it.
			c.Write([]byte{' '})
		}
	}
}

// SlowHead is a request head for SlowBodies: method and target, announcing
// a body of length bytes, with extra header lines ("Name: value").
func SlowHead(method, target, host string, length int, extra ...string) string {
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n")
	b.WriteString("Content-Length: " + itoa(length) + "\r\n")
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// MaxClosed returns the longest time a connection in rs stayed open, and
// how many of them got an answer.
func MaxClosed(rs []SlowResult) (longest time.Duration, answered int) {
	for _, r := range rs {
		longest = max(longest, r.Closed)
		if r.Status != 0 {
			answered++
		}
	}
	return longest, answered
}

// WantAllClosed fails t unless every slow client in rs got status and saw
// its connection closed within bound, and logs the longest one.
func WantAllClosed(t testing.TB, rs []SlowResult, status int, bound time.Duration) {
	t.Helper()
	for i, r := range rs {
		if r.Status != status || r.Closed > bound {
			t.Fatalf("connection %d: status %d, answered after %s, closed after %s; want %d and closed within %s",
				i, r.Status, r.Answer, r.Closed, status, bound)
		}
	}
	longest, _ := MaxClosed(rs)
	t.Logf("%d slow bodies answered %d, the longest connection open %s (bound %s)", len(rs), status, longest, bound)
}
