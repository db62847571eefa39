package configsrc

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/signgate/signgate/internal/configref"
)

const (
	configDir = "../../../config"
	committed = "../../../docs/config.md"
	fieldDocs = "../fielddocs.go"
)

// TestCommittedFilesAreCurrent regenerates fielddocs.go and docs/config.md
// from package config's source and fails when the committed copies differ:
// a stale reference fails the build.
func TestCommittedFilesAreCurrent(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "config.md")
	if err := Generate(configDir, dir, md); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ fresh, committed string }{
		{filepath.Join(dir, "fielddocs.go"), fieldDocs},
		{md, committed},
	} {
		want, err := os.ReadFile(f.fresh)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f.committed)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run \"go generate ./internal/configref\" and commit the result\n%s", f.committed, firstDiff(got, want))
		}
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n  committed: " + gl + "\n  generated: " + wl
		}
	}
	return ""
}

// TestBuiltinMatchesSource: what "signgate config" prints (the compiled-in
// docs) is what the source says.
func TestBuiltinMatchesSource(t *testing.T) {
	fresh, err := ReadDocs(configDir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := configref.Reference(fresh)
	if err != nil {
		t.Fatal(err)
	}
	got, err := configref.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("fielddocs.go is stale: run \"go generate ./internal/configref\"")
	}
}

func TestReadDocs(t *testing.T) {
	dir := t.TempDir()
	src := `package x

// T is a thing.
type T struct {
	// A is a.
	A string
	// B and C share.
	B string
	C string

	D string // D trails.

	E string
	// F is documented, the next one is not.
	F string
	G string
	f string // unexported
}

type u struct {
	// G is hidden.
	G string
}
`
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x_test.go"), []byte("package x\n// Z is a test type.\ntype Z struct{ Q string }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDocs(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := configref.Docs{"T": "T is a thing.", "T.A": "A is a.", "T.B": "B and C share.", "T.C": "B and C share.", "T.D": "D trails.", "T.F": "F is documented, the next one is not."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if _, err := ReadDocs(t.TempDir()); err == nil {
		t.Error("an empty directory gave no error")
	}
}
