package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
)

// report writes summary.md into the results directory and to stdout.
func (sk *soak) report(stdout io.Writer, environ map[string]string, pass bool) error {
	var b bytes.Buffer
	r := sk.rec
	fmt.Fprintf(&b, "# Soak of %s\n\n", sk.startedAt.UTC().Format("2006-01-02 15:04 MST"))
	sk.verdict(&b, pass)
	sk.machine(&b, environ)
	sk.classes(&b)
	sk.causes(&b)
	fmt.Fprintf(&b, "## Timeline\n\nSeconds from the start of the load (negative: set-up).\n\n")
	r.mu.Lock()
	events := slices.Clone(r.events)
	r.mu.Unlock()
	for _, e := range events {
		fmt.Fprintf(&b, "- %s %s\n", r.since(e.at), e.msg)
	}
	b.WriteString("\n")
	sk.latency(&b)
	if sk.sm != nil {
		sk.memory(&b)
	}
	if err := os.WriteFile(filepath.Join(sk.out, "summary.md"), b.Bytes(), 0o644); err != nil {
		return err
	}
	_, err := stdout.Write(b.Bytes())
	return err
}

func (sk *soak) verdict(b *bytes.Buffer, pass bool) {
	r := sk.rec
	r.mu.Lock()
	failures, examples := slices.Clone(r.failures), slices.Clone(r.examples)
	r.mu.Unlock()
	n := r.unexpected()
	if pass {
		fmt.Fprintf(b, "**PASS**: no unexpected error, RSS under SOAK_RSS_LIMIT (%s), no RSS growth over SOAK_RSS_GROWTH (%s).\n\n", mib(sk.s.rssLimit), mib(sk.s.rssGrowth))
		return
	}
	fmt.Fprintf(b, "**FAIL**: %d unexpected errors, %d other failures.\n\n", n, len(failures))
	for _, f := range failures {
		fmt.Fprintf(b, "- %s %s\n", r.since(f.at), f.msg)
	}
	if len(examples) > 0 {
		fmt.Fprintf(b, "\nFirst unexpected errors (seconds from the start of the load):\n\n")
		for _, e := range examples {
			fmt.Fprintf(b, "- %s %s\n", r.since(e.at), e.msg)
		}
	}
	b.WriteString("\n")
}

func (sk *soak) machine(b *bytes.Buffer, environ map[string]string) {
	s := sk.s
	fmt.Fprintf(b, "## Run\n\n")
	fmt.Fprintf(b, "- command: `%s`\n", or(environ["SOAK_COMMAND"], "bench/soak"))
	fmt.Fprintf(b, "- commit: %s\n", or(environ["SOAK_COMMIT"], "unknown"))
	fmt.Fprintf(b, "- machine: %s, %d CPUs, %s memory, Linux %s; load average (1 min) %s during the load\n",
		cpuModel(), runtime.NumCPU(), memTotal(), strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")), sk.loadRange())
	fmt.Fprintf(b, "- Go %s; %s\n", runtime.Version(), or(sk.pgVersion(), "PostgreSQL version unknown"))
	fmt.Fprintf(b, "- load: %d requests/s for %s (mix %s), %d workers, request timeout %s; warm-up %s, faults every %s apart (%s down), last %s calm\n",
		s.Rate, s.Duration, s.Mix, s.Workers, s.Timeout, s.Warmup, s.FaultGap, s.FaultDown, s.Quiet)
	fmt.Fprintf(b, "- faults: %s\n", or(strings.Join(s.faults, ", "), "none"))
	gml := or(s.goMemLimit(), "none")
	if s.MemLimit == "auto" {
		gml += fmt.Sprintf(" (90 %% of SOAK_RSS_LIMIT %s)", mib(s.rssLimit))
	}
	fmt.Fprintf(b, "- gateway: SIGNGATE_CACHE_SIZE=%d, prefilled with %d distinct paths; GOMEMLIMIT=%s for the gateway and the edge; extra settings: gateway %s, edge %s\n\n",
		s.CacheSize, s.Prefill, gml, or(s.GatewayEnv, "none"), or(s.EdgeEnv, "none"))
}

func (sk *soak) classes(b *bytes.Buffer) {
	r := sk.rec
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(b, "## Requests\n\n| class | what | requests | ok | expected errors | unexpected errors |\n|---|---|---:|---:|---:|---:|\n")
	what := map[string]string{
		"hit": "gateway redirect, token cache hit (trusted header)", "miss": "gateway redirect, a new path (one RS256 signature)",
		"pass": "pass-through to the upstream app (4 KiB)", "edge": "gateway redirect, then the edge verifies the token and serves 1 KiB",
		"forward": "gateway redirect, authenticated by the forward-auth app", "api": "edge control API, GET /v1/signing-keys",
	}
	for _, c := range classes {
		if t := r.counts[c]; t != nil {
			fmt.Fprintf(b, "| %s | %s | %d | %d | %d | %d |\n", c, what[c], t.total, t.ok, t.expected, t.unexpected)
		}
	}
	b.WriteString("\n")
}

func (sk *soak) causes(b *bytes.Buffer) {
	r := sk.rec
	r.mu.Lock()
	keys := make([]causeKey, 0, len(r.causes))
	for k := range r.causes {
		keys = append(keys, k)
	}
	counts := make(map[causeKey]int, len(keys))
	for k, v := range r.causes {
		counts[k] = v
	}
	r.mu.Unlock()
	fmt.Fprintf(b, "## Errors by cause\n\n")
	if len(keys) == 0 {
		b.WriteString("None.\n\n")
		return
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].fault != keys[j].fault {
			return keys[i].fault > keys[j].fault // unexpected ("") last
		}
		return keys[i].cause < keys[j].cause
	})
	b.WriteString("| cause (class, step, status, code) | count | expected during |\n|---|---:|---|\n")
	for _, k := range keys {
		fmt.Fprintf(b, "| %s | %d | %s |\n", k.cause, counts[k], or(k.fault, "**unexpected**"))
	}
	b.WriteString("\n")
}

