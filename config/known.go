package config

import (
	"encoding"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ListIndex stands for a list index in a variable name:
// SIGNGATE_ROUTES_<n>_PREFIX is SIGNGATE_ROUTES_0_PREFIX,
// SIGNGATE_ROUTES_1_PREFIX and so on.
const ListIndex = "<n>"

// Variables read outside the configuration structs, by hand. Each
// component accepts them beside its own.
const (
	// VarLogLevel is the level of every command's logs.
	VarLogLevel = Prefix + "LOG_LEVEL"
	// VarAPIURL, VarAPIToken and VarAPIKey are the control API clients'
	// address and credentials (signgate keys, signgate policy).
	VarAPIURL   = Prefix + "API_URL"
	VarAPIToken = Prefix + "API_TOKEN"
	VarAPIKey   = Prefix + "API_KEY"
	// VarTestPostgres, VarTestUpdateScreenshot, VarTestRestartRounds and
	// VarTestEdgeProcess are read by the test suite only.
	VarTestPostgres         = Prefix + "TEST_POSTGRES"
	VarTestUpdateScreenshot = Prefix + "UPDATE_SCREENSHOT"
	VarTestRestartRounds    = Prefix + "TEST_RESTART_ROUNDS"
	VarTestEdgeProcess      = Prefix + "TEST_EDGE_PROCESS"
)

// HandRead returns the variables read outside the configuration structs.
// The configuration reference documents each of them.
func HandRead() []string {
	return []string{VarLogLevel, VarAPIURL, VarAPIToken, VarAPIKey, VarTestPostgres, VarTestUpdateScreenshot, VarTestRestartRounds, VarTestEdgeProcess}
}

// EnvField is a field of a configuration struct as
// github.com/caarlos0/env/v11 reads it: a value read from one variable, or
// a list of structs read from numbered variables.
type EnvField struct {
	Owner reflect.Type        // the struct that declares the field
	Field reflect.StructField // the field itself
	Type  reflect.Type        // its type, a pointer's element for a pointer
	// Name is the variable of a value; for a list of structs, the prefix
	// of its elements' variables, ending in ListIndex and "_", or "" when
	// the field has no envPrefix tag (env then reads no list).
	Name string
	List bool // a list of structs
}

// WalkEnv calls visit for each value and each list of structs that struct
// t reads under prefix, in field order, following env's rules: tag "env"
// (options after a comma) names a value; a nested struct is walked with
// its envPrefix added; a slice of structs is a list whose prefix (the
// envPrefix, which gains "_" when missing) is followed by ListIndex and
// "_". A list's elements are not walked: visit does that, with WalkEnv on
// the element type and the list's Name, when it needs them. WalkEnv stops
// at the first error visit returns.
func WalkEnv(t reflect.Type, prefix string, visit func(EnvField) error) error {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		key, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		envPrefix := f.Tag.Get("envPrefix")
		ef := EnvField{Owner: t, Field: f, Type: ft}
		switch {
		case IsStruct(ft):
			if err := WalkEnv(ft, prefix+envPrefix, visit); err != nil {
				return err
			}
			continue
		case ft.Kind() == reflect.Slice && IsStruct(ft.Elem()):
			ef.List = true
			if envPrefix != "" {
				ef.Name = prefix + envPrefix
				if !strings.HasSuffix(ef.Name, "_") {
					ef.Name += "_"
				}
				ef.Name += ListIndex + "_"
			}
		case key != "":
			ef.Name = prefix + key
		default:
			continue
		}
		if err := visit(ef); err != nil {
			return err
		}
	}
	return nil
}

// VarNames returns the names of the variables that struct t reads under
// prefix, those of its lists' elements included (with ListIndex).
func VarNames(t reflect.Type, prefix string) []string {
	var out []string
	WalkEnv(t, prefix, func(f EnvField) error {
		switch {
		case !f.List:
			out = append(out, f.Name)
		case f.Name != "":
			out = append(out, VarNames(f.Type.Elem(), f.Name)...)
		}
		return nil
	})
	return out
}

// IsStruct reports whether t is a struct env walks into rather than a
// value it parses.
func IsStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]()) && t != reflect.TypeFor[time.Time]()
}

// knownVars returns every variable some component reads: the gateway's,
// the edge's and the hand-read ones, list variables with ListIndex.
func knownVars() map[string]bool {
	known := map[string]bool{}
	for _, n := range slices.Concat(VarNames(reflect.TypeFor[Gateway](), Prefix), VarNames(reflect.TypeFor[Edge](), Prefix), HandRead()) {
		known[n] = true
	}
	return known
}

// listIndex finds the first list index in a variable name.
var listIndex = regexp.MustCompile(`_(0|[1-9][0-9]{0,3})_`)

// unknownVars returns an error for each variable of environ that mine
// selects and no component reads, sorted by name. A typo such as
// SIGNGATE_JWT_ISSUR would otherwise load silently and leave iss
// unchecked.
func unknownVars(environ map[string]string, mine func(string) bool) []error {
	known := knownVars()
	var names []string
	for k := range environ {
		if mine(k) && !known[k] && !known[withListIndex(k)] {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	errs := make([]error, 0, len(names))
	for _, k := range names {
		if s := closest(k, known); s != "" {
			errs = append(errs, fmt.Errorf("%s: unknown variable; did you mean %s?", k, s))
		} else {
			errs = append(errs, fmt.Errorf("%s: unknown variable (see signgate config)", k))
		}
	}
	return errs
}

// withListIndex replaces the first list index of name with ListIndex.
func withListIndex(name string) string {
	loc := listIndex.FindStringIndex(name)
	if loc == nil {
		return name
	}
	return name[:loc[0]+1] + ListIndex + name[loc[1]-1:]
}

// closest returns the known name nearest to name, with name's list index
// put back, when it is at most 3 edits away; otherwise "".
func closest(name string, known map[string]bool) string {
	generic := withListIndex(name)
	best, bestD := "", 4
	for k := range known {
		if d := editDistance(generic, k); d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	if loc := listIndex.FindStringSubmatch(name); loc != nil {
		best = strings.Replace(best, ListIndex, loc[1], 1)
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
