package httpx

import (
	"net/http"
	"testing"
)

func TestDropCookie(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"none", nil, nil},
		{"absent, kept as is", []string{"a=1;b=2"}, []string{"a=1;b=2"}},
		{"only it", []string{"Tok=x"}, nil},
		{"among others", []string{"a=1; Tok=x; b=2"}, []string{"a=1; b=2"}},
		{"several headers", []string{"a=1; Tok=x", "Tok=y; c=3"}, []string{"a=1; c=3"}},
		{"a longer name is another cookie", []string{"Tokx=1; Tok=2"}, []string{"Tokx=1"}},
		{"a value that mentions it", []string{"a=Tok"}, []string{"a=Tok"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.in != nil {
				h["Cookie"] = tc.in
			}
			DropCookie(h, "Tok")
			got := h["Cookie"]
			if len(got) != len(tc.want) || (len(got) == 1 && got[0] != tc.want[0]) {
				t.Errorf("Cookie = %q, want %q", got, tc.want)
			}
		})
	}
}
