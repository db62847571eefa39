package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/internal/configref"
)

func runConfig(e *env, args []string) error {
	fs := newFlags(e, "config", "[-format markdown|env] | -check gateway|edge", `
Print the reference of every SIGNGATE_* variable, with its type, default and
meaning (docs/config.md is this output), or an environment file holding
every default. With -check, read the configuration of "signgate gateway" or
"signgate edge" from the environment and report every problem, without
starting anything (key files, databases and URLs are not opened).`)
	format := fs.String("format", "markdown", "`markdown` or env")
	check := fs.String("check", "", "check the environment's configuration for `command` (gateway or edge)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("config: unexpected argument %q", pos[0])
	}
	if *check != "" {
		formatSet := false
		fs.Visit(func(f *flag.Flag) { formatSet = formatSet || f.Name == "format" })
		if formatSet {
			return usagef("config: -check and -format do not go together")
		}
		return checkConfig(e, *check)
	}
	sections, err := configref.Builtin()
	if err != nil {
		return err
	}
	switch *format {
	case "markdown":
		return configref.Markdown(e.stdout, sections)
	case "env":
		return configref.Env(e.stdout, sections)
	}
	return usagef("config: -format %q: want markdown or env", *format)
}

// checkConfig loads the named command's configuration as the command
// would, and reports "ok" or every problem (exit 1).
func checkConfig(e *env, command string) error {
	var err error
	switch command {
	case "gateway":
		// The key files too, as start-up reads them, in the same round
		// as every other problem.
		cfg, lerr := config.LoadGateway(e.environ)
		err = errors.Join(lerr, checkKeys(e.ctx, cfg))
	case "edge":
		_, err = config.LoadEdge(e.environ)
	default:
		return usagef("config: -check %q: want gateway or edge", command)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s configuration: ok\n", command)
	return nil
}
