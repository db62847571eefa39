package configref

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/signgate/signgate/config"
)

// TestDocTablesListEveryVariable: the configuration tables of
// docs/gateway.md and docs/edge.md name every variable their component
// reads, so that a new setting cannot ship undocumented there (docs/
// config.md, generated, always has them all). A route's variables stand
// in the routes table by their short name (| `PREFIX` |).
func TestDocTablesListEveryVariable(t *testing.T) {
	for _, c := range []struct {
		doc string
		typ reflect.Type
	}{
		{"../../docs/gateway.md", reflect.TypeFor[config.Gateway]()},
		{"../../docs/edge.md", reflect.TypeFor[config.Edge]()},
	} {
		b, err := os.ReadFile(c.doc)
		if err != nil {
			t.Fatal(err)
		}
		rows := firstCells(string(b))
		for _, v := range config.VarNames(c.typ, config.Prefix) {
			name := v
			if short, ok := strings.CutPrefix(v, config.RoutesPrefix+"<n>_"); ok {
				name = short
			}
			if !rows[name] {
				t.Errorf("%s: no table row names %s", c.doc, name)
			}
		}
	}
}

// firstCells returns the names in backquotes in the first cell of every
// table row of a Markdown document.
func firstCells(doc string) map[string]bool {
	out := map[string]bool{}
	for line := range strings.SplitSeq(doc, "\n") {
		cells := strings.Split(line, "|")
		if !strings.HasPrefix(line, "|") || len(cells) < 3 {
			continue
		}
		parts := strings.Split(cells[1], "`")
		for i := 1; i < len(parts); i += 2 {
			out[parts[i]] = true
		}
	}
	return out
}
