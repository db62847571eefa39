package signer

import (
	"testing"
	"time"
)

// benchScheme measures one scheme: Mint (a token-cache miss), URL (the
// placing every request pays) and Check (the CDN's or edge's verify),
// for a file grant and a directory grant.
func benchScheme(b *testing.B, c cdnScheme) {
	exp := time.Unix(1800000000, 0)
	for _, g := range []struct {
		name  string
		scope Scope
		grant Grant
	}{
		{"File", ScopeFile, Grant{Path: "/v/abc/seg-1.ts"}},
		{"Dir", ScopeDir, Grant{Path: "/v/abc", Prefix: true}},
	} {
		if g.scope == ScopeDir && c.options[bnMode] == "basic" {
			continue
		}
		s := c.settings(b, g.scope, "https://cdn.example.com")
		sg, err := c.scheme.New(s)
		if err != nil {
			b.Fatal(err)
		}
		ch, err := c.scheme.NewChecker(s)
		if err != nil {
			b.Fatal(err)
		}
		tok, err := sg.Mint(g.grant, exp)
		if err != nil {
			b.Fatal(err)
		}
		u, err := sg.URL("/v/abc/seg-1.ts", "", tok)
		if err != nil {
			b.Fatal(err)
		}
		req := requestOf(b, u, nil, exp)
		b.Run(g.name+"/Mint", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sg.Mint(g.grant, exp); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(g.name+"/URL", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := sg.URL("/v/abc/seg-1.ts", "", tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(g.name+"/Verify", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ch.Check(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSchemeGoogle(b *testing.B)          { benchScheme(b, cdnSchemes()[0]) }
func BenchmarkSchemeMediaCDNEd25519(b *testing.B) { benchScheme(b, cdnSchemes()[1]) }
func BenchmarkSchemeMediaCDNHMAC(b *testing.B)    { benchScheme(b, cdnSchemes()[2]) }
func BenchmarkSchemeAkamai(b *testing.B)          { benchScheme(b, cdnSchemes()[3]) }
func BenchmarkSchemeBunnyHMAC(b *testing.B)       { benchScheme(b, cdnSchemes()[5]) }
func BenchmarkSchemeBunnyAdvanced(b *testing.B)   { benchScheme(b, cdnSchemes()[6]) }
func BenchmarkSchemeBunnyBasic(b *testing.B)      { benchScheme(b, cdnSchemes()[7]) }
