package main

import (
	"fmt"
	"strings"

	"github.com/signgate/signgate/edge"
)

const policyAbout = `
Set or show a bucket's access policy through a Qencode-compatible control
API: public (anyone may read) or authenticated (a signed URL or cookie is
required).

  policy set BUCKET public|authenticated
  policy get BUCKET        (a signgate edge extension)

Credentials come from SIGNGATE_API_TOKEN, or from SIGNGATE_API_KEY exchanged
for a token.`

func runPolicy(e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "Usage: signgate policy set|get BUCKET [POLICY]\n%s\n", policyAbout)
		return errUsage
	}
	switch args[0] {
	case "set":
		return runPolicySet(e, args[1:])
	case "get":
		return runPolicyGet(e, args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprintf(e.stdout, "Usage: signgate policy set|get BUCKET [POLICY]\n%s\n", policyAbout)
		return nil
	}
	return usagef("policy: unknown subcommand %q, want set or get", args[0])
}

func runPolicySet(e *env, args []string) error {
	fset := newFlags(e, "policy set", "BUCKET public|authenticated", "Set a bucket's access policy.")
	apiURL := apiFlags(e, fset)
	pos, err := parseFlags(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("policy set: want a bucket and a policy, got %d arguments", len(pos))
	}
	p, err := edge.ParsePolicy(pos[1])
	if err != nil {
		return usagef("policy set: %q is not a policy: want public or authenticated", pos[1])
	}
	c, err := apiClient(e, *apiURL)
	if err != nil {
		return err
	}
	conf, known, err := c.SetPolicyConfirmed(e.ctx, pos[0], p)
	if err != nil {
		return fmt.Errorf("policy set: %w", err)
	}
	fmt.Fprintf(e.stdout, "bucket %s: %s\n", pos[0], p)
	warnUnconfirmed(e, conf, known)
	return nil
}

func runPolicyGet(e *env, args []string) error {
	fset := newFlags(e, "policy get", "BUCKET", "Show a bucket's access policy (signgate edges only).")
	apiURL := apiFlags(e, fset)
	pos, err := parseFlags(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("policy get: want exactly one bucket, got %d", len(pos))
	}
	c, err := apiClient(e, *apiURL)
	if err != nil {
		return err
	}
	p, err := c.Policy(e.ctx, pos[0])
	if err != nil {
		return fmt.Errorf("policy get: %w", err)
	}
	fmt.Fprintf(e.stdout, "bucket %s: %s\n", pos[0], p)
	return nil
}

// warnUnconfirmed tells on stderr when an edge answered that some live
// edges had not applied the change yet (SIGNGATE_EDGE_CONFIRM_TIMEOUT).
// The change is stored either way; an API that does not tell says nothing.
func warnUnconfirmed(e *env, conf edge.Confirmation, known bool) {
	if known && !conf.Confirmed {
		fmt.Fprintf(e.stderr, "warning: stored, but not yet applied by %d of %d edges (%s); they apply it when they hear of it\n",
			len(conf.Pending), conf.Edges, strings.Join(conf.Pending, ", "))
	}
}
