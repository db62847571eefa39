package httpx

import (
	"errors"
	"io"
	"net"
	"sync"
)

// limitListener is golang.org/x/net/netutil.LimitListener keeping what a
// connection can do: netutil's connections are a struct around a
// net.Conn, which hides the *net.TCPConn's ReadFrom from net/http, and
// net/http then copies every file through a 32 KiB buffer instead of
// sending it with sendfile(2). Behind netutil's limit the edge spent
// 700 µs of CPU per 1 MiB file against 250 µs for http.FileServer
// (BENCHMARKS.md, "What profiling found"). Accept waits while n
// connections are open; a connection's Close frees its place, once; the
// listener's Close ends a waiting Accept. CloseWrite passes through as
// well: net/http half-closes a connection before closing it after a
// reply sent with the request body unread, so that the reply is not lost
// to a reset.
type limitListener struct {
	net.Listener
	sem  chan struct{}
	done chan struct{}
	once sync.Once
}

func newLimitListener(l net.Listener, n int) net.Listener {
	return &limitListener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, free: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() { close(l.done) })
	return err
}

// limitConn is a connection holding a place of its limitListener.
type limitConn struct {
	net.Conn
	once sync.Once
	free func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.free)
	return err
}

// ReadFrom is the connection's own (sendfile(2) for a file on a TCP
// connection), where it has one.
func (c *limitConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// CloseWrite is the connection's own (shutdown(2) of the write half on a
// TCP connection), where it has one; net/http calls it through an
// interface assertion. It frees no place: Close still does, once.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
