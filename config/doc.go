// Package config reads signgate's configuration from the environment
// (variables prefixed SIGNGATE_) with github.com/caarlos0/env/v11 and
// validates it at start-up. Every problem found is reported at once, each
// naming its variable.
//
// There is one struct per component. Values are plain data: safe to share
// once loaded, never mutated by the packages that use them.
package config
