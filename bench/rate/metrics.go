package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// readCounters fetches the Prometheus text page at url and returns, for
// each name, the sum of its samples over every label set.
func readCounters(ctx context.Context, client *http.Client, url string, names []string) ([]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return sumCounters(resp.Body, names)
}

// sumCounters reads Prometheus text exposition from r; see readCounters.
// A name with no sample is an error, so a renamed metric cannot pass as 0.
func sumCounters(r io.Reader, names []string) ([]float64, error) {
	idx := make(map[string]int, len(names))
	for i, n := range names {
		idx[n] = i
	}
	sums := make([]float64, len(names))
	seen := make([]bool, len(names))
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if b := strings.IndexByte(line, '{'); b >= 0 && b < len(name) {
			name = line[:b]
			e := strings.LastIndexByte(line, '}')
			if e < b {
				continue
			}
			rest = strings.TrimSpace(line[e+1:])
		}
		i, want := idx[name]
		if !want {
			continue
		}
		v, _, _ := strings.Cut(strings.TrimSpace(rest), " ") // a timestamp may follow
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: value %q: %w", name, v, err)
		}
		sums[i] += f
		seen[i] = true
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("no metric %s", names[i])
		}
	}
	return sums, nil
}
