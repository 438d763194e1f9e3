package catalog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The catalog parsers are fuzzed from the testdata fixtures (plus the
// corpus kept in testdata/fuzz/): whatever the bytes, Parse must not panic,
// must return a catalog or errors (never both, never neither), and every
// error must name the file and, unless the file is empty, its line; every
// error but a YAML syntax error (yaml.v3 gives no column) its column too.
// scripts/test.sh runs each target briefly.

func FuzzWharfCatalog(f *testing.F) { fuzzCatalog(f, "catalog.yaml", "*.yaml") }
func FuzzGlueCatalog(f *testing.F)  { fuzzCatalog(f, "catalog.json", "*.json") }

func fuzzCatalog(f *testing.F, path, glob string) {
	seeds, err := filepath.Glob(filepath.Join("testdata", glob))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds %s: %v", glob, err)
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cat, err := Parse(path, data)
		if (cat == nil) == (err == nil) {
			t.Fatalf("Parse returned catalog %v and error %v: want exactly one", cat != nil, err)
		}
		if err == nil {
			return
		}
		var es Errors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Fatalf("error %T %v: want catalog.Errors", err, err)
		}
		for _, e := range es {
			switch {
			case e.Pos.File != path:
				t.Errorf("error names file %q, want %q: %v", e.Pos.File, path, e)
			case e.Msg == "the catalog is empty":
			case e.Pos.Line <= 0:
				t.Errorf("error without a line: %v", e)
			case e.Pos.Column <= 0 && !strings.HasPrefix(e.Msg, "YAML syntax error: "):
				t.Errorf("error without a column: %v", e)
			}
		}
	})
}