func (sk *soak) latency(b *bytes.Buffer) {
	n, by := sk.rec.latencies()
	fmt.Fprintf(b, "## Latency per %s\n\nMilliseconds, p50 / p99, from the time each request was due (errors included).\n\n", sk.s.Interval)
	b.WriteString("| interval | requests |")
	sep := "|---|---:|"
	var cls []string
	for _, c := range classes {
		for k := range by {
			if k.class == c {
				cls = append(cls, c)
				break
			}
		}
	}
	for _, c := range cls {
		b.WriteString(" " + c + " |")
		sep += "---:|"
	}
	b.WriteString(" all |\n" + sep + "---:|\n")
	for i := range n {
		var all []float64
		var cells []string
		for _, c := range cls {
			v := by[slot{i, c}]
			all = append(all, v...)
			cells = append(cells, p5099(v))
		}
		sort.Float64s(all)
		fmt.Fprintf(b, "| %s | %d | %s | %s |\n", sk.span(i), len(all), strings.Join(cells, " | "), p5099(all))
	}
	b.WriteString("\n")
}

func (sk *soak) memory(b *bytes.Buffer) {
	fmt.Fprintf(b, "## Memory per %s\n\nPeak RSS of each interval (VmRSS, sampled every second), peak Go heap in use, token-cache entries at its end.\n\n", sk.s.Interval)
	gw, gwPeak := sk.sm.series("gateway")
	ed, edPeak := sk.sm.series("edge")
	b.WriteString("| interval | gateway RSS | gateway heap | gateway cache entries | edge RSS | edge heap | edge cache entries | load avg |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	n := int(math.Ceil(float64(sk.s.Duration) / float64(sk.s.Interval)))
	for i := -1; i < n; i++ {
		from, to := sk.loadAt.Add(time.Duration(i)*sk.s.Interval), sk.loadAt.Add(time.Duration(i+1)*sk.s.Interval)
		name := sk.span(i)
		if i < 0 { // set-up and prefill
			from, name = time.Time{}, "set-up, prefill"
		}
		g, e := peaksIn(gw, from, to), peaksIn(ed, from, to)
		if g.n == 0 && e.n == 0 {
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %d | %s | %s | %d | %.2f |\n", name, mib(g.rss), mib(g.heap), g.entries, mib(e.rss), mib(e.heap), e.entries, max(g.load, e.load))
	}
	g1, g2 := growth(gw, sk.loadAt, sk.s.Duration)
	e1, e2 := growth(ed, sk.loadAt, sk.s.Duration)
	fmt.Fprintf(b, "\nPeak RSS (VmHWM) over the whole run: gateway %s, edge %s. Peak RSS in the first and second half of the load: gateway %s and %s, edge %s and %s.\n\n",
		mib(gwPeak), mib(edPeak), mib(g1), mib(g2), mib(e1), mib(e2))
}

// peaks are the maxima of the samples in a time window.
type peaks struct {
	n                  int
	rss, heap, entries int64
	load               float64
}

func peaksIn(ss []sample, from, to time.Time) peaks {
	var p peaks
	for _, s := range ss {
		if s.t.Before(from) || !s.t.Before(to) {
			continue
		}
		p.n++
		p.rss, p.heap, p.load = max(p.rss, s.rss), max(p.heap, s.heap), max(p.load, s.load1)
		p.entries = s.entries
	}
	return p
}

// span names report interval i: "0-60s".
func (sk *soak) span(i int) string {
	iv := sk.s.Interval
	return fmt.Sprintf("%s–%s", fmtDur(time.Duration(i)*iv), fmtDur(min(time.Duration(i+1)*iv, sk.s.Duration)))
}

func fmtDur(d time.Duration) string {
	if d%time.Minute == 0 && d > 0 {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

func p5099(sorted []float64) string {
	if len(sorted) == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f / %.1f", percentile(sorted, 50), percentile(sorted, 99))
}

// loadRange is the lowest and highest load average sampled in the load.
func (sk *soak) loadRange() string {
	if sk.sm == nil {
		return "unknown"
	}
	gw, _ := sk.sm.series("gateway")
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range gw {
		if s.t.Before(sk.loadAt) || s.load1 < 0 {
			continue
		}
		lo, hi = math.Min(lo, s.load1), math.Max(hi, s.load1)
	}
	if math.IsInf(lo, 1) {
		return "unknown"
	}
	return fmt.Sprintf("%.2f–%.2f", lo, hi)
}

func (sk *soak) pgVersion() string {
	if sk.pg == nil {
		return ""
	}
	return sk.pg.version
}

func cpuModel() string {
	for _, l := range strings.Split(readFile("/proc/cpuinfo"), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	for _, l := range strings.Split(readFile("/proc/meminfo"), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(l, "MemTotal: %d kB", &kb); err == nil {
			return fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
		}
	}
	return "unknown"
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
