package sourcepostgres

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/source/sourcepostgres/pgzoo"
	"github.com/wharf-data/wharf/internal/testdb"
)

var backquoted = regexp.MustCompile("`([^`]+)`")

// TestDocTypesTable checks docs/types.md's PostgreSQL table against the
// code: a column of every type of the first column must land as the second
// column says.
func TestDocTypesTable(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/types.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(doc)
	start := strings.Index(section, "## PostgreSQL")
	end := strings.Index(section, "## SQLite")
	if start < 0 || end < start {
		t.Fatal("docs/types.md has no PostgreSQL section before the SQLite one")
	}
	type row struct{ pg, lands string }
	var rows []row
	for _, line := range strings.Split(section[start:end], "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") || strings.TrimSpace(cells[1]) == "PostgreSQL" {
			continue
		}
		types := backquoted.FindAllStringSubmatch(cells[1], -1)
		if len(types) == 0 {
			continue // a type the test cannot create (an extension another test owns)
		}
		lands := backquoted.FindAllStringSubmatch(cells[2], -1)
		if len(types) == 0 || (len(lands) != 1 && len(lands) != len(types)) {
			t.Fatalf("docs/types.md row %q: want backquoted types and one landed type or one per type", line)
		}
		for i, ty := range types {
			l := lands[0][1]
			if len(lands) > 1 {
				l = lands[i][1]
			}
			rows = append(rows, row{ty[1], l})
		}
	}
	if len(rows) < 40 {
		t.Fatalf("found only %d types in docs/types.md", len(rows))
	}
	src, db := openTestSchema(t, DefaultOptions())
	ctx := context.Background()
	if err := pgzoo.Prepare(ctx, testdb.Postgres(t)); err != nil {
		t.Fatal(err)
	}
	for _, s := range pgzoo.Setup {
		mustExec(t, db, s)
	}
	defs := make([]string, len(rows))
	for i, r := range rows {
		defs[i] = fmt.Sprintf("c%d %s", i, r.pg)
	}
	mustExec(t, db, "CREATE TABLE doc_types ("+strings.Join(defs, ", ")+")")
	tbl, err := src.Describe(ctx, source.TableRef{Name: "doc_types"})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if got := tbl.Columns[i].TypeString(); got != r.lands {
			t.Errorf("docs/types.md says %s lands as %s; it lands as %s", r.pg, r.lands, got)
		}
	}
}
