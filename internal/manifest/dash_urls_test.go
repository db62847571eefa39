package manifest

import (
	"net/url"
	"strings"
	"testing"
)

// dashKinds rewrites an MPD with a Rewriter that marks each URL with its
// kind, and returns the output.
func dashKinds(t *testing.T, in string) (string, error) {
	t.Helper()
	out, err := DASH(strings.NewReader(in), mustURL(t, "https://cdn.example/v/abc/m.mpd"), 1<<20,
		func(ref *url.URL, kind Kind) (string, error) { return ref.String() + "?" + kind.String(), nil })
	return string(out), err
}

// TestDASHBaseURLSiblings: the BaseURLs of one element are alternatives.
// Each resolves against what the element inherits, not against the one
// before it, and the element's descendants resolve against the first.
func TestDASHBaseURLSiblings(t *testing.T) {
	out, err := dashKinds(t, `<MPD><BaseURL>a/</BaseURL><BaseURL>b/</BaseURL><Period>`+
		`<AdaptationSet><BaseURL>x/</BaseURL><BaseURL>https://mirror.example/y/</BaseURL>`+
		`<Representation id="r"><SegmentTemplate media="s-$Number$.m4s"/></Representation></AdaptationSet>`+
		`</Period></MPD>`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<BaseURL>https://cdn.example/v/abc/a/?media</BaseURL>`,
		`<BaseURL>https://cdn.example/v/abc/b/?media</BaseURL>`,
		`<BaseURL>https://cdn.example/v/abc/a/x/?media</BaseURL>`,
		`<BaseURL>https://mirror.example/y/?media</BaseURL>`,
		`media="https://cdn.example/v/abc/a/x/s-$Number$.m4s?template"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}
