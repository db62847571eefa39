package configref

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/signgate/signgate/config"
)

const (
	moduleRoot = "../.."
)

// TestWalkAgreesWithEnv checks the walker against the env library itself:
// given one element of every list, env reports exactly the variables, and
// the defaults, that the reference lists.
func TestWalkAgreesWithEnv(t *testing.T) {
	sections, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range roots() {
		t.Run(r.typ.Name(), func(t *testing.T) {
			want := map[string]string{}
			environ := map[string]string{}
			for _, v := range All(sections[i : i+1]) {
				name := strings.ReplaceAll(v.Name, Index, "0")
				want[name] = v.Default
				environ[name] = "x"
			}
			ptr := reflect.New(r.typ).Interface()
			params, err := env.GetFieldParamsWithOptions(ptr, env.Options{Environment: environ, Prefix: config.Prefix})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range params {
				got[p.Key] = p.DefaultValue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("env reports\n%v\nthe reference lists\n%v", got, want)
			}
		})
	}
}

// TestConfigKnowsTheReference: the names config accepts (and refuses
// others than) are exactly those the reference lists, the components'
// and the hand-read ones.
func TestConfigKnowsTheReference(t *testing.T) {
	sections, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	names := func(ss []Section) []string {
		var out []string
		for _, v := range All(ss) {
			out = append(out, v.Name)
		}
		slices.Sort(out)
		return out
	}
	for i, r := range roots() {
		got := config.VarNames(r.typ, config.Prefix)
		slices.Sort(got)
		if want := names(sections[i : i+1]); !slices.Equal(got, want) {
			t.Errorf("%s: config.VarNames gives\n%v\nthe reference lists\n%v", r.typ.Name(), got, want)
		}
	}
	got := config.HandRead()
	slices.Sort(got)
	if want := names(extraSections()); !slices.Equal(got, want) {
		t.Errorf("config.HandRead gives\n%v\nthe reference lists\n%v", got, want)
	}
}

// TestEveryVariableIsDocumented: a new config field needs a doc comment,
// which becomes its meaning in the reference.
func TestEveryVariableIsDocumented(t *testing.T) {
	// fielddocs.go: configsrc's TestCommittedFilesAreCurrent holds it to
	// the source.
	sections, err := Reference(fieldDocs())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, v := range All(sections) {
		if strings.TrimSpace(v.Doc) == "" {
			t.Errorf("%s (%s) has no doc comment", v.Name, v.Field)
		}
		if v.Type == "" {
			t.Errorf("%s has no type", v.Name)
		}
		if seen[v.Name] {
			t.Errorf("%s is listed twice", v.Name)
		}
		seen[v.Name] = true
	}
	var subs func([]Section)
	subs = func(ss []Section) {
		for _, s := range ss {
			if s.Title == "" || (s.Intro == "" && len(s.Subs) == 0 && strings.HasPrefix(s.Title, "SIGNGATE_")) {
				t.Errorf("section %q has no title or intro", s.Title)
			}
			subs(s.Subs)
		}
	}
	subs(sections)
	for _, name := range []string{"SIGNGATE_LISTEN", "SIGNGATE_ROUTES_<n>_KEY_FILE", "SIGNGATE_EDGE_DB", "SIGNGATE_EDGE_BUCKETS_<n>_ORIGIN", "SIGNGATE_LOG_LEVEL"} {
		if !seen[name] {
			t.Errorf("%s is missing", name)
		}
	}
}

