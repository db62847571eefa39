package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, wallClock{})
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "rate: %v\n", err)
		os.Exit(1)
	}
}

// headers is a repeatable -H "Name: value" flag.
type headers http.Header

func (h headers) String() string { return fmt.Sprint(http.Header(h)) }

func (h headers) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("header %q: want Name: value", s)
	}
	http.Header(h).Add(textproto.TrimString(name), textproto.TrimString(value))
	return nil
}

// run parses args, runs the load and writes the RESULT line to stdout.
func run(ctx context.Context, args []string, stdout io.Writer, clk clock) error {
	fs := flag.NewFlagSet("rate", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var p plan
	p.header = http.Header{}
	base := fs.String("url", "", "base `URL` of the server (http://127.0.0.1:PORT)")
	fs.Float64Var(&p.rate, "rate", 0, "requests per second")
	fs.DurationVar(&p.duration, "duration", 10*time.Second, "counted part of the schedule")
	fs.DurationVar(&p.warmup, "warmup", 0, "part of the schedule sent before, not counted")
	fs.StringVar(&p.paths, "paths", "hot", "hot (N paths in turn) or distinct (a new path every request)")
	fs.IntVar(&p.hot, "hot", 1, "number of hot paths")
	fs.StringVar(&p.prefix, "prefix", "/", "path prefix")
	fs.StringVar(&p.tag, "tag", "run", "distinct paths: PREFIX/TAG/i.ts")
	fs.Var(headers(p.header), "H", "request header `Name: value` (repeatable)")
	fs.IntVar(&p.status, "status", http.StatusFound, "expected status; any other counts as an error")
	fs.DurationVar(&p.timeout, "timeout", 10*time.Second, "per-request timeout (an error)")
	fs.IntVar(&p.conns, "conns", 512, "connections at most")
	metrics := fs.String("metrics", "", "Prometheus text `URL` to read -counters from")
	counters := fs.String("counters", "", "comma-separated metric names, each summed over its labels")
	timeline := fs.String("timeline", "", "write a TSV row per counted second to `FILE`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	u, err := url.Parse(*base)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("-url %q: want http://HOST:PORT", *base)
	}
	p.base = strings.TrimSuffix(*base, "/")
	if *counters != "" {
		if *metrics == "" {
			return errors.New("-counters needs -metrics")
		}
		p.metrics = *metrics
		p.counters = strings.Split(*counters, ",")
	}
	if err := p.validate(); err != nil {
		return err
	}
	r, err := p.run(ctx, clk)
	if err != nil {
		return err
	}
	if *timeline != "" {
		f, err := os.Create(*timeline)
		if err != nil {
			return err
		}
		r.writeTimeline(f, p.counters)
		if err := f.Close(); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintln(stdout, r.line(p))
	return err
}

func (p plan) validate() error {
	var errs []error
	if p.rate <= 0 || p.rate > 100_000 {
		errs = append(errs, fmt.Errorf("-rate %v: want 0 < rate <= 100000", p.rate))
	}
	if p.duration <= 0 || p.warmup < 0 {
		errs = append(errs, errors.New("-duration must be positive and -warmup not negative"))
	}
	switch p.paths {
	case "hot":
		if p.hot < 1 {
			errs = append(errs, fmt.Errorf("-hot %d: want at least 1", p.hot))
		}
	case "distinct":
	default:
		errs = append(errs, fmt.Errorf("-paths %q: want hot or distinct", p.paths))
	}
	if !strings.HasPrefix(p.prefix, "/") {
		errs = append(errs, fmt.Errorf("-prefix %q: must start with /", p.prefix))
	}
	if p.timeout <= 0 || p.conns < 1 {
		errs = append(errs, errors.New("-timeout and -conns must be positive"))
	}
	return errors.Join(errs...)
}
