package configref

import (
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/signgate/signgate/config"
)

// Index stands for a list index in a variable name:
// SIGNGATE_ROUTES_<n>_PREFIX is SIGNGATE_ROUTES_0_PREFIX,
// SIGNGATE_ROUTES_1_PREFIX and so on.
const Index = config.ListIndex

// Var is one environment variable.
type Var struct {
	// Name is the full name, with Index for a list index.
	Name string
	// Type is what the value is read as: string, bool, int, duration,
	// list of string, secret, ...
	Type string
	// Default is the value used when the variable is unset (its envDefault
	// tag); HasDefault tells an empty default from none.
	Default    string
	HasDefault bool
	// Required is set by the env tag's "required" or "notEmpty" option.
	Required bool
	// Doc says what the variable means.
	Doc string
	// Secret marks a value that is redacted in logs and errors.
	Secret bool
	// Field is the Go struct field it fills, as Type.Field ("Route.TTL");
	// empty for a variable read outside the config structs.
	Field string
}

// Section is a group of variables: a component, a numbered list of
// structs inside it, or the variables read outside the config structs.
type Section struct {
	Title string
	Intro string
	Vars  []Var
	Subs  []Section
}

// Docs maps "Type" and "Type.Field" of package config to their doc
// comment text, as configsrc.ReadDocs finds them.
type Docs map[string]string

// root is one component whose configuration struct is walked.
type root struct {
	title, intro string
	typ          reflect.Type
}

// roots are the components, in the order the reference shows them. A new
// field in one of these structs (or in a struct they hold) shows up in the
// reference by itself.
func roots() []root {
	return []root{
		{
			title: "Gateway: signgate gateway",
			intro: "The signing gateway. Route variables are numbered from 0 without gaps; an unknown or out-of-sequence route variable, or any other `SIGNGATE_` name no component reads, stops start-up.",
			typ:   reflect.TypeFor[config.Gateway](),
		},
		{
			title: "Edge: signgate edge",
			intro: "The verifying edge and its control API. Bucket and stream variables are numbered from 0 without gaps; an unknown `SIGNGATE_EDGE_` name stops start-up.",
			typ:   reflect.TypeFor[config.Edge](),
		},
	}
}

// Reference returns every section of the reference, with meanings from
// docs: the components' structs, then the variables read elsewhere.
func Reference(docs Docs) ([]Section, error) {
	var out []Section
	for _, r := range roots() {
		s, err := walk(r.typ, config.Prefix, docs)
		if err != nil {
			return nil, fmt.Errorf("configref: %s: %w", r.typ, err)
		}
		s.Title, s.Intro = r.title, r.intro
		out = append(out, s)
	}
	return append(out, extraSections()...), nil
}

// Builtin returns the reference with the doc comments compiled into this
// package (fielddocs.go), as "signgate config" prints it.
func Builtin() ([]Section, error) { return Reference(fieldDocs()) }

// All returns every variable of sections and their subsections, in order.
func All(sections []Section) []Var {
	var out []Var
	for _, s := range sections {
		out = append(out, s.Vars...)
		out = append(out, All(s.Subs)...)
	}
	return out
}

// walk lists the variables of struct type t under prefix, with their
// types, defaults and docs, as config.WalkEnv finds them (the rules of
// github.com/caarlos0/env/v11): a nested struct's variables join t's, a
// list of structs becomes a subsection.
func walk(t reflect.Type, prefix string, docs Docs) (Section, error) {
	var s Section
	// Go field name -> variable name, per declaring struct, for the docs.
	names := map[reflect.Type]map[string]string{}
	type pending struct {
		v     Var
		owner reflect.Type
	}
	var vars []pending
	err := config.WalkEnv(t, prefix, func(ef config.EnvField) error {
		f := ef.Field
		docKey := ef.Owner.Name() + "." + f.Name
		if ef.List {
			if ef.Name == "" {
				return fmt.Errorf("field %s: a list of structs needs an envPrefix tag", f.Name)
			}
			sub, err := walk(ef.Type.Elem(), ef.Name, docs)
			if err != nil {
				return err
			}
			sub.Title = ef.Name + "*"
			sub.Intro = docs[docKey]
			s.Subs = append(s.Subs, sub)
			return nil
		}
		_, opts, _ := strings.Cut(f.Tag.Get("env"), ",")
		if strings.Contains(opts, "file") || strings.Contains(opts, "unset") || strings.Contains(opts, "expand") {
			// These change what the variable holds; say so before
			// anyone relies on a reference that ignores them.
			return fmt.Errorf("field %s: env option %q is not described by the reference yet", f.Name, opts)
		}
		def, has := f.Tag.Lookup("envDefault")
		v := Var{
			Name:       ef.Name,
			Type:       typeName(ef.Type),
			Default:    def,
			HasDefault: has,
			Secret:     isSecret(ef.Type),
			Required:   strings.Contains(opts, "required") || strings.Contains(opts, "notEmpty"),
			Field:      docKey,
		}
		if names[ef.Owner] == nil {
			names[ef.Owner] = map[string]string{}
		}
		names[ef.Owner][f.Name] = v.Name
		vars = append(vars, pending{v, ef.Owner})
		return nil
	})
	if err != nil {
		return s, err
	}
	for _, p := range vars {
		p.v.Doc = operatorDoc(docs[p.v.Field], p.v.Field[strings.IndexByte(p.v.Field, '.')+1:], names[p.owner])
		s.Vars = append(s.Vars, p.v)
	}
	return s, nil
}

// typeName names the type of a value as an operator writes it.
func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "duration"
	case t.Kind() == reflect.Slice:
		return "list of " + typeName(t.Elem())
	case t.PkgPath() != "" && t.Name() != "":
		// A named type: config.Secret, config.Database, signer.Scope.
		return strings.ToLower(t.Name())
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "int"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "unsigned int"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return t.Kind().String()
}

// isSecret reports whether values of t are redacted in logs.
func isSecret(t reflect.Type) bool {
	if t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t.Implements(reflect.TypeFor[slog.LogValuer]())
}

// operatorDoc turns the Go doc comment of field into an operator's text.
// A comment that opens "Field is" or "Field are" loses those words ("Listen
// is the address of the gateway listener" becomes "The address of the
// gateway listener"). Every other Go name of the struct's fields becomes
// its variable name ("StripPrefix removes Prefix" becomes
// "`SIGNGATE_ROUTES_<n>_STRIP_PREFIX` removes `SIGNGATE_ROUTES_<n>_PREFIX`"),
// except where a word is followed by " variable", which names an
// environment variable literally ("the GOGC variable").
func operatorDoc(doc, field string, names map[string]string) string {
	words := strings.Fields(doc)
	if len(words) > 2 && words[0] == field && (words[1] == "is" || words[1] == "are") {
		words = words[2:]
		words[0] = strings.ToUpper(words[0][:1]) + words[0][1:]
	}
	for i, w := range words {
		lead, core, tail := splitPunct(w)
		name, ok := names[core]
		if !ok || (i+1 < len(words) && strings.HasPrefix(words[i+1], "variable")) {
			continue
		}
		words[i] = lead + "`" + name + "`" + tail
	}
	return strings.Join(words, " ")
}

// splitPunct splits leading and trailing punctuation off a word.
func splitPunct(w string) (lead, core, tail string) {
	core = strings.TrimLeft(w, "(\"'")
	lead = w[:len(w)-len(core)]
	trimmed := strings.TrimRight(core, ".,;:)!?'\"")
	return lead, trimmed, core[len(trimmed):]
}
