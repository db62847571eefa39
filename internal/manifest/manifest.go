package manifest

import (
	"errors"
	"fmt"
	"io"
	"net/url"
)

var (
	// ErrTooLarge: the manifest is over the limit.
	ErrTooLarge = errors.New("manifest too large")
	// ErrMalformed: the manifest does not parse.
	ErrMalformed = errors.New("manifest malformed")
	// ErrUnsupported: the manifest parses but uses a construct whose URIs
	// cannot be made absolute without changing its structure.
	ErrUnsupported = errors.New("manifest construct not supported")
)

// Kind says what a URI in a manifest points at.
type Kind int

const (
	// Media is a segment, an init section (EXT-X-MAP, DASH initialization),
	// a key, or a single-file representation.
	Media Kind = iota
	// Playlist is a child manifest: an HLS variant or rendition playlist.
	Playlist
	// Template is a DASH SegmentTemplate URL: its last path segment holds
	// identifiers such as $Number%05d$ that the player fills in, so only
	// the directory part is a real path.
	Template
)

func (k Kind) String() string {
	switch k {
	case Playlist:
		return "playlist"
	case Template:
		return "template"
	}
	return "media"
}

// Rewriter returns what to write in place of a URI, given the URI resolved
// against the manifest's own URL.
type Rewriter func(ref *url.URL, kind Kind) (string, error)

// readLimited reads all of r, or fails with ErrTooLarge past limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, limit)
	}
	return b, nil
}

// resolve resolves ref against base and rewrites it. Only http(s) and
// relative references are rewritten; others (data:, skd:) are kept.
func resolve(base *url.URL, ref string, kind Kind, rw Rewriter) (string, bool, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return "", false, fmt.Errorf("%w: bad URI: %w", ErrMalformed, err)
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return ref, false, nil
	}
	out, err := rw(base.ResolveReference(u), kind)
	if err != nil {
		return "", false, err
	}
	return out, true, nil
}

// assembler builds a rewritten manifest from its input and a list of
// replacements, in input order, and joins them once at the end: one
// allocation of the exact size rather than a buffer regrown as URIs swell.
// What is not replaced is kept byte for byte, at no cost per line: a
// manifest's pieces grow with the number of rewritten URIs, not with its
// length.
type assembler struct {
	in     []byte
	pieces []piece
	kept   int // in[:kept] is accounted for by pieces
	size   int
}

// piece is an unchanged span of the input, in[from:to], then new text.
type piece struct {
	from, to int
	s        string
}

func newAssembler(in []byte) *assembler {
	return &assembler{in: in, size: len(in)}
}

// replace puts s in place of in[from:to]; from is not before the end of
// the previous replacement.
func (a *assembler) replace(from, to int, s string) {
	a.pieces = append(a.pieces, piece{from: a.kept, to: from, s: s})
	a.size += len(s) - (to - from)
	a.kept = to
}

// join returns the input with every replacement made.
func (a *assembler) join() []byte {
	out := make([]byte, 0, a.size)
	for _, p := range a.pieces {
		out = append(out, a.in[p.from:p.to]...)
		out = append(out, p.s...)
	}
	return append(out, a.in[a.kept:]...)
}