// TestEveryVariableInTheCode finds every SIGNGATE_ name in the module's Go
// string literals, and in its Markdown, YAML, env and unit files, and
// fails on one the reference does not know. A variable read by hand
// (e.environ["SIGNGATE_X"]) must be added to extra.go; a typo in a
// manifest or a doc fails here.
func TestEveryVariableInTheCode(t *testing.T) {
	sections, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	k := newKnown(All(sections))
	nameRE := regexp.MustCompile(`SIGNGATE_[A-Z0-9_]*`)
	found := 0
	check := func(where, s string) {
		for _, m := range nameRE.FindAllString(s, -1) {
			found++
			if !k.knows(m) {
				t.Errorf("%s: %s is not in the configuration reference", where, m)
			}
		}
	}
	err = filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != moduleRoot && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(moduleRoot, path)
		switch ext := filepath.Ext(path); {
		case ext == ".go" && !strings.HasSuffix(path, "_test.go"):
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					check(rel, lit.Value)
				}
				return true
			})
		case slices.Contains([]string{".md", ".yaml", ".yml", ".env", ".service", ".conf"}, ext):
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			check(rel, string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 50 {
		t.Errorf("found only %d SIGNGATE_ names: is the scan looking in the right place?", found)
	}
}

// known matches names against the reference: a list index may stand for
// <n> (SIGNGATE_ROUTES_12_PREFIX), and a name ending in "_" may be the start
// of one (SIGNGATE_ROUTES_, SIGNGATE_EDGE_BUCKETS_3_).
type known []string

func newKnown(vars []Var) known {
	k := make(known, len(vars))
	for i, v := range vars {
		k[i] = v.Name
	}
	return k
}

func (k known) knows(name string) bool {
	name = regexp.MustCompile(`_[0-9]+_`).ReplaceAllString(name, "_"+Index+"_")
	for _, v := range k {
		if v == name || (strings.HasSuffix(name, "_") && strings.HasPrefix(v, name)) {
			return true
		}
	}
	return false
}

