// Package configref builds the reference of every SIGNGATE_* variable from
// the configuration structs themselves, so that the documentation cannot
// drift from the code.
//
// Names, types and defaults come from reflection over the env tags of
// config.Gateway and config.Edge (nested structs and numbered lists of
// structs included), walked by the same rules as
// github.com/caarlos0/env/v11. Meanings come from the Go doc comments of the
// fields, read with go/ast at generation time (package configsrc, which
// the binary does not link) and kept in fielddocs.go, so
// that the binary can print the reference ("signgate config") without its
// source. The few variables read outside the structs (log level, API
// credentials) are listed by hand in extra.go, and a test checks that every
// SIGNGATE_ name in the module's code appears in the reference.
//
// Regenerate fielddocs.go and docs/config.md after changing a config
// struct:
//
//	go generate ./internal/configref
//
// configsrc's tests fail while either file is stale.
//
// Everything here is safe for concurrent use: there is no mutable state.
package configref

//go:generate go run gen.go
