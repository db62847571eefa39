package manifest

import (
	"net/url"
	"runtime"
	"strings"
	"testing"
)

// TestHLSMemory bounds what rewriting a playlist of MANIFEST_MAX_BYTES
// costs in memory (docs/gateway.md, Manifest mode). A playlist of nothing
// but comments is kept as one span of the input, whatever its line count:
// it allocates the input and the output, and a little (more under the
// race detector). A playlist of nothing but short URIs, each rewritten to
// eight times its length (the gateway's budget for rewritten URIs), peaks
// below 20 times the limit: the input, the rewritten URIs, a small piece
// per URI, and the output.
func TestHLSMemory(t *testing.T) {
	const limit = 1 << 20
	base := mustURL(t, "https://cdn.example/v/abc/180p/index.m3u8")
	keep := func(ref *url.URL, kind Kind) (string, error) { return ref.String(), nil }
	for _, tc := range []struct {
		name, in string
		maxTotal int64 // bytes allocated in all
	}{
		{"comments", fill("#EXTM3U\n", "#\n", limit), 6 * limit},
		{"comments with CRLF", fill("#EXTM3U\r\n", "#\r\n", limit), 6 * limit},
		{"comment tags", fill("#EXTM3U\n", "#EXT-X-GAP\n", limit), 6 * limit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out []byte
			total := allocated(func() {
				var err error
				if out, err = HLS(strings.NewReader(tc.in), base, limit, keep); err != nil {
					t.Fatal(err)
				}
			})
			if string(out) != tc.in {
				t.Fatal("a playlist without URIs changed")
			}
			t.Logf("%d bytes: %.1f MiB allocated", len(tc.in), float64(total)/(1<<20))
			if total > uint64(tc.maxTotal) {
				t.Errorf("allocated %.1f MiB, want at most %.1f MiB", float64(total)/(1<<20), float64(tc.maxTotal)/(1<<20))
			}
		})
	}

	t.Run("URIs", func(t *testing.T) {
		const line = "seg-000000.ts\n"
		in := fill("#EXTM3U\n", line, limit)
		// Each URI becomes 8 × its line's length, as much as the
		// gateway's budget allows.
		pad := "?auth=" + strings.Repeat("x", 8*len(line)-len("https://cdn.example/v/abc/180p/seg-000000.ts?auth="))
		var (
			calls int
			peak  uint64 // the largest live heap seen during the rewrite
			ms    runtime.MemStats
		)
		runtime.GC()
		runtime.ReadMemStats(&ms)
		floor := ms.HeapAlloc
		sample := func() {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc-min(floor, ms.HeapAlloc))
		}
		out, err := HLS(strings.NewReader(in), base, limit, func(ref *url.URL, kind Kind) (string, error) {
			if calls++; calls%8192 == 0 {
				sample()
			}
			return ref.String() + pad, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := len(in) + calls*(8*len(line)-len(line)+1); len(out) != want {
			t.Fatalf("output is %d bytes, want %d", len(out), want)
		}
		// The last sample holds the input and nearly every piece; the
		// output is allocated on top of them.
		peak += uint64(len(out))
		t.Logf("%d URIs: %d bytes out, peak about %.1f MiB", calls, len(out), float64(peak)/(1<<20))
		if peak > 20*limit {
			t.Errorf("peak about %.1f MiB, want at most 20 MiB", float64(peak)/(1<<20))
		}
	})
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// fill returns head followed by as many units as fit in limit bytes.
func fill(head, unit string, limit int) string {
	var b strings.Builder
	b.WriteString(head)
	for b.Len()+len(unit) <= limit {
		b.WriteString(unit)
	}
	return b.String()
}
