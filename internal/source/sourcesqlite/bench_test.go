package sourcesqlite

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wharf-data/wharf/internal/source"
)

// BenchmarkExtract reads 200,000 rows of five columns with a cursor.
func BenchmarkExtract(b *testing.B) {
	path := b.TempDir() + "/bench.db"
	execDBB(b, path, `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, salary DECIMAL(8,2), at TIMESTAMP, d DATE)`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 200000)
		 INSERT INTO t SELECT i, 'name ' || i, (i % 100000) / 100.0, datetime(1700000000 + i, 'unixepoch'), date(1700000000 + i*60, 'unixepoch') FROM n`)
	s, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tbl, err := s.Describe(context.Background(), source.TableRef{Name: "t"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.Extract(context.Background(), source.Request{Table: tbl, Cursor: "at"}, func(arrow.RecordBatch) error { return nil })
		if err != nil || res.Rows != 200000 {
			b.Fatal(err, res.Rows)
		}
	}
}
