package httpx

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestIdleBody: against a real server, a body that trickles within the
// bound is read whole; one that stops is cut within about the bound,
// its connection closed (the server's handler sees its client go); and
// time the reader spends between reads does not count.
func TestIdleBody(t *testing.T) {
	released := make(chan struct{})
	gone := make(chan struct{}, 1)
	written := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := http.NewResponseController(w)
		pace := 40 * time.Millisecond
		if r.URL.Path == "/paced" {
			pace = 100 * time.Millisecond // 500 ms in all, past the bound
			defer func() { written <- struct{}{} }()
		}
		for range 5 {
			w.Write([]byte("abcd"))
			f.Flush()
			select {
			case <-time.After(pace):
			case <-r.Context().Done():
				gone <- struct{}{}
				return
			}
		}
		if r.URL.Path == "/stall" {
			select {
			case <-r.Context().Done():
				gone <- struct{}{}
			case <-released:
			}
		}
	}))
	defer srv.Close()
	defer close(released)
	get := func(path string) io.ReadCloser {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return IdleBody(resp.Body, 300*time.Millisecond)
	}

	b := get("/trickle")
	got, err := io.ReadAll(b)
	b.Close()
	if err != nil || len(got) != 20 {
		t.Fatalf("a trickling body: %d bytes, %v; want 20, nil", len(got), err)
	}

	// A slow client: the reader stops between reads for longer than the
	// bound (until the origin has written everything): not a stall.
	b = get("/paced")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(b, buf); err != nil {
		t.Fatal(err)
	}
	<-written
	if got, err := io.ReadAll(b); err != nil || len(got) != 16 {
		t.Fatalf("after a pause of the reader: %d bytes, %v; want 16, nil", len(got), err)
	}
	b.Close()

	b = get("/stall")
	start := time.Now()
	got, err = io.ReadAll(b)
	took := time.Since(start)
	if !errors.Is(err, ErrBodyStalled) || len(got) != 20 {
		t.Fatalf("a stalled body: %d bytes, %v; want 20, ErrBodyStalled", len(got), err)
	}
	if took > 5*time.Second {
		t.Errorf("cut after %v, want about 300ms past the last bytes", took)
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Error("the stalled body's connection was not closed")
	}
	if _, err := b.Read(buf); !errors.Is(err, ErrBodyStalled) {
		t.Errorf("a read after the cut: %v, want ErrBodyStalled", err)
	}
	b.Close()
}
