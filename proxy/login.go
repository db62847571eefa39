package proxy

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/signgate/signgate/signer"
)

// SafeReturnPath returns a same-site return path for a request with the
// given escaped path and raw query: the canonical path, escaped, then the
// query without any auth parameter. Anything that a browser, or a login
// app that decodes the value once or twice more, could read as another
// host ("//", "/\", tabs and newlines, encoded forms of them) gives "/".
func SafeReturnPath(escapedPath, rawQuery string) string {
	p, err := signer.CanonicalPath(escapedPath)
	if err != nil {
		return "/"
	}
	out := signer.EscapePath(p)
	if q, err := signer.StripAuth(rawQuery); err == nil && q != "" {
		out += "?" + q
	}
	if !sameSite(out) {
		return "/"
	}
	return out
}

// sameSite checks s, and s decoded up to three times, for anything that
// could leave the site: it must start with exactly one "/" and hold no
// backslash or control character (a browser drops tabs and newlines).
func sameSite(s string) bool {
	for range 4 {
		if len(s) == 0 || s[0] != '/' || len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
			return false
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < ' ' || c == 0x7f || c == '\\' {
				return false
			}
		}
		d, err := url.PathUnescape(s)
		if err != nil {
			return false
		}
		if d == s {
			return true
		}
		s = d
	}
	return false
}

// wantsHTML reports whether the client is a browser navigating: its
// Accept header lists text/html (not refused with q=0), or it says
// Sec-Fetch-Mode: navigate. XHR and players get JSON instead.
func wantsHTML(r *http.Request) bool {
	if r.Header.Get("X-Requested-With") != "" {
		return false
	}
	if r.Header.Get("Sec-Fetch-Mode") == "navigate" {
		return true
	}
	for _, h := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(h, ",") {
			mt, params, _ := strings.Cut(part, ";")
			mt = strings.TrimSpace(mt)
			if !strings.EqualFold(mt, "text/html") && !strings.EqualFold(mt, "application/xhtml+xml") {
				continue
			}
			refused := false
			for p := range strings.SplitSeq(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "q") && strings.Trim(strings.TrimSpace(v), "0.") == "" {
					refused = true
				}
			}
			if !refused {
				return true
			}
		}
	}
	return false
}

// loginLocation returns the login URL with the request's safe return path
// in the configured parameter.
func (g *Gateway) loginLocation(r *http.Request) string {
	u := *g.loginURL
	q := u.Query()
	q.Set(g.cfg.LoginReturnParam, SafeReturnPath(r.URL.EscapedPath(), r.URL.RawQuery))
	u.RawQuery = q.Encode()
	return u.String()
}
