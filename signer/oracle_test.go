package signer_test

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/signgate/signgate/internal/testenv"
)

// oracle runs signer/testdata/node/oracle.js: the vendors' own signers
// (npm @aws-sdk/cloudfront-signer, npm minio), one JSON case a line.
type oracle struct {
	t   testing.TB
	in  io.WriteCloser
	out *bufio.Scanner
}

func newOracle(t testing.TB, pkg string) *oracle {
	t.Helper()
	node := testenv.Program(t, "node")
	dir := filepath.Join("testdata", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
		testenv.Missing(t, "the npm package "+pkg+" in signer/testdata/node", "run npm ci in signer/testdata/node")
	}
	cmd := exec.Command(node, "oracle.js")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return &oracle{t: t, in: in, out: sc}
}

// ask sends case c and decodes the answer into v; an error the oracle
// reports fails the test.
func (o *oracle) ask(c any, v any) {
	o.t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		o.t.Fatal(err)
	}
	if _, err := o.in.Write(append(b, '\n')); err != nil {
		o.t.Fatal(err)
	}
	if !o.out.Scan() {
		o.t.Fatalf("oracle gave no answer: %v", o.out.Err())
	}
	var e struct{ Error string }
	if json.Unmarshal(o.out.Bytes(), &e) == nil && e.Error != "" {
		o.t.Fatalf("oracle: %s (case %s)", e.Error, b)
	}
	if err := json.Unmarshal(o.out.Bytes(), v); err != nil {
		o.t.Fatal(err)
	}
}
