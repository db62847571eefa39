package manifest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
)

// dashURLAttrs lists, per element, the attributes that hold URLs.
func dashURLAttrs(element string) []string {
	switch element {
	case "SegmentTemplate":
		return []string{"media", "initialization", "index", "bitstreamSwitching"}
	case "SegmentURL":
		return []string{"media", "index"}
	case "Initialization", "RepresentationIndex", "BitstreamSwitching":
		return []string{"sourceURL"}
	}
	return nil
}

// isContainer reports whether a DASH element may hold BaseURL and segment
// information that its descendants inherit.
func isContainer(element string) bool {
	switch element {
	case "MPD", "Period", "AdaptationSet", "Representation":
		return true
	}
	return false
}

// container is what DASH tracks of an open MPD, Period, AdaptationSet or
// Representation.
type container struct {
	depth    int  // index in the element stack
	relative bool // holds segment information with a relative URL
	descBase bool // a descendant container has a BaseURL
}

// DASH rewrites a DASH MPD read from r, whose own URL is base: BaseURL
// elements, SegmentTemplate media/initialization/index, SegmentURL
// media/index and Initialization/RepresentationIndex sourceURL. URLs are
// resolved through the BaseURL hierarchy (MPD, Period, AdaptationSet,
// Representation) before they reach rw, so the rewritten values are
// absolute and no longer depend on BaseURL. Several BaseURLs of one
// element each resolve against what it inherits; its descendants use the
// first. Location, where to fetch the MPD again, is a Playlist resolved
// against base. PatchLocation is dropped: a patch would bring the
// origin's unrewritten elements into the rewritten MPD, and without it the
// player fetches the whole MPD again. Everything else is kept byte for
// byte; only rewritten start tags are re-serialised.
//
// A remote element (xlink:href, other than resolve-to-zero) gives
// ErrUnsupported: the player would fetch its content and use its URLs
// unrewritten.
//
// Segment information with relative URLs that a descendant with its own
// BaseURL inherits (a SegmentTemplate on the AdaptationSet, a BaseURL on
// each Representation) resolves differently in each descendant, so no one
// absolute URL can replace it: such an MPD gives ErrUnsupported rather
// than URLs that point at the wrong place.
func DASH(r io.Reader, base *url.URL, limit int64, rw Rewriter) ([]byte, error) {
	in, err := readLimited(r, limit)
	if err != nil {
		return nil, err
	}
	d := xml.NewDecoder(bytes.NewReader(in))
	d.Strict = true
	out := newAssembler(in)
	splice := func(from, to int64, with string) { out.replace(int(from), int(to), with) }
	// bases[i] is the base URL in force inside the element at depth i,
	// hasBase[i] whether that element had a BaseURL, and names[i-1] its
	// name, to check nesting (RawToken does not).
	bases := []*url.URL{base}
	hasBase := []bool{false}
	var names []string
	var open []container // the containers among names, outermost first
	sawMPD := false
	for {
		start := d.InputOffset()
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		end := d.InputOffset()
		switch t := tok.(type) {
		case xml.StartElement:
			if !sawMPD {
				if t.Name.Local != "MPD" {
					return nil, fmt.Errorf("%w: root element is %q, not MPD", ErrMalformed, t.Name.Local)
				}
				sawMPD = true
			}
			if err := remoteElement(t); err != nil {
				return nil, err
			}
			cur := bases[len(bases)-1]
			bases = append(bases, cur)
			hasBase = append(hasBase, false)
			names = append(names, qname(t.Name))
			if isContainer(t.Name.Local) {
				open = append(open, container{depth: len(names) - 1})
			}
			switch t.Name.Local {
			case "BaseURL", "Location", "PatchLocation":
				if t.Name.Local == "BaseURL" {
					if err := baseAfterSegments(open, len(names)-2); err != nil {
						return nil, err
					}
				}
				text, textEnd, err := elementText(d, t.Name)
				if err != nil {
					return nil, err
				}
				// The end tag is read: the element is closed, and what
				// it says applies to its parent.
				bases, hasBase, names = bases[:len(bases)-1], hasBase[:len(hasBase)-1], names[:len(names)-1]
				parent := len(bases) - 1
				text = strings.TrimSpace(text)
				var s string
				changed := false
				switch t.Name.Local {
				case "BaseURL":
					// Every BaseURL of an element resolves against what
					// the element inherits; its descendants against the
					// first, as players use it (the others are
					// alternatives).
					inherited := bases[parent-1]
					ref, err := url.Parse(text)
					if err != nil {
						return nil, fmt.Errorf("%w: bad BaseURL: %w", ErrMalformed, err)
					}
					if !hasBase[parent] {
						bases[parent], hasBase[parent] = inherited.ResolveReference(ref), true
					}
					if s, changed, err = resolve(inherited, text, Media, rw); err != nil {
						return nil, err
					}
				case "Location":
					// Where to fetch the MPD again: a child manifest, back
					// through the caller like an HLS variant playlist.
					if s, changed, err = resolve(base, text, Playlist, rw); err != nil {
						return nil, err
					}
				case "PatchLocation":
					// A patch would put the origin's own, unrewritten
					// elements into the rewritten MPD: drop it, and the
					// player fetches the whole MPD again instead.
					splice(start, d.InputOffset(), "")
					continue
				}
				if changed {
					splice(end, textEnd, escapeText(s))
				}
				continue
			}
			attrs := dashURLAttrs(t.Name.Local)
			if len(attrs) == 0 {
				continue
			}
			kind := Media
			if t.Name.Local == "SegmentTemplate" {
				kind = Template
			}
			changed := false
			for i, a := range t.Attr {
				if a.Name.Space != "" || !slices.Contains(attrs, a.Name.Local) {
					continue
				}
				if err := relativeSegments(open, a.Value); err != nil {
					return nil, err
				}
				s, ok, err := resolve(cur, a.Value, kind, rw)
				if err != nil {
					return nil, err
				}
				if ok {
					t.Attr[i].Value = s
					changed = true
				}
			}
			if changed {
				selfClosing := bytes.HasSuffix(bytes.TrimRight(in[start:end], " \t\r\n"), []byte("/>"))
				splice(start, end, startTag(t, selfClosing))
			}
		case xml.EndElement:
			if len(names) == 0 || names[len(names)-1] != qname(t.Name) {
				return nil, fmt.Errorf("%w: unexpected end tag %q", ErrMalformed, qname(t.Name))
			}
			names = names[:len(names)-1]
			bases, hasBase = bases[:len(bases)-1], hasBase[:len(hasBase)-1]
			if n := len(open); n > 0 && open[n-1].depth == len(names) {
				open = open[:n-1]
			}
		}
	}
	if !sawMPD {
		return nil, fmt.Errorf("%w: no MPD element", ErrMalformed)
	}
	if len(names) > 0 {
		return nil, fmt.Errorf("%w: element %q not closed", ErrMalformed, names[len(names)-1])
	}
	return out.join(), nil
}

