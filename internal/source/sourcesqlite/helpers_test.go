package sourcesqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

// newDB creates a SQLite file in a temp dir, runs the statements on it
// with a writable connection, and returns its path.
func newDB(t *testing.T, name string, stmts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return path
}

// execDBB is execDB for benchmarks.
func execDBB(b *testing.B, path string, stmts ...string) {
	b.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			b.Fatalf("%s: %v", s, err)
		}
	}
}

// execDB runs statements on an existing file with a writable connection.
func execDB(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// openTest opens path read-only with a checked allocator that fails the
// test if an extract leaks Arrow memory.
func openTest(t *testing.T, path string) *Source {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s.mem = mem
	t.Cleanup(func() {
		s.Close()
		mem.AssertSize(t, 0)
	})
	return s
}

func describe(t *testing.T, s *Source, table string) *source.Table {
	t.Helper()
	ref, err := catalog.ParseTableRef(table)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := s.Describe(context.Background(), ref)
	if err != nil {
		t.Fatalf("describe %s: %v", table, err)
	}
	return tbl
}

// collected is what an extract delivered: the records (retained) and the result.
type collected struct {
	recs []arrow.RecordBatch
	res  source.Result
}

func (c *collected) release() {
	for _, r := range c.recs {
		r.Release()
	}
}

// extract runs an extract and keeps the records; they are released when the test ends.
func extract(t *testing.T, s *Source, tbl *source.Table, cursorCol string, after *coltype.Watermark, batch int) (*collected, error) {
	t.Helper()
	c := &collected{}
	t.Cleanup(c.release)
	res, err := s.Extract(context.Background(), source.Request{Table: tbl, Cursor: cursorCol, After: after, BatchRows: batch},
		func(r arrow.RecordBatch) error {
			r.Retain()
			c.recs = append(c.recs, r)
			return nil
		})
	c.res = res
	return c, err
}

// column returns the values of one column over all records as Arrow's
// ValueStr text, "NULL" for NULL.
func (c *collected) column(name string) []string {
	var out []string
	for _, r := range c.recs {
		idx := r.Schema().FieldIndices(name)
		arr := r.Column(idx[0])
		for i := 0; i < arr.Len(); i++ {
			if arr.IsNull(i) {
				out = append(out, "NULL")
				continue
			}
			out = append(out, arr.ValueStr(i))
		}
	}
	return out
}

func wm(k coltype.Kind, text string) *coltype.Watermark {
	return &coltype.Watermark{Kind: k, Text: text}
}
