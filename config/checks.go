package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
)

// Checks of values that several settings share.

// listGaps reports each variable of vars (names under prefix, such as
// EDGE_BUCKETS_) that has no number, or a number past the n elements
// read: a gap in the numbers, where the env library stopped.
func listGaps(vars []string, prefix, what, first string, n int) []error {
	var errs []error
	for _, k := range vars {
		var i int
		if _, err := fmt.Sscanf(strings.TrimPrefix(k, Prefix+prefix), "%d_", &i); err != nil {
			errs = append(errs, fmt.Errorf("%s: not a %s setting; want %s%s<n>_%s and the like", k, what, Prefix, prefix, first))
		} else if i >= n {
			errs = append(errs, fmt.Errorf("%s: %s %d is ignored, as the %s numbers must run 0, 1, 2, ... without a gap", k, what, i, what))
		}
	}
	return errs
}

// checkWebOrigin checks one of n CORS origins, for the gateway
// (SIGNGATE_CORS_ORIGINS) and the edge (SIGNGATE_EDGE_CORS_ORIGINS)
// alike, with httpx.CORS's rule: "*" alone (any origin, without
// credentials), or scheme://host[:port] and nothing more (an Origin
// header never has a path, not even "/").
func checkWebOrigin(o string, n int) error {
	if o == "*" {
		if n > 1 {
			return errors.New(`"*" must stand alone: it allows any origin, without credentials`)
		}
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q is not a web origin such as https://app.example.com", o)
	}
	return nil
}

func checkAddr(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	return nil
}

// checkOrigin checks a bucket's or a stream's origin: a directory, or an
// http(s) URL.
func checkOrigin(origin string) error {
	if origin == "" {
		return errors.New("required: a directory or an http(s) URL")
	}
	if !isURL(origin) {
		if strings.Contains(origin, "://") {
			return fmt.Errorf("%q: a URL origin must be http or https", origin)
		}
		if !filepath.IsAbs(origin) && strings.HasPrefix(origin, "~") {
			return fmt.Errorf("%q: ~ is not expanded; give the full path", origin)
		}
		return nil
	}
	u, err := url.Parse(origin)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL: %w", err)
	case u.Host == "":
		return fmt.Errorf("%q has no host", origin)
	case u.User != nil:
		return errors.New("the origin URL must not hold user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("%q must not have a query or fragment", origin)
	}
	return nil
}
