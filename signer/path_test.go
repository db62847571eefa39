package signer_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/signgate/signgate/signer"
)

func TestCanonicalPath(t *testing.T) {
	ok := []struct{ in, want string }{
		{"/", "/"},
		{"/v/abc/x.ts", "/v/abc/x.ts"},
		{"/v/a%20b/x.ts", "/v/a b/x.ts"},
		{"/v/%41", "/v/A"},
		{"/v/%2e%2e.ts", "/v/...ts"},
		{"/v/..x", "/v/..x"},
		{"/v/%252e%252e", "/v/%2e%2e"}, // decoded once, never twice
		{"/v/caf%C3%A9.mp4", "/v/café.mp4"},
		{"/v/a+b;c=d@e:f", "/v/a+b;c=d@e:f"},
	}
	for _, tt := range ok {
		t.Run(tt.in, func(t *testing.T) {
			got, err := signer.CanonicalPath(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("CanonicalPath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
	bad := []string{
		"", "v/abc", "//host/x", "/v//x", "/v/", "/v/./x", "/v/../x", "/..", "/.",
		"/v/%2e%2e/x", "/v/%2E/x", "/v/.%2e/x", "/v%2fx", "/v%2Fx", "/v%5cx", "/v%5Cx", "/v%00x",
		"/v\\x", "/\\host", "/v/%zz", "/v/%4", "/v/%", "/v/a%09b", "/v/a%0d%0ab", "/v/a\x7fb", "/v/a\x00b", "/v/%ff", "/\xfb0",
	}
	for _, in := range bad {
		t.Run("reject "+in, func(t *testing.T) {
			if got, err := signer.CanonicalPath(in); !errors.Is(err, signer.ErrPath) {
				t.Fatalf("CanonicalPath(%q) = %q, %v; want ErrPath", in, got, err)
			}
		})
	}
}

func TestCovers(t *testing.T) {
	tests := []struct {
		uri, path string
		want      bool
	}{
		{"", "/anything/at/all", true},
		{"/", "/anything", true},
		{"/v/abc", "/v/abc", true},
		{"/v/abc", "/v/abc/x.ts", true},
		{"/v/abc", "/v/abc/deep/er/x.ts", true},
		{"/v/abc", "/v/abcdef", false},
		{"/v/abc", "/v/ab", false},
		{"/v/abc", "/v", false},
		{"v/abc", "/v/abc/x.ts", true},
		{"/v/abc/", "/v/abc/x.ts", true},
		{"/v/abc/", "/v/abc", true},
		{"/v/abc/", "/v/abcdef", false},
		{"/v/abc/x.ts", "/v/abc/x.ts", true},
		{"/v/abc/x.ts", "/v/abc/x.tsx", false},
		{"/v/../w", "/w/x", false},
		{"/v/../w", "/v/../w/x", false},
		{"//", "/x", false},
	}
	for _, tt := range tests {
		if got := signer.Covers(tt.uri, tt.path); got != tt.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", tt.uri, tt.path, got, tt.want)
		}
	}
}

func TestScope(t *testing.T) {
	for _, tt := range []struct {
		scope      string
		path, want string
	}{
		{"file", "/v/abc/x.ts", "/v/abc/x.ts"},
		{"dir", "/v/abc/x.ts", "/v/abc"},
		{"dir", "/x.mp4", ""},
		{"bucket", "/v/abc/x.ts", ""},
	} {
		s, err := signer.ParseScope(tt.scope)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.URI(tt.path); got != tt.want || s.String() != tt.scope {
			t.Errorf("%s.URI(%q) = %q, want %q", s, tt.path, got, tt.want)
		}
		if !signer.Covers(s.URI(tt.path), tt.path) {
			t.Errorf("scope %s of %q does not cover it", s, tt.path)
		}
	}
	var s signer.Scope
	if err := s.UnmarshalText([]byte("folder")); err == nil || !strings.Contains(err.Error(), "folder") {
		t.Errorf("UnmarshalText(folder) = %v", err)
	}
}
