package testenv

import (
	"io"
	"net"
	"testing"
)

// SilentServer returns the address of a server on 127.0.0.1 that accepts
// connections, reads what comes and never answers: a read timeout, or a
// client that gives up, against it is real. Everything is closed and
// waited for when the test ends.
func SilentServer(t testing.TB) string {
	t.Helper()
	return rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
}

// ResetServer returns the address of a server on 127.0.0.1 that reads a
// request's first byte and closes the connection with SO_LINGER 0, so the
// client sees a real TCP reset.
func ResetServer(t testing.TB) string {
	t.Helper()
	return rawServer(t, func(c net.Conn) {
		c.Read(make([]byte, 1))
		c.(*net.TCPConn).SetLinger(0)
	})
}

// ClosedPort returns an address on 127.0.0.1 where nothing listens: a
// dial to it is really refused.
func ClosedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// rawServer runs serve on each connection of a listener on 127.0.0.1:0
// and closes the connection when serve returns.
func rawServer(t testing.TB, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
			go func() {
				serve(c)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		close(conns)
		for c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}
