//go:build ignore

// gen writes fielddocs.go and docs/config.md from package config's source.
// Run it with "go generate ./internal/configref".
package main

import (
	"fmt"
	"os"

	"github.com/signgate/signgate/internal/configref/configsrc"
)

func main() {
	if err := configsrc.Generate("../../config", ".", "../../docs/config.md"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
