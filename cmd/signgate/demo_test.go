package main

import (
	"net"
	"strings"
	"testing"
)

// TestDemoBusyPort: an address in use stops the demo with one line that
// names the address and the flag to change, once prefixed.
func TestDemoBusyPort(t *testing.T) {
	for _, flag := range []string{"listen", "edge-listen", "api-listen"} {
		t.Run(flag, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			busy := l.Addr().String()
			args := []string{"demo", "--listen", "127.0.0.1:0", "--edge-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0", "--" + flag, busy}
			out, errOut, code := cli(t, nil, args...)
			want := "is already in use: pick another with --" + flag + " ADDR"
			if code != 1 || !strings.Contains(errOut, busy+" "+want) || strings.Count(errOut, "\n") != 1 ||
				!strings.HasPrefix(errOut, "signgate: demo: the ") || strings.Contains(errOut, "demo: demo:") {
				t.Fatalf("exit %d, stderr %q, stdout %q; want one line naming %s and --%s", code, errOut, out, busy, flag)
			}
		})
	}
}

func TestDemoTTLFlag(t *testing.T) {
	for _, bad := range []string{"1s", "1500ms", "-5s"} {
		_, errOut, code := cli(t, nil, "demo", "--ttl", bad)
		if code != 2 || !strings.Contains(errOut, "--ttl") {
			t.Errorf("--ttl %s: exit %d, stderr %q", bad, code, errOut)
		}
	}
}