// baseAfterSegments notes a BaseURL whose parent element is at depth
// parent: it refuses one that applies to relative segment URLs already
// resolved without it (in its parent or an ancestor), and marks the
// ancestors as having a descendant BaseURL.
func baseAfterSegments(open []container, parent int) error {
	for i := range open {
		c := &open[i]
		if c.depth > parent {
			continue
		}
		if c.relative {
			return fmt.Errorf("%w: a BaseURL in the scope of segment information with relative URLs that was already resolved", ErrUnsupported)
		}
		if c.depth < parent {
			c.descBase = true
		}
	}
	return nil
}

// relativeSegments notes segment information holding URL value in the
// innermost open container, and refuses relative URLs there when a
// descendant container already had its own BaseURL.
func relativeSegments(open []container, value string) error {
	if len(open) == 0 {
		return nil
	}
	if u, err := url.Parse(strings.TrimSpace(value)); err == nil && u.Scheme != "" {
		return nil // absolute: no BaseURL changes it
	}
	c := &open[len(open)-1]
	if c.descBase {
		return fmt.Errorf("%w: segment information with relative URLs inherited by an element with its own BaseURL", ErrUnsupported)
	}
	c.relative = true
	return nil
}

// elementText reads the text of element name (BaseURL, Location) up to
// its end tag and returns the text and the offset where the end tag
// starts.
func elementText(d *xml.Decoder, name xml.Name) (string, int64, error) {
	var text strings.Builder
	for {
		at := d.InputOffset()
		tok, err := d.RawToken()
		if err != nil {
			return "", 0, fmt.Errorf("%w: in %s: %w", ErrMalformed, name.Local, err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if t.Name != name {
				return "", 0, fmt.Errorf("%w: %s ended by %q", ErrMalformed, name.Local, qname(t.Name))
			}
			return text.String(), at, nil
		case xml.Comment:
		default:
			return "", 0, fmt.Errorf("%w: unexpected content in %s", ErrMalformed, name.Local)
		}
	}
}

// resolveToZero is the xlink:href value that removes the element, with
// nothing to fetch.
const resolveToZero = "urn:mpeg:dash:resolve-to-zero:2013"

// remoteElement refuses a remote element (xlink:href on a Period,
// AdaptationSet, SegmentList, ...): the player would fetch it and insert
// its URLs, relative and unsigned, without their passing through the
// rewriter. RawToken leaves prefixes unresolved, so any prefixed href
// counts.
func remoteElement(t xml.StartElement) error {
	for _, a := range t.Attr {
		if a.Name.Local == "href" && a.Name.Space != "" && strings.TrimSpace(a.Value) != resolveToZero {
			return fmt.Errorf("%w: remote element %s (xlink:href)", ErrUnsupported, t.Name.Local)
		}
	}
	return nil
}

// startTag serialises a start tag from RawToken, prefixes kept as written.
func startTag(t xml.StartElement, selfClosing bool) string {
	var b strings.Builder
	b.WriteByte('<')
	b.WriteString(qname(t.Name))
	for _, a := range t.Attr {
		b.WriteByte(' ')
		b.WriteString(qname(a.Name))
		b.WriteString(`="`)
		xml.EscapeText(&b, []byte(a.Value))
		b.WriteByte('"')
	}
	if selfClosing {
		b.WriteByte('/')
	}
	b.WriteByte('>')
	return b.String()
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func escapeText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
