package config

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fold returns s case-folded the way a case-insensitive server may read
// it: every rune replaced by the smallest rune of its Unicode simple
// folding orbit, so that "S", "s" and "ſ" (long s), or "K", "k" and the
// Kelvin sign, fold alike, as strings.EqualFold and Java's
// equalsIgnoreCase see them. Prefixes and paths are compared folded to
// find look-alikes; the result is for comparing, never for routing.
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s)
	}
	return strings.Map(foldRune, s)
}

func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}