func TestKnown(t *testing.T) {
	k := newKnown([]Var{{Name: "SIGNGATE_LISTEN"}, {Name: "SIGNGATE_ROUTES_<n>_PREFIX"}})
	tests := []struct {
		name string
		want bool
	}{
		{"SIGNGATE_LISTEN", true},
		{"SIGNGATE_ROUTES_0_PREFIX", true},
		{"SIGNGATE_ROUTES_12_PREFIX", true},
		{"SIGNGATE_ROUTES_", true},
		{"SIGNGATE_ROUTES_3_", true},
		{"SIGNGATE_", true},
		{"SIGNGATE_LISTENER", false},
		{"SIGNGATE_LISTE", false},
		{"SIGNGATE_ROUTES_0_PREFIXES", false},
		{"SIGNGATE_ROUTES_X_PREFIX", false},
		{"SIGNGATE_NOPE_", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := k.knows(tt.name); got != tt.want {
				t.Errorf("knows(%s) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestOperatorDoc(t *testing.T) {
	names := map[string]string{"Listen": "SIGNGATE_LISTEN", "Prefix": "P_PREFIX", "StripPrefix": "P_STRIP", "GOGC": "SIGNGATE_GOGC", "JWTIssuer": "I", "JWTAudience": "A"}
	tests := []struct {
		name, doc, field, want string
	}{
		{"subject dropped", "Listen is the address of the listener.", "Listen", "The address of the listener."},
		{"other fields named", "StripPrefix removes Prefix from the path.", "StripPrefix", "`P_STRIP` removes `P_PREFIX` from the path."},
		{"shared comment", "JWTIssuer and JWTAudience are checked when set.", "JWTAudience", "`I` and `A` are checked when set."},
		{"own name first, not is", "JWTIssuer and JWTAudience are checked when set.", "JWTIssuer", "`I` and `A` are checked when set."},
		{"literal variable kept", "GOGC is the target, unless the GOGC variable itself is set.", "GOGC", "The target, unless the GOGC variable itself is set."},
		{"punctuation", "(see Prefix), or Listen.", "X", "(see `P_PREFIX`), or `SIGNGATE_LISTEN`."},
		{"empty", "", "Listen", ""},
		{"too short to drop", "Listen is", "Listen", "`SIGNGATE_LISTEN` is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := operatorDoc(tt.doc, tt.field, names); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestMarkdownText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Routes are SIGNGATE_ROUTES_0_*, _1_, ...", "Routes are `SIGNGATE_ROUTES_0_*`, `_1_`, ..."},
		{"already `SIGNGATE_X` in code", "already `SIGNGATE_X` in code"},
		{"a `code span with_underscore` stays", "a `code span with_underscore` stays"},
		{"the host {name}.example", "the host {name}.example"},
		{"SIGNGATE_ROUTES_<n>_<NAME>.", "`SIGNGATE_ROUTES_<n>_<NAME>`."},
	}
	for _, tt := range tests {
		if got := mdText(tt.in); got != tt.want {
			t.Errorf("mdText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := cell("a|b"); got != `a\|b` {
		t.Errorf("cell = %q", got)
	}
}

func TestEnvFormat(t *testing.T) {
	sections, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Env(&b, sections); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	set := map[string]string{}
	for _, l := range lines {
		if l != "" && !strings.HasPrefix(l, "#") {
			t.Errorf("line %q is not commented out", l)
		}
		if len(l) > 80 && !strings.HasPrefix(l, "#SIGNGATE_") && strings.Contains(strings.TrimPrefix(l, "# "), " ") {
			t.Errorf("line longer than 80: %q", l)
		}
		if name, val, ok := strings.Cut(strings.TrimPrefix(l, "#"), "="); ok && strings.HasPrefix(name, "SIGNGATE_") && !strings.Contains(name, " ") {
			set[name] = val
		}
	}
	for _, v := range All(sections) {
		name := strings.ReplaceAll(v.Name, Index, "0")
		if got, ok := set[name]; !ok || got != v.Default {
			t.Errorf("%s: env file has %q (present %v), want %q", name, got, ok, v.Default)
		}
	}
}

// TestWalkRules runs the walker over a struct shaped like the ones a new
// component may bring: a nested struct, a pointer, a list whose prefix
// lacks the "_", options, a secret.
func TestWalkRules(t *testing.T) {
	type item struct {
		Name string `env:"NAME,required"`
	}
	type nested struct {
		Port int `env:"PORT" envDefault:"9"`
	}
	type comp struct {
		Wait    time.Duration   `env:"WAIT" envDefault:"5s"`
		Key     config.Secret   `env:"KEY"`
		DB      config.Database `env:"DB"`
		Inner   nested          `envPrefix:"IN_"`
		Ptr     *nested         `envPrefix:"PTR_"`
		Items   []item          `envPrefix:"ITEMS"`
		Tags    []string        `env:"TAGS"`
		Max     int64           `env:"MAX"`
		Ratio   float64         `env:"RATIO"`
		NoTag   string
		private string
	}
	s, err := walk(reflect.TypeFor[comp](), "P_", Docs{"comp.Wait": "Wait is how long."})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Var{}
	for _, v := range All([]Section{s}) {
		got[v.Name] = v
	}
	want := map[string]string{
		"P_WAIT": "duration", "P_KEY": "secret", "P_DB": "database", "P_IN_PORT": "int",
		"P_PTR_PORT": "int", "P_ITEMS_<n>_NAME": "string", "P_TAGS": "list of string",
		"P_MAX": "int", "P_RATIO": "number",
	}
	if len(got) != len(want) {
		t.Errorf("got %d variables, want %d: %v", len(got), len(want), got)
	}
	for name, typ := range want {
		if got[name].Type != typ {
			t.Errorf("%s: type %q, want %q", name, got[name].Type, typ)
		}
	}
	if v := got["P_WAIT"]; v.Default != "5s" || !v.HasDefault || v.Doc != "How long." {
		t.Errorf("P_WAIT = %+v", v)
	}
	if !got["P_KEY"].Secret || !got["P_DB"].Secret || got["P_WAIT"].Secret {
		t.Error("secrets not marked")
	}
	if !got["P_ITEMS_<n>_NAME"].Required {
		t.Error("required not marked")
	}
	if len(s.Subs) != 1 || s.Subs[0].Title != "P_ITEMS_<n>_*" {
		t.Errorf("subsections = %+v", s.Subs)
	}

	type withFile struct {
		Key string `env:"KEY,file"`
	}
	if _, err := walk(reflect.TypeFor[withFile](), "P_", nil); err == nil || !strings.Contains(err.Error(), "Key") {
		t.Errorf("file option: err = %v, want one naming the field", err)
	}
}
