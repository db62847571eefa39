package proxy

import (
	"bytes"
	"context"
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/signgate/signgate/internal/httpx"
)

// TestExtAuthzStalledStreamsEnd: a peer that opens Check streams on the
// h2c listener and never sends their message holds no goroutine past the
// listener's read timeout (found by review: before, each stream held
// about four goroutines for as long as the connection stayed open).
func TestExtAuthzStalledStreamsEnd(t *testing.T) {
	f := newFixture(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	served := make(chan struct{})
	go func() {
		defer close(served)
		httpx.ServeDrain(ctx, f.gw.log, func(_ string, a net.Addr) { addrc <- a }, httpx.Drain{Timeout: time.Second},
			httpx.Listener{Name: "ext_authz", Addr: "127.0.0.1:0", Handler: f.gw.ExtAuthzHandler(), H2C: true, ReadTimeout: 300 * time.Millisecond})
	}()
	t.Cleanup(func() { cancel(); <-served })
	addr := <-addrc
	before := runtime.NumGoroutine()
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte(http2.ClientPreface))
	fr := http2.NewFramer(conn, conn)
	fr.WriteSettings()
	resets := make(chan struct{}, 1000)
	go func() { // the server's frames: count the streams it ends
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			switch f := f.(type) {
			case *http2.RSTStreamFrame:
				resets <- struct{}{}
			case *http2.HeadersFrame:
				if f.StreamEnded() {
					resets <- struct{}{}
				}
			case *http2.DataFrame:
				if f.StreamEnded() {
					resets <- struct{}{}
				}
			}
		}
	}()
	const n = 50
	for i := range n {
		var hb bytes.Buffer
		e := hpack.NewEncoder(&hb)
		for _, kv := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", "/envoy.service.auth.v3.Authorization/Check"},
			{":authority", "x"}, {"content-type", "application/grpc"}, {"te", "trailers"}} {
			e.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
		}
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), BlockFragment: hb.Bytes(), EndHeaders: true})
	}
	deadline := time.After(20 * time.Second)
	for ended := 0; ended < n; ended++ {
		select {
		case <-resets:
		case <-deadline:
			t.Fatalf("%d of %d stalled streams ended by the server; %d goroutines, %d before", ended, n, runtime.NumGoroutine(), before)
		}
	}
	// The streams' goroutines unwind just after their ends are sent.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	settle := time.After(5 * time.Second)
	for runtime.NumGoroutine()-before > n {
		select {
		case <-tick.C:
		case <-settle:
			t.Fatalf("%d goroutines still held after the server ended %d stalled streams", runtime.NumGoroutine()-before, n)
		}
	}
}
