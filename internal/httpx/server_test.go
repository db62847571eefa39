package httpx

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestServeMaxConns: a listener serves at most MaxConns connections at
// once; the next is served when one closes.
func TestServeMaxConns(t *testing.T) {
	release := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			select { // until released, or the client leaves
			case <-release:
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "ok")
	})
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, slog.New(slog.DiscardHandler), func(_ string, a net.Addr) { addrc <- a.String() },
			Listener{Name: "test", Addr: "127.0.0.1:0", Handler: h, MaxConns: 2})
	}()
	addr := <-addrc
	defer func() {
		close(release)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	dial := func(path string) (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: a\r\n\r\n")
		return c, bufio.NewReader(c)
	}
	first, _ := dial("/hold")
	dial("/hold")
	third, br := dial("/")
	// Two connections are held; the third waits to be accepted.
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("a third connection was served beside two held ones with MaxConns 2")
	}
	first.Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("the third connection, once the first closed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// TestServeMaxConnsKeepsSendfile: behind MaxConns, net/http still hands a
// file to the connection's own ReadFrom (sendfile(2) on a TCP
// connection), not to a 32 KiB copy loop. The listener's connections
// count the bytes their ReadFrom moved; netutil.LimitListener, used
// before, hid that method and the count stayed 0.
func TestServeMaxConnsKeepsSendfile(t *testing.T) {
	dir := t.TempDir()
	body := make([]byte, 1<<20)
	if err := os.WriteFile(filepath.Join(dir, "1m.ts"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(filepath.Join(dir, "1m.ts"))
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		http.ServeContent(w, r, "1m.ts", time.Time{}, f)
	})
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingListener{Listener: nl}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, slog.New(slog.DiscardHandler), func(_ string, a net.Addr) { addrc <- a.String() },
			Listener{Name: "test", Bound: counted, Handler: h, MaxConns: 4})
	}()
	addr := <-addrc
	resp, err := http.Get("http://" + addr + "/1m.ts")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if n != 1<<20 {
		t.Fatalf("got %d bytes", n)
	}
	// ServeContent copies the first 512 bytes itself, for sniffing.
	if got := counted.readFrom.Load(); got < 1<<20-512 {
		t.Fatalf("the connection's ReadFrom moved %d of %d bytes: the file went through a copy loop", got, 1<<20)
	}
}

// countingListener's connections count what their ReadFrom moves.
type countingListener struct {
	net.Listener
	readFrom atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{TCPConn: c.(*net.TCPConn), l: l}, nil
}

type countingConn struct {
	*net.TCPConn
	l *countingListener
}

func (c *countingConn) ReadFrom(r io.Reader) (int64, error) {
	n, err := c.TCPConn.ReadFrom(r)
	c.l.readFrom.Add(n)
	return n, err
}
