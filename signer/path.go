package signer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// CanonicalPath returns the canonical form of an escaped request path (as in
// url.URL.EscapedPath or the request target, without query or fragment):
// percent-decoded exactly once, starting with "/", with no "." or ".."
// segments, no empty segments, and no encoded "/", "\" or NUL.
//
// A path that cannot be made canonical is refused with an error wrapping
// ErrPath; it is never "fixed". Gateway and edge both call this function,
// so a path signed by one verifies on the other byte for byte.
//
// Control characters, literal backslashes and invalid UTF-8 are refused
// too: no sane media path holds them, they feed open-redirect and traversal
// tricks, and a JSON uri claim cannot carry invalid UTF-8.
func CanonicalPath(escaped string) (string, error) {
	if escaped == "" || escaped[0] != '/' {
		return "", fmt.Errorf("%w: must start with /", ErrPath)
	}
	if escaped == "/" {
		return "/", nil
	}
	// Fast path: nothing to decode.
	if strings.IndexByte(escaped, '%') < 0 {
		if err := checkSegments(escaped); err != nil {
			return "", err
		}
		return escaped, nil
	}
	var b strings.Builder
	b.Grow(len(escaped))
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(escaped) || !isHex(escaped[i+1]) || !isHex(escaped[i+2]) {
			return "", fmt.Errorf("%w: invalid percent-encoding", ErrPath)
		}
		d := unhex(escaped[i+1])<<4 | unhex(escaped[i+2])
		switch d {
		case '/':
			return "", fmt.Errorf("%w: encoded /", ErrPath)
		case '\\':
			return "", fmt.Errorf("%w: encoded backslash", ErrPath)
		case 0:
			return "", fmt.Errorf("%w: encoded NUL", ErrPath)
		}
		b.WriteByte(d)
		i += 2
	}
	p := b.String()
	if err := checkSegments(p); err != nil {
		return "", err
	}
	return p, nil
}

// checkPath checks that a decoded path p is canonical: it starts with "/"
// and passes checkSegments; "/" alone is the bucket's root.
func checkPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%w: must start with /", ErrPath)
	}
	if p == "/" {
		return nil
	}
	return checkSegments(p)
}

// checkSegments checks a decoded path that starts with "/". The path must
// be valid UTF-8: the uri claim is a JSON string, which cannot hold
// anything else.
func checkSegments(p string) error {
	if !utf8.ValidString(p) {
		return fmt.Errorf("%w: not valid UTF-8", ErrPath)
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("%w: control character", ErrPath)
		case c == '\\':
			return fmt.Errorf("%w: backslash", ErrPath)
		}
	}
	rest := p[1:]
	for {
		seg, tail, more := strings.Cut(rest, "/")
		switch seg {
		case "":
			return fmt.Errorf("%w: empty segment", ErrPath)
		case ".", "..":
			return fmt.Errorf("%w: dot segment", ErrPath)
		}
		if !more {
			return nil
		}
		rest = tail
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// Covers reports whether a token whose uri claim is uri grants the canonical
// path p. The empty uri (or "/") grants the whole bucket; otherwise uri
// grants exactly itself and everything below it at a "/" boundary:
// "/v/abc" grants "/v/abc" and "/v/abc/x.ts", never "/v/abcdef". The leading
// "/" of uri is optional, and a trailing "/" names the same directory.
// A uri holding "." or ".." segments grants nothing, and no uri covers a
// p that is not canonical (a decoded path as CanonicalPath returns).
func Covers(uri, p string) bool {
	if checkPath(p) != nil {
		return false
	}
	if uri == "" || uri == "/" {
		return true
	}
	if uri[0] != '/' {
		uri = "/" + uri
	}
	uri = strings.TrimSuffix(uri, "/")
	if checkSegments(uri) != nil {
		return false
	}
	if !strings.HasPrefix(p, uri) {
		return false
	}
	return len(p) == len(uri) || p[len(uri)] == '/'
}

// Scope says how much of a bucket a minted token grants.
type Scope int

const (
	// ScopeFile grants the requested file only.
	ScopeFile Scope = iota
	// ScopeDir grants the directory holding the file, and all below it.
	// This is what HLS and DASH need: one token for every segment.
	ScopeDir
	// ScopeBucket grants the whole bucket.
	ScopeBucket
)

// ParseScope reads "file", "dir" or "bucket".
func ParseScope(s string) (Scope, error) {
	switch s {
	case "file":
		return ScopeFile, nil
	case "dir":
		return ScopeDir, nil
	case "bucket":
		return ScopeBucket, nil
	}
	return 0, fmt.Errorf("unknown scope %q, want file, dir or bucket", s)
}

// String returns "file", "dir" or "bucket".
func (s Scope) String() string {
	switch s {
	case ScopeFile:
		return "file"
	case ScopeDir:
		return "dir"
	case ScopeBucket:
		return "bucket"
	}
	return fmt.Sprintf("Scope(%d)", int(s))
}

// UnmarshalText implements encoding.TextUnmarshaler, for configuration.
func (s *Scope) UnmarshalText(b []byte) error {
	v, err := ParseScope(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// URI returns the uri claim that grants canonical path p under scope s:
// p itself, its directory, or "" for the whole bucket.
func (s Scope) URI(p string) string {
	switch s {
	case ScopeDir:
		i := strings.LastIndexByte(p, '/')
		if i <= 0 {
			return ""
		}
		return p[:i]
	case ScopeBucket:
		return ""
	}
	return p
}
