package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// A gateway whose listener fails to bind returns, and its SIGHUP handler
// returns with it: it used to wait for the command's context, which
// nothing cancelled, and could call Reload on the closed gateway.
func TestGatewayListenerFailureLeavesNoGoroutine(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	copyFile(t, testKeyFile, keyFile)
	environ := gatewayEnviron(t, keyFile, "")
	environ["SIGNGATE_LISTEN"] = taken.Addr().String()
	before := goleak.IgnoreCurrent()
	var out bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel() // only after the check: the run must end on its own
	err = run(ctx, []string{"gateway"}, environ, strings.NewReader(""), &out, &out)
	if err == nil {
		t.Fatalf("the gateway ran on a taken port:\n%s", &out)
	}
	goleak.VerifyNone(t, before)
}
