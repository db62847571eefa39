package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Settings are the soak's SOAK_* variables (docs/bench.md, "Soak").
type Settings struct {
	Duration  time.Duration `env:"SOAK_DURATION" envDefault:"10m"`
	Rate      int           `env:"SOAK_RATE" envDefault:"200"`
	Mix       string        `env:"SOAK_MIX" envDefault:"hit=40,miss=15,pass=20,edge=15,forward=8,api=2"`
	Faults    string        `env:"SOAK_FAULTS" envDefault:"rotate,sighup,upstream,postgres,forward"`
	FaultGap  time.Duration `env:"SOAK_FAULT_GAP" envDefault:"5s"`
	FaultDown time.Duration `env:"SOAK_FAULT_DOWN" envDefault:"3s"`
	Warmup    time.Duration `env:"SOAK_WARMUP" envDefault:"5s"`
	Quiet     time.Duration `env:"SOAK_QUIET" envDefault:"10s"`
	Interval  time.Duration `env:"SOAK_INTERVAL" envDefault:"1m"`
	Timeout   time.Duration `env:"SOAK_TIMEOUT" envDefault:"10s"`
	Workers   int           `env:"SOAK_WORKERS" envDefault:"256"`
	CacheSize int           `env:"SOAK_CACHE_SIZE" envDefault:"100000"`
	Prefill   int           `env:"SOAK_PREFILL" envDefault:"-1"`
	RSSLimit  string        `env:"SOAK_RSS_LIMIT" envDefault:"512MiB"`
	RSSGrowth string        `env:"SOAK_RSS_GROWTH" envDefault:"48MiB"`
	MemLimit  string        `env:"SOAK_GOMEMLIMIT" envDefault:"auto"`
	// Extra VAR=value settings of the gateway and the edge, spaces apart.
	GatewayEnv string `env:"SOAK_GATEWAY_ENV"`
	EdgeEnv    string `env:"SOAK_EDGE_ENV"`

	mix       []share // parsed Mix, in SOAK_MIX order
	faults    []string
	rssLimit  int64
	rssGrowth int64
}

// share is one class of the load and its weight.
type share struct {
	class  string
	weight int
}

// classes are the kinds of request the load sends (load.go).
var classes = []string{"hit", "miss", "pass", "edge", "forward", "api"}

// faultNames are the faults the schedule knows (faults.go).
var faultNames = []string{"rotate", "sighup", "upstream", "postgres", "forward"}

// loadSettings reads and checks the settings; every problem names its
// variable, all of them at once.
func loadSettings(environ map[string]string) (Settings, error) {
	s, err := env.ParseAsWithOptions[Settings](env.Options{Environment: environ})
	if err != nil {
		return s, err
	}
	var errs []error
	add := func(name, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, a...)))
	}
	positive := func(name string, d time.Duration) {
		if d <= 0 {
			add(name, "%s must be positive", d)
		}
	}
	positive("SOAK_DURATION", s.Duration)
	positive("SOAK_FAULT_DOWN", s.FaultDown)
	positive("SOAK_INTERVAL", s.Interval)
	positive("SOAK_TIMEOUT", s.Timeout)
	if s.FaultGap < 0 || s.Warmup < 0 || s.Quiet < 0 {
		add("SOAK_FAULT_GAP, SOAK_WARMUP, SOAK_QUIET", "must not be negative")
	}
	if s.Rate < 1 || s.Rate > 5000 {
		add("SOAK_RATE", "%d requests/s: want 1 to 5000", s.Rate)
	}
	if s.Workers < 1 || s.Workers > 4096 {
		add("SOAK_WORKERS", "%d: want 1 to 4096", s.Workers)
	}
	if s.CacheSize < 1 {
		add("SOAK_CACHE_SIZE", "%d: must be positive", s.CacheSize)
	}
	if s.Prefill < 0 {
		s.Prefill = s.CacheSize
	}
	if s.mix, err = parseMix(s.Mix); err != nil {
		add("SOAK_MIX", "%v", err)
	}
	if s.faults, err = parseFaults(s.Faults); err != nil {
		add("SOAK_FAULTS", "%v", err)
	}
	if s.rssLimit, err = parseBytes(s.RSSLimit); err != nil || s.rssLimit <= 0 {
		add("SOAK_RSS_LIMIT", "%q is not a positive byte count such as 512MiB", s.RSSLimit)
	}
	if s.rssGrowth, err = parseBytes(s.RSSGrowth); err != nil || s.rssGrowth <= 0 {
		add("SOAK_RSS_GROWTH", "%q is not a positive byte count such as 48MiB", s.RSSGrowth)
	}
	if s.MemLimit != "auto" && s.MemLimit != "off" {
		if _, err := parseBytes(s.MemLimit); err != nil {
			add("SOAK_GOMEMLIMIT", "%q: want auto, off or a byte count such as 460MiB", s.MemLimit)
		}
	}
	for name, list := range map[string]string{"SOAK_GATEWAY_ENV": s.GatewayEnv, "SOAK_EDGE_ENV": s.EdgeEnv} {
		for _, kv := range strings.Fields(list) {
			if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
				add(name, "%q is not VAR=value", kv)
			}
		}
	}
	return s, errors.Join(errs...)
}

// goMemLimit is the GOMEMLIMIT given to the gateway and the edge: by
// default 90% of SOAK_RSS_LIMIT, what signgate sets itself in a container
// with that memory limit (cmd/signgate/gc.go); "" for none.
func (s Settings) goMemLimit() string {
	switch s.MemLimit {
	case "auto":
		return strconv.FormatInt(s.rssLimit/10*9, 10)
	case "off":
		return ""
	}
	return s.MemLimit
}

func parseMix(s string) ([]share, error) {
	var mix []share
	seen := map[string]bool{}
	total := 0
	for _, part := range strings.Split(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		switch {
		case !ok || err != nil || n < 0:
			return nil, fmt.Errorf("%q is not class=weight", part)
		case !slices.Contains(classes, name):
			return nil, fmt.Errorf("unknown class %q (want %s)", name, strings.Join(classes, ", "))
		case seen[name]:
			return nil, fmt.Errorf("class %q given twice", name)
		}
		seen[name] = true
		total += n
		if n > 0 {
			mix = append(mix, share{name, n})
		}
	}
	if total == 0 {
		return nil, errors.New("no class has a weight")
	}
	return mix, nil
}

func parseFaults(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		switch {
		case f == "", f == "none":
		case !slices.Contains(faultNames, f):
			return nil, fmt.Errorf("unknown fault %q (want %s)", f, strings.Join(faultNames, ", "))
		default:
			out = append(out, f)
		}
	}
	return out, nil
}

// parseBytes parses a byte count with an optional B, KiB, MiB or GiB
// suffix, as GOMEMLIMIT reads.
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a byte count", s)
	}
	return n * mult, nil
}
