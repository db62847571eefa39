package manifest

import (
	"errors"
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

// TestDASHEndTags: a BaseURL or Location closed by another element's end
// tag is malformed, not rewritten.
func TestDASHEndTags(t *testing.T) {
	for _, in := range []string{
		`<MPD><BaseURL>x/</Foo></MPD>`,
		`<MPD><Period><BaseURL>x/</Period></BaseURL></MPD>`,
		`<MPD><Location>https://cdn.example/v/abc/m.mpd</MPD>`,
		`<MPD><BaseURL>x/</b:BaseURL></MPD>`,
	} {
		if _, err := dashKinds(t, in); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: DASH = %v, want ErrMalformed", in, err)
		}
	}
}

// TestDASHMPDLevelURLs: Location (where to fetch the MPD again) is a child
// manifest and resolves against the MPD's own URL; PatchLocation is
// dropped, since a patch would bring the origin's unrewritten elements
// into the rewritten MPD; a remote element (xlink:href) is refused, since
// its content would reach the player unrewritten, unless it only removes
// the element.
func TestDASHMPDLevelURLs(t *testing.T) {
	out, err := dashKinds(t, `<MPD xmlns:xlink="http://www.w3.org/1999/xlink" type="dynamic"><BaseURL>media/</BaseURL>`+
		`<Location>live.mpd</Location>`+
		"<PatchLocation ttl=\"60\">patch.mpp</PatchLocation>\n"+
		`<Period id="p0" xlink:href="urn:mpeg:dash:resolve-to-zero:2013" xlink:actuate="onLoad"/>`+
		`<Period id="p1"/></MPD>`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<Location>https://cdn.example/v/abc/live.mpd?playlist</Location>`,
		`<BaseURL>https://cdn.example/v/abc/media/?media</BaseURL>`,
		`xlink:href="urn:mpeg:dash:resolve-to-zero:2013"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "PatchLocation") || strings.Contains(out, "patch.mpp") {
		t.Errorf("PatchLocation kept:\n%s", out)
	}

	for _, in := range []string{
		`<MPD xmlns:xlink="http://www.w3.org/1999/xlink"><Period xlink:href="period2.xml" xlink:actuate="onLoad"/></MPD>`,
		`<MPD xmlns:xl="http://www.w3.org/1999/xlink"><Period><AdaptationSet xl:href="https://other.example/as.xml"/></Period></MPD>`,
	} {
		if _, err := dashKinds(t, in); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: DASH = %v, want ErrUnsupported", in, err)
		}
	}
}
