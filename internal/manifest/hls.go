package manifest

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// HLS rewrites an HLS playlist (master or media) read from r, whose own URL
// is base. It rewrites every URI line (variant playlists after
// EXT-X-STREAM-INF, segments, byte-range segments) and every URI="..."
// attribute (EXT-X-KEY, EXT-X-MAP, EXT-X-MEDIA, EXT-X-I-FRAME-STREAM-INF,
// EXT-X-SESSION-KEY, EXT-X-PART, EXT-X-PRELOAD-HINT, ...). Everything else
// is kept byte for byte, line endings included.
func HLS(r io.Reader, base *url.URL, limit int64, rw Rewriter) ([]byte, error) {
	in, err := readLimited(r, limit)
	if err != nil {
		return nil, err
	}
	in = bytes.TrimPrefix(in, []byte("\xef\xbb\xbf"))
	if !bytes.HasPrefix(in, []byte("#EXTM3U")) {
		return nil, fmt.Errorf("%w: HLS playlist does not start with #EXTM3U", ErrMalformed)
	}
	out := newAssembler(in)
	nextIsPlaylist := false
	for at := 0; at < len(in); {
		line := in[at:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		start := at
		at += len(line) + 1
		line = bytes.TrimSuffix(line, []byte("\r"))
		trimmed := bytes.TrimSpace(line)
		switch {
		case len(trimmed) == 0:
		case trimmed[0] == '#':
			if bytes.HasPrefix(trimmed, []byte("#EXT-X-STREAM-INF")) {
				nextIsPlaylist = true
			}
			if bytes.HasPrefix(trimmed, []byte("#EXT")) && bytes.Contains(line, []byte("URI")) {
				old := string(line)
				text, err := rewriteTagURI(old, base, rw)
				if err != nil {
					return nil, err
				}
				if text != old {
					out.replace(start, start+len(line), text)
				}
			}
		default:
			kind := Media
			if nextIsPlaylist {
				kind = Playlist
			}
			nextIsPlaylist = false
			text, _, err := resolve(base, string(trimmed), kind, rw)
			if err != nil {
				return nil, err
			}
			out.replace(start, start+len(line), text)
		}
	}
	return out.join(), nil
}

// tagKind says what the URI attribute of a tag names.
func tagKind(line string) Kind {
	for _, t := range [...]string{"#EXT-X-MEDIA:", "#EXT-X-I-FRAME-STREAM-INF:", "#EXT-X-RENDITION-REPORT:"} {
		if strings.HasPrefix(line, t) {
			return Playlist
		}
	}
	return Media
}

// rewriteTagURI rewrites the URI="..." attribute of a tag line, if any.
// Attribute values are quoted strings that may hold commas, so the list is
// walked attribute by attribute rather than searched.
func rewriteTagURI(line string, base *url.URL, rw Rewriter) (string, error) {
	colon := strings.IndexByte(line, ':')
	if colon < 0 {
		return line, nil
	}
	kind := tagKind(line)
	i := colon + 1
	for i < len(line) {
		eq := strings.IndexByte(line[i:], '=')
		if eq < 0 {
			return line, nil
		}
		name := strings.TrimSpace(line[i : i+eq])
		v := i + eq + 1
		if v < len(line) && line[v] == '"' {
			end := strings.IndexByte(line[v+1:], '"')
			if end < 0 {
				return "", fmt.Errorf("%w: unterminated quoted attribute in %.40q", ErrMalformed, line)
			}
			valStart, valEnd := v+1, v+1+end
			if name == "URI" {
				s, changed, err := resolve(base, line[valStart:valEnd], kind, rw)
				if err != nil {
					return "", err
				}
				if !changed {
					return line, nil
				}
				if strings.ContainsAny(s, "\"\r\n") {
					return "", fmt.Errorf("%w: rewritten URI cannot be quoted", ErrMalformed)
				}
				return line[:valStart] + s + line[valEnd:], nil
			}
			i = valEnd + 1
		} else {
			end := strings.IndexByte(line[v:], ',')
			if end < 0 {
				return line, nil
			}
			i = v + end
		}
		if i < len(line) && line[i] == ',' {
			i++
		}
	}
	return line, nil
}
