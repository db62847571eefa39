package configref

import (
	"github.com/signgate/signgate/config"
	"github.com/signgate/signgate/edge"
)

// extraSections are the variables read outside the config structs, listed
// by hand: config.HandRead, which the components accept beside their own.
// TestEveryVariableInTheCode keeps this list honest: every SIGNGATE_ name
// in the module's code must be in the reference.
func extraSections() []Section {
	return []Section{
		{
			Title: "Every command",
			Vars: []Var{
				{
					Name: config.VarLogLevel, Type: "string", Default: "info", HasDefault: true,
					Doc: "Level of the JSON logs on standard error: `debug`, `info`, `warn` or `error`.",
				},
			},
		},
		{
			Title: "Control API clients: signgate keys, signgate policy",
			Intro: "Credentials and address of the Qencode-compatible control API (Qencode's, or a signgate edge's). Flags override them.",
			Vars: []Var{
				{
					Name: config.VarAPIURL, Type: "string", Default: edge.DefaultAPIURL, HasDefault: true,
					Doc: "Base URL of the control API (the default is Qencode's). The `--api-url` flag overrides it.",
				},
				{
					Name: config.VarAPIToken, Type: "secret", Secret: true,
					Doc: "Bearer token for the control API, used as it is.",
				},
				{
					Name: config.VarAPIKey, Type: "secret", Secret: true,
					Doc: "API key exchanged for a bearer token (`POST /v1/access_token/{api_key}`) when `SIGNGATE_API_TOKEN` is unset.",
				},
			},
		},
		{
			Title: "Tests only",
			Intro: "Read by the test suite, never by the binary.",
			Vars: []Var{
				{
					Name: config.VarTestPostgres, Type: "string",
					Doc: "PostgreSQL URL for the store tests (`make test` sets one up); without it they skip, and under `CI=true` they fail.",
				},
				{
					Name: config.VarTestRestartRounds, Type: "int",
					Doc: "Rounds of the edge test that restarts a private PostgreSQL cluster before each revocation (`TestRevocationAfterRestart`); 10 when unset.",
				},
				{
					Name: config.VarTestEdgeProcess, Type: "bool",
					Doc: "Set by the edge's tests in a child process of theirs, which then serves an edge (`TestEdgeProcess`, for `TestEdgeKilled`); never set it by hand.",
				},
				{
					Name: config.VarTestUpdateScreenshot, Type: "bool",
					Doc: "Set to any value, the browser end-to-end test rewrites `docs/demo.png` (`make screenshot`).",
				},
			},
		},
	}
}
