package manifest

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// TestDASHInheritedSegmentInformation covers segment information that a
// descendant with its own BaseURL inherits: the rewritten URL would have
// to differ per descendant, so such MPDs are refused, not rewritten to
// URLs that point at the wrong place. Forms whose URLs do not depend on a
// later BaseURL are rewritten.
func TestDASHInheritedSegmentInformation(t *testing.T) {
	const head = `<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period>`
	const tail = `</Period></MPD>`
	for _, tc := range []struct {
		name, in string
		want     error
		contains []string
	}{
		{"template on the set, BaseURL per representation",
			`<AdaptationSet><SegmentTemplate media="seg-$Number$.m4s"/>` +
				`<Representation id="a"><BaseURL>720/</BaseURL></Representation></AdaptationSet>`,
			ErrUnsupported, nil},
		{"the same in the wrong order",
			`<AdaptationSet><Representation id="a"><BaseURL>720/</BaseURL></Representation>` +
				`<SegmentTemplate media="seg-$Number$.m4s"/></AdaptationSet>`,
			ErrUnsupported, nil},
		{"segment list on the set, BaseURL per representation",
			`<AdaptationSet><SegmentList><SegmentURL media="1.m4s"/></SegmentList>` +
				`<Representation id="a"><BaseURL>https://cdn.example/x/</BaseURL></Representation></AdaptationSet>`,
			ErrUnsupported, nil},
		{"BaseURL after the template of its own element",
			`<AdaptationSet><Representation id="a"><SegmentTemplate media="s.m4s"/><BaseURL>720/</BaseURL></Representation></AdaptationSet>`,
			ErrUnsupported, nil},
		{"absolute template on the set",
			`<AdaptationSet><SegmentTemplate media="https://cdn.example/v/seg-$Number$.m4s"/>` +
				`<Representation id="a"><BaseURL>720/</BaseURL></Representation></AdaptationSet>`,
			nil, []string{`media="https://cdn.example/v/seg-$Number$.m4s?auth=T"`}},
		{"on-demand profile: index ranges on the set, one file per representation",
			`<AdaptationSet><SegmentBase indexRange="0-99"/>` +
				`<Representation id="a"><BaseURL>a.mp4</BaseURL></Representation>` +
				`<Representation id="b"><BaseURL>b.mp4</BaseURL></Representation></AdaptationSet>`,
			nil, []string{`<BaseURL>https://cdn.example/v/abc/a.mp4?auth=T</BaseURL>`, `<BaseURL>https://cdn.example/v/abc/b.mp4?auth=T</BaseURL>`}},
		{"BaseURLs above, template below",
			`<BaseURL>p/</BaseURL><AdaptationSet><BaseURL>set/</BaseURL>` +
				`<Representation id="a"><BaseURL>r/</BaseURL><SegmentTemplate media="s-$Number$.m4s"/></Representation>` +
				`<Representation id="b"><SegmentTemplate media="t-$Number$.m4s"/></Representation></AdaptationSet>`,
			nil, []string{`media="https://cdn.example/v/abc/p/set/r/s-$Number$.m4s?auth=T"`, `media="https://cdn.example/v/abc/p/set/t-$Number$.m4s?auth=T"`}},
		{"template per representation, sibling with a BaseURL",
			`<AdaptationSet><Representation id="a"><SegmentTemplate media="s.m4s"/></Representation>` +
				`<Representation id="b"><BaseURL>b/</BaseURL><SegmentTemplate media="s.m4s"/></Representation></AdaptationSet>`,
			nil, []string{`media="https://cdn.example/v/abc/s.m4s?auth=T"`, `media="https://cdn.example/v/abc/b/s.m4s?auth=T"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := DASH(strings.NewReader(head+tc.in+tail), mustURL(t, "https://cdn.example/v/abc/m.mpd"), 1<<20,
				func(ref *url.URL, kind Kind) (string, error) { return ref.String() + "?auth=T", nil })
			if !errors.Is(err, tc.want) {
				t.Fatalf("DASH = %v, want %v", err, tc.want)
			}
			for _, s := range tc.contains {
				if !strings.Contains(string(out), s) {
					t.Errorf("output lacks %s:\n%s", s, out)
				}
			}
		})
	}
}
