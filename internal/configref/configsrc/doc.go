// Package configsrc reads the doc comments of package config's structs
// from its source (go/parser) and writes what package configref compiles
// in: fielddocs.go, and docs/config.md. It is what "go generate
// ./internal/configref" runs, apart from configref so that the signgate
// binary, which prints the reference from fielddocs.go, does not link
// go/parser, go/printer and go/format (1.4 % of a cold build).
//
// Everything here is safe for concurrent use: there is no mutable state.
package configsrc
