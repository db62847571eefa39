package proxy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoEnvironmentNames: proxy and proxy/auth read no environment and
// name no SIGNGATE_* variable, in a string or a comment; cmd/signgate's
// adapter alone turns their settings into variable names. proxy/auth
// imports nothing of config (nor of proxy: no upward import).
func TestNoEnvironmentNames(t *testing.T) {
	for _, dir := range []string{".", "auth"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		scanned := 0
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			scanned++
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && strings.Contains(lit.Value, "SIGNGATE_") {
					t.Errorf("%s: a string names an environment variable: %s", fset.Position(lit.Pos()), lit.Value)
				}
				return true
			})
			for _, cg := range f.Comments {
				if strings.Contains(cg.Text(), "SIGNGATE_") {
					t.Errorf("%s: a comment names an environment variable", fset.Position(cg.Pos()))
				}
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if p == "os" {
					ast.Inspect(f, func(n ast.Node) bool {
						if sel, ok := n.(*ast.SelectorExpr); ok {
							if id, ok := sel.X.(*ast.Ident); ok && id.Name == "os" && (sel.Sel.Name == "Getenv" || sel.Sel.Name == "LookupEnv" || sel.Sel.Name == "Environ") {
								t.Errorf("%s: os.%s reads the environment", fset.Position(sel.Pos()), sel.Sel.Name)
							}
						}
						return true
					})
				}
				if dir == "auth" && (p == "github.com/signgate/signgate/config" || p == "github.com/signgate/signgate/proxy") {
					t.Errorf("%s imports %s", name, p)
				}
			}
		}
		if scanned == 0 {
			t.Fatalf("no source file in %s", dir)
		}
	}
}
