package filewatch

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWatches: a change concerns a watched file itself, a ".." name in
// its directory (a Kubernetes secret's swap) or a link on its way; never
// another file beside it.
func TestWatches(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "..2026_12_02")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "tls.crt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("..2026_12_02", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	crt := filepath.Join(dir, "tls.crt")
	if err := os.Symlink(filepath.Join("..data", "tls.crt"), crt); err != nil {
		t.Fatal(err)
	}
	files := []string{crt, "", filepath.Join(dir, "tls.key")}
	for name, want := range map[string]bool{
		crt:                               true,
		filepath.Join(dir, "tls.key"):     true,
		filepath.Join(dir, "..data"):      true,
		filepath.Join(dir, "..data_tmp"):  true,
		filepath.Join(dir, "access.log"):  false,
		filepath.Join(dir, "tls.crt.tmp"): false,
		"/elsewhere/tls.crt":              false,
	} {
		if got := watches(files, name); got != want {
			t.Errorf("watches(%s) = %v, want %v", name, got, want)
		}
	}
}
