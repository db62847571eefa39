package signer_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/signgate/signgate/signer"
)

func BenchmarkSign(b *testing.B) {
	f := newFixture(b)
	c := signer.Claims{URI: "/v/abc", Expires: f.now.Add(time.Hour)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.key.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignParallel signs on every P: with -cpu 1,2 its ns/op gives
// signatures per second per core count (#16: misses scale with cores).
func BenchmarkSignParallel(b *testing.B) {
	f := newFixture(b)
	c := signer.Claims{URI: "/v/abc", Expires: f.now.Add(time.Hour)}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.key.Sign(c); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	f := newFixture(b)
	tok := f.sign(b, signer.Claims{URI: "/v/abc", Expires: f.now.Add(time.Hour)})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.v.Verify(tok, "/v/abc/seg-001.ts"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCanonicalPath(b *testing.B) {
	for _, in := range []string{"/videos/2024/intro/seg-00042.ts", "/videos/caf%C3%A9/a%20b/seg-00042.ts"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := signer.CanonicalPath(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBaseURL(b *testing.B) {
	base, _ := signer.ParseBase("https://cdn.example.com")
	tok := newFixture(b).sign(b, signer.Claims{URI: "/v"})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := base.URL("/videos/intro/seg-00042.ts", "start=10&quality=hd", tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkURLMemo is a redirect's URL built by the signer ("build"),
// handed out by a memo that holds it ("remembered"), and asked of a
// memo that never holds it, its 1,024 slots against 100,000 distinct
// paths in turn ("thrashed": the URL built, and an entry made).
func BenchmarkURLMemo(b *testing.B) {
	f := newFixture(b)
	base, _ := signer.ParseBase("https://cdn.example.com")
	s := signer.NewQencodeSigner(f.key, base)
	tok, err := s.Mint(signer.Grant{Path: "/videos", Prefix: true}, f.now.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	paths := make([]string, 100_000)
	for i := range paths {
		paths[i] = fmt.Sprintf("/videos/intro/seg-%05d.ts", i)
	}
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.URL(paths[42], "start=10", tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("remembered", func(b *testing.B) {
		m := signer.NewURLMemo(s, 1024)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.URL(paths[42], "start=10", tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("thrashed", func(b *testing.B) {
		m := signer.NewURLMemo(s, 1024)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := m.URL(paths[i%len(paths)], "start=10", tok); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// BenchmarkTokenFromQuery reads an RS256 token from the query the edge
// gets, as every verified request does.
func BenchmarkTokenFromQuery(b *testing.B) {
	q := "start=10&auth=" + newFixture(b).sign(b, signer.Claims{URI: "/v"})
	b.ReportAllocs()
	for b.Loop() {
		if tok, err := signer.TokenFromQuery(q); err != nil || tok == "" {
			b.Fatal(tok, err)
		}
	}
}
