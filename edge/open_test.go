package edge

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestDirOriginConfines opens files below a bucket directory both ways,
// openat2 (Linux) and os.Root, and checks that each refuses every way out
// and allows what stays inside.
func TestDirOriginConfines(t *testing.T) {
	root := t.TempDir()
	bucket := filepath.Join(root, "bucket")
	writeFile(t, filepath.Join(root, "secret.txt"), "SECRET")
	writeFile(t, filepath.Join(bucket, "v", "a.ts"), "A")
	for name, target := range map[string]string{
		"abs.txt":    filepath.Join(root, "secret.txt"),
		"rel.txt":    "../secret.txt",
		"up":         root,
		"v/deep.txt": "../../secret.txt",
		"inside.ts":  "v/a.ts", // stays in the bucket: allowed
	} {
		if err := os.Symlink(target, filepath.Join(bucket, name)); err != nil {
			t.Fatal(err)
		}
	}
	o, err := newDirOrigin(bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	if runtime.GOOS == "linux" && o.beneath == nil {
		t.Fatal("no openat2 on this Linux: the edge opens files through os.Root only")
	}
	modes := map[string]*beneath{"openat2": o.beneath, "os.Root": nil}
	if o.beneath == nil {
		delete(modes, "openat2")
	}
	for mode, b := range modes {
		t.Run(mode, func(t *testing.T) {
			o := &dirOrigin{root: o.root, beneath: b}
			for _, name := range []string{"abs.txt", "rel.txt", "up/secret.txt", "v/deep.txt", "../secret.txt", "v/../../secret.txt", "/etc/passwd"} {
				if f, err := o.open(name); err == nil {
					f.Close()
					t.Errorf("%s: opened, want refused", name)
				}
			}
			for name, want := range map[string]string{"v/a.ts": "A", "inside.ts": "A"} {
				f, err := o.open(name)
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				got, _ := io.ReadAll(f)
				f.Close()
				if string(got) != want {
					t.Errorf("%s: read %q, want %q", name, got, want)
				}
			}
		})
	}
}

// BenchmarkOpen opens and stats a file two directories down, as serving a
// segment does, through openat2 and through os.Root.
func BenchmarkOpen(b *testing.B) {
	bucket := b.TempDir()
	writeFile(b, filepath.Join(bucket, "v", "abc", "seg0.ts"), "x")
	o, err := newDirOrigin(bucket)
	if err != nil {
		b.Fatal(err)
	}
	defer o.close()
	for mode, bn := range map[string]*beneath{"openat2": o.beneath, "os.Root": nil} {
		if mode == "openat2" && bn == nil {
			continue
		}
		b.Run(mode, func(b *testing.B) {
			o := &dirOrigin{root: o.root, beneath: bn}
			b.ReportAllocs()
			for b.Loop() {
				f, err := o.open("v/abc/seg0.ts")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := f.Stat(); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}
