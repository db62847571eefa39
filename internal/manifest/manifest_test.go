package manifest

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
)

// signAll marks every URI with its kind and a token, so tests can see what
// was rewritten and how it was resolved.
func signAll(ref *url.URL, kind Kind) (string, error) {
	if kind == Playlist {
		return "https://gw.example" + ref.Path, nil
	}
	return ref.String() + "?auth=T", nil
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestHLSMaster(t *testing.T) {
	in := "#EXTM3U\r\n" +
		"#EXT-X-VERSION:7\r\n" +
		`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English, US",LANGUAGE="en",URI="audio/en.m3u8"` + "\r\n" +
		`#EXT-X-STREAM-INF:BANDWIDTH=420000,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="aud"` + "\r\n" +
		"360p/index.m3u8\r\n" +
		`#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="iframes.m3u8"` + "\r\n" +
		`#EXT-X-SESSION-KEY:METHOD=AES-128,URI="/keys/k1"` + "\r\n"
	got, err := HLS(strings.NewReader(in), mustURL(t, "https://cdn.example/v/abc/master.m3u8"), 1<<20, signAll)
	if err != nil {
		t.Fatal(err)
	}
	want := "#EXTM3U\r\n" +
		"#EXT-X-VERSION:7\r\n" +
		`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English, US",LANGUAGE="en",URI="https://gw.example/v/abc/audio/en.m3u8"` + "\r\n" +
		`#EXT-X-STREAM-INF:BANDWIDTH=420000,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="aud"` + "\r\n" +
		"https://gw.example/v/abc/360p/index.m3u8\r\n" +
		`#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="https://gw.example/v/abc/iframes.m3u8"` + "\r\n" +
		`#EXT-X-SESSION-KEY:METHOD=AES-128,URI="https://cdn.example/keys/k1?auth=T"` + "\r\n"
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestHLSMedia(t *testing.T) {
	in := `#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-KEY:METHOD=AES-128,URI="key.bin",IV=0x00000000000000000000000000000001
#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"
#EXTINF:2.0,
#EXT-X-BYTERANGE:1000@720
all.mp4
#EXTINF:2.0,
https://other.example/abs.ts
#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://fairplay-key",KEYFORMAT="com.apple.streamingkeydelivery"
#EXT-X-KEY:METHOD=NONE
#EXTINF:2.0,title with "quotes", and commas
seg 3.ts
#EXT-X-ENDLIST`
	got, err := HLS(strings.NewReader(in), mustURL(t, "https://cdn.example/v/abc/180p/index.m3u8"), 1<<20, signAll)
	if err != nil {
		t.Fatal(err)
	}
	want := `#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-KEY:METHOD=AES-128,URI="https://cdn.example/v/abc/180p/key.bin?auth=T",IV=0x00000000000000000000000000000001
#EXT-X-MAP:URI="https://cdn.example/v/abc/180p/init.mp4?auth=T",BYTERANGE="720@0"
#EXTINF:2.0,
#EXT-X-BYTERANGE:1000@720
https://cdn.example/v/abc/180p/all.mp4?auth=T
#EXTINF:2.0,
https://other.example/abs.ts?auth=T
#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://fairplay-key",KEYFORMAT="com.apple.streamingkeydelivery"
#EXT-X-KEY:METHOD=NONE
#EXTINF:2.0,title with "quotes", and commas
https://cdn.example/v/abc/180p/seg%203.ts?auth=T
#EXT-X-ENDLIST`
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestHLSErrors(t *testing.T) {
	base := mustURL(t, "https://cdn.example/v/x.m3u8")
	boom := errors.New("boom")
	tests := []struct {
		name string
		in   string
		rw   Rewriter
		want error
	}{
		{"not a playlist", "<html>", signAll, ErrMalformed},
		{"empty", "", signAll, ErrMalformed},
		{"too large", "#EXTM3U\n" + strings.Repeat("#EXTINF:1,\nseg.ts\n", 200), signAll, ErrTooLarge},
		{"unterminated quote", "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\n", signAll, ErrMalformed},
		{"bad URI", "#EXTM3U\n#EXTINF:1,\nhttp://[::1\n", signAll, ErrMalformed},
		{"rewriter fails", "#EXTM3U\n#EXTINF:1,\nseg.ts\n", func(*url.URL, Kind) (string, error) { return "", boom }, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := HLS(strings.NewReader(tt.in), base, 1024, tt.rw); !errors.Is(err, tt.want) {
				t.Fatalf("HLS = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestHLSSampleMedia(t *testing.T) {
	for _, name := range []string{"master.m3u8", "360p/index.m3u8", "180p/index.m3u8"} {
		in, err := os.ReadFile("../demo/media/hls/" + name)
		if err != nil {
			t.Fatal(err)
		}
		base := mustURL(t, "https://cdn.example/hls/"+name)
		var seen []string
		got, err := HLS(strings.NewReader(string(in)), base, 1<<20, func(ref *url.URL, kind Kind) (string, error) {
			seen = append(seen, kind.String()+" "+ref.Path)
			return signAll(ref, kind)
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(got), "\n") {
			if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "https://") {
				t.Errorf("%s: line left relative: %q", name, line)
			}
		}
		if len(seen) < 2 {
			t.Errorf("%s: rewrote only %v", name, seen)
		}
	}
}

func TestDASH(t *testing.T) {
	in := `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:xlink="http://www.w3.org/1999/xlink" type="static">
  <BaseURL>https://cdn.example/v/abc/</BaseURL>
  <Period id="0">
    <AdaptationSet id="0" contentType="video">
      <BaseURL>video/</BaseURL>
      <Representation id="0" bandwidth="300000">
        <SegmentTemplate timescale="1000" duration="2000" initialization="init-$RepresentationID$.m4s" media="seg-$RepresentationID$-$Number%03d$.m4s" startNumber="1"/>
      </Representation>
      <Representation id="1" bandwidth="100000">
        <SegmentList duration="2">
          <Initialization sourceURL="list/init.mp4"/>
          <SegmentURL media="list/1.m4s"/>
          <SegmentURL media="list/2.m4s" mediaRange="0-99"/>
        </SegmentList>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="1" contentType="audio">
      <Representation id="2"><BaseURL>audio &amp; more/a.mp4</BaseURL><SegmentBase indexRange="0-99"/></Representation>
    </AdaptationSet>
  </Period>
</MPD>`
	var seen []string
	got, err := DASH(strings.NewReader(in), mustURL(t, "https://cdn.example/v/abc/manifest.mpd"), 1<<20, func(ref *url.URL, kind Kind) (string, error) {
		seen = append(seen, ref.String())
		return ref.String() + "?auth=T&x=1", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<BaseURL>https://cdn.example/v/abc/?auth=T&amp;x=1</BaseURL>`,
		`<BaseURL>https://cdn.example/v/abc/video/?auth=T&amp;x=1</BaseURL>`,
		`<SegmentTemplate timescale="1000" duration="2000" initialization="https://cdn.example/v/abc/video/init-$RepresentationID$.m4s?auth=T&amp;x=1" media="https://cdn.example/v/abc/video/seg-$RepresentationID$-$Number%03d$.m4s?auth=T&amp;x=1" startNumber="1"/>`,
		`<Initialization sourceURL="https://cdn.example/v/abc/video/list/init.mp4?auth=T&amp;x=1"/>`,
		`<SegmentURL media="https://cdn.example/v/abc/video/list/2.m4s?auth=T&amp;x=1" mediaRange="0-99"/>`,
		`<BaseURL>https://cdn.example/v/abc/audio%20&amp;%20more/a.mp4?auth=T&amp;x=1</BaseURL>`,
		`xmlns:xlink="http://www.w3.org/1999/xlink"`,
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("output lacks %s\n%s", want, got)
		}
	}
	if len(seen) != 8 {
		t.Errorf("rewrote %d URLs: %v", len(seen), seen)
	}
}

func TestDASHErrors(t *testing.T) {
	base := mustURL(t, "https://cdn.example/m.mpd")
	for name, tt := range map[string]struct {
		in   string
		want error
	}{
		"not XML":      {"#EXTM3U", ErrMalformed},
		"not an MPD":   {"<html><body/></html>", ErrMalformed},
		"unclosed":     {"<MPD><Period>", ErrMalformed},
		"bad BaseURL":  {"<MPD><BaseURL>http://[::1</BaseURL></MPD>", ErrMalformed},
		"child in URL": {"<MPD><BaseURL><x/></BaseURL></MPD>", ErrMalformed},
		"too large":    {"<MPD>" + strings.Repeat("<Period/>", 200) + "</MPD>", ErrTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := DASH(strings.NewReader(tt.in), base, 1024, signAll); !errors.Is(err, tt.want) {
				t.Fatalf("DASH = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDASHSampleMedia(t *testing.T) {
	in, err := os.ReadFile("../demo/media/dash/manifest.mpd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	got, err := DASH(strings.NewReader(string(in)), mustURL(t, "https://cdn.example/dash/manifest.mpd"), 1<<20, func(ref *url.URL, kind Kind) (string, error) {
		n++
		return signAll(ref, kind)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 || strings.Count(string(got), "https://cdn.example/dash/") != 6 {
		t.Errorf("rewrote %d URLs:\n%s", n, got)
	}
	// Unchanged apart from the rewritten attributes.
	if len(got)-len(in) != 6*len("https://cdn.example/dash/?auth=T") {
		t.Errorf("size grew by %d", len(got)-len(in))
	}
}

func FuzzHLS(f *testing.F) {
	f.Add("#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1,\nseg.ts\n")
	f.Add("#EXTM3U\n#EXT-X-MEDIA:URI=\"a,b\",NAME=\"x\"\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8")
	base, _ := url.Parse("https://cdn.example/v/m.m3u8")
	f.Fuzz(func(t *testing.T, in string) {
		out, err := HLS(strings.NewReader(in), base, 1<<16, func(ref *url.URL, kind Kind) (string, error) {
			return "https://cdn.example/SIGNED", nil
		})
		if err != nil {
			return
		}
		// Oracle: every URI line is rewritten, and nothing but URIs changes.
		inLines, outLines := strings.Split(strings.TrimPrefix(in, "\xef\xbb\xbf"), "\n"), strings.Split(string(out), "\n")
		if len(inLines) != len(outLines) {
			t.Fatalf("line count %d -> %d", len(inLines), len(outLines))
		}
		for i, l := range outLines {
			tl := strings.TrimSpace(l)
			if tl != "" && !strings.HasPrefix(tl, "#") {
				u, err := url.Parse(strings.TrimSpace(inLines[i]))
				if err == nil && (u.Scheme == "" || u.Scheme == "http" || u.Scheme == "https") && strings.TrimSuffix(tl, "\r") != "https://cdn.example/SIGNED" {
					t.Fatalf("line %d not rewritten: %q", i, l)
				}
			}
			if strings.HasPrefix(tl, "#") && !strings.Contains(l, "SIGNED") && l != inLines[i] {
				t.Fatalf("line %d changed without a URI: %q -> %q", i, inLines[i], l)
			}
		}
	})
}

func FuzzDASH(f *testing.F) {
	in, _ := os.ReadFile("../demo/media/dash/manifest.mpd")
	f.Add(string(in))
	f.Add(`<MPD><BaseURL>a/</BaseURL><Period><SegmentTemplate media="x"/></Period></MPD>`)
	base, _ := url.Parse("https://cdn.example/v/m.mpd")
	f.Fuzz(func(t *testing.T, in string) {
		n := 0
		out, err := DASH(strings.NewReader(in), base, 1<<16, func(ref *url.URL, kind Kind) (string, error) {
			n++
			return fmt.Sprintf("https://cdn.example/S%d", n), nil
		})
		if err != nil {
			return
		}
		// Oracle: the output is still well-formed XML with an MPD root, and
		// it carries every rewritten URL.
		if _, err := DASH(strings.NewReader(string(out)), base, 1<<17, func(ref *url.URL, kind Kind) (string, error) { return ref.String(), nil }); err != nil {
			t.Fatalf("output does not parse again: %v\n%s", err, out)
		}
		for i := 1; i <= n; i++ {
			if !strings.Contains(string(out), fmt.Sprintf("https://cdn.example/S%d", i)) {
				t.Fatalf("rewritten URL %d missing", i)
			}
		}
	})
}
