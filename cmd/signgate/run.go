package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"strings"

	"github.com/signgate/signgate/internal/httpx"
	"github.com/signgate/signgate/internal/logbuf"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

// env is what a subcommand may touch of the outside world. Tests pass their
// own, so nothing reads the process environment or writes to os.Stdout.
type env struct {
	ctx     context.Context
	environ map[string]string // the process environment, KEY -> value
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	// ready, when set, is told each address a server bound; tests use it to
	// find ports picked with :0.
	ready func(name string, addr net.Addr)
	// logs are the log writers that logger made, flushed and closed
	// when the command returns.
	logs []*logbuf.Writer
}

// logger returns the JSON logger on stderr, at SIGNGATE_LOG_LEVEL
// (debug, info, warn, error; default info). Its access-log lines are
// batched (logbuf: out within 100 ms, or with the next other line), so
// that the access log costs a write per batch rather than per request;
// they are all out when the command returns.
func (e *env) logger() (*slog.Logger, error) {
	var level slog.Level
	if s := e.environ["SIGNGATE_LOG_LEVEL"]; s != "" {
		if err := level.UnmarshalText([]byte(s)); err != nil {
			return nil, usagef("SIGNGATE_LOG_LEVEL: %q is not one of debug, info, warn, error", s)
		}
	}
	w := logbuf.New(e.stderr)
	e.logs = append(e.logs, w)
	return slog.New(logbuf.JSON(w, level, httpx.AccessLogMessage, httpx.CheckLogMessage)), nil
}

// command is one subcommand.
type command struct {
	summary string
	run     func(e *env, args []string) error
}

// commands is the subcommand table.
func commands() map[string]command {
	return map[string]command{
		"gateway": {"run the signing gateway", runGateway},
		"demo":    {"run edge, demo app and gateway in one process, no configuration", runDemo},
		"sign":    {"print a signed URL (or token) for a path", runSign},
		"verify":  {"check a signed URL and print its claims", runVerify},
		"keygen":  {"make a new RSA signing key", runKeygen},
		"edge":    {"serve buckets, verifying signed URLs, with the key API", runEdge},
		"keys":    {"create, list, rename or delete signing keys through the API", runKeys},
		"policy":  {"set a bucket's access policy through the API", runPolicy},
		"version": {"print the version", runVersion},
		"config":  {"print the SIGNGATE_* reference, or check the environment", runConfig},
	}
}

// run is the whole program: main only wires the process to it.
func run(ctx context.Context, args []string, environ map[string]string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{ctx: ctx, environ: environ, stdin: stdin, stdout: stdout, stderr: stderr}
	return e.run(args)
}

func (e *env) run(args []string) error {
	defer func() {
		for _, w := range e.logs {
			w.Close()
		}
	}()
	stderr, stdout := e.stderr, e.stdout
	cmds := commands()
	if len(args) == 0 {
		usage(stderr, cmds)
		return errUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		usage(stdout, cmds)
		return nil
	case "-v", "-version", "--version":
		name = "version"
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "signgate: unknown command %q\n\n", name)
		usage(stderr, cmds)
		return errUsage
	}
	return cmd.run(e, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "Usage: signgate <command> [flags] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "signgate <command> -h" for a command's flags.`)
}

// errUsage is a usage error whose message was already printed: exit 2.
var errUsage = errors.New("usage")

// usageError is a bad command line: exit 2 after its message.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

// exitCode prints err (unless already printed) and returns the exit status:
// 0 on success, 2 for usage errors, 1 otherwise.
func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "signgate: %s\n", ue.msg)
		return 2
	case errors.Is(err, errFailed):
		return 1
	default:
		fmt.Fprintf(stderr, "signgate: %s\n", err)
		return 1
	}
}

// errFailed reports a failure whose explanation was already printed.
var errFailed = errors.New("failed")

// newFlags returns a flag set for a subcommand that reports errors instead
// of exiting. synopsis follows "Usage: signgate" in -h output.
func newFlags(e *env, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: signgate %s %s\n\n%s\n\nFlags:\n", name, synopsis, strings.TrimSpace(about))
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments, and
// maps flag errors to exit code 2 (the flag package printed them).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errUsage
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func runVersion(e *env, args []string) error {
	fs := newFlags(e, "version", "", "Print the version of this build.")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "signgate %s\n", version)
	return nil
}
