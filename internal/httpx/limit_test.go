package httpx

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestServeMaxConnsKeepsCloseWrite: behind MaxConns, net/http can still
// half-close a connection. An error reply sent before a large request
// body was read is followed by CloseWrite, so the client reads the reply
// and then EOF while it may still send, instead of the reply being lost
// to a reset when the server closes with the body unread. The TCP
// connections under the limit record their CloseWrite and hold their
// Close until the client is done, so the EOF the client reads can only
// come from the half-close. (net/http sleeps 500 ms, its
// rstAvoidanceDelay, between the half-close and Close, and the test's
// Serve waits for that as it stops; the test itself waits on nothing but
// channels and the connection.)
func TestServeMaxConnsKeepsCloseWrite(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "too large", http.StatusRequestEntityTooLarge) // the body unread
	})
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hl := &halfCloseListener{Listener: nl, conns: make(chan *halfCloseConn, 1), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, slog.New(slog.DiscardHandler), func(_ string, a net.Addr) { addrc <- a.String() },
			Listener{Name: "test", Bound: hl, Handler: h, MaxConns: 1})
	}()
	addr := <-addrc
	defer func() {
		close(hl.release)
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A body past net/http's 256 KiB that it would read for the handler.
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "too large") {
		t.Fatalf("status %d, body %q", resp.StatusCode, body)
	}
	sc := <-hl.conns
	select {
	case <-sc.closeWrote:
	case <-sc.closing:
		select {
		case <-sc.closeWrote: // both, before this goroutine ran
		default:
			t.Fatal("the server closed the connection without half-closing it first: CloseWrite hidden behind MaxConns")
		}
	}
	// Close is held: the EOF is the half-close, and the read half is open.
	if b, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the reply: %q, %v; want EOF", b, err)
	}
	if _, err := c.Write(make([]byte, 16<<10)); err != nil {
		t.Fatalf("the client could not send after the half-close: %v", err)
	}
}

// TestLimitConnCloseWriteUnsupported: over a connection without a
// CloseWrite, the limit's connection reports it unsupported and keeps
// its place until Close.
func TestLimitConnCloseWriteUnsupported(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	freed := 0
	c := &limitConn{Conn: a, free: func() { freed++ }}
	if err := c.CloseWrite(); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("CloseWrite over net.Pipe: %v, want ErrUnsupported", err)
	}
	if freed != 0 {
		t.Fatal("CloseWrite freed the connection's place")
	}
	c.Close()
	c.Close()
	if freed != 1 {
		t.Fatalf("two Closes freed %d places, want 1", freed)
	}
}

// halfCloseListener's connections are TCP connections that report
// their CloseWrite and hold their Close until release is closed.
type halfCloseListener struct {
	net.Listener
	conns   chan *halfCloseConn // each accepted connection, while there is room
	release chan struct{}
}

func (l *halfCloseListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	hc := &halfCloseConn{TCPConn: c.(*net.TCPConn), closeWrote: make(chan struct{}), closing: make(chan struct{}), release: l.release}
	select {
	case l.conns <- hc:
	default:
	}
	return hc, nil
}

type halfCloseConn struct {
	*net.TCPConn
	closeWrite, close   sync.Once
	closeWrote, closing chan struct{}
	release             chan struct{}
}

func (c *halfCloseConn) CloseWrite() error {
	c.closeWrite.Do(func() { close(c.closeWrote) })
	return c.TCPConn.CloseWrite()
}

func (c *halfCloseConn) Close() error {
	c.close.Do(func() { close(c.closing) })
	<-c.release
	return c.TCPConn.Close()
}
