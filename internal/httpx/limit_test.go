package httpx

import (
	"io"
	"net"
	"testing"
)

// TestLimitConnHalfCloses: a connection accepted through the limit
// half-closes as the TCP connection does, which net/http does before it
// closes a connection whose request body it did not read. The client
// reads the answer and then EOF, and what it sends after that still
// reaches the server.
func TestLimitConnHalfCloses(t *testing.T) {
	nl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := newLimitListener(nl, 1)
	defer ll.Close()
	client, err := net.Dial("tcp", nl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := ll.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cw, ok := c.(interface{ CloseWrite() error }) // net/http's closeWriter
	if !ok {
		t.Fatal("the limit's connection has no CloseWrite: net/http closes it whole")
	}
	if _, err := c.Write([]byte("answer")); err != nil {
		t.Fatal(err)
	}
	if err := cw.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(client) // ends at the half-close's EOF
	if err != nil || string(got) != "answer" {
		t.Fatalf("the client read %q, %v; want the answer, then EOF", got, err)
	}
	if _, err := client.Write([]byte("late")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "late" {
		t.Fatalf("after the half-close the server read %q, %v", buf, err)
	}
}
