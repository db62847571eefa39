package httpx

import (
	"net/http"
	"strings"
)

// DropCookie removes the cookie called name from every Cookie header of h,
// keeping the others, joined into one header. A header without it is left
// as it is, byte for byte.
func DropCookie(h http.Header, name string) {
	lines := h["Cookie"]
	found := false
	for _, line := range lines {
		if strings.Contains(line, name) {
			found = true
			break
		}
	}
	if !found {
		return
	}
	var kept []string
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			n, _, _ := strings.Cut(part, "=")
			if strings.TrimSpace(n) == name || strings.TrimSpace(part) == "" {
				continue
			}
			kept = append(kept, strings.TrimSpace(part))
		}
	}
	delete(h, "Cookie")
	if len(kept) > 0 {
		h["Cookie"] = []string{strings.Join(kept, "; ")}
	}
}
