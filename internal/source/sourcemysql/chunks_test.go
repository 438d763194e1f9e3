package sourcemysql

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

// A window read in 3 streams by primary-key ranges reads every row once
// (full load and incremental window), and says how it was split.
func TestParallelKeyRanges(t *testing.T) {
	t.Parallel()
	src, db := openTest(t)
	ctx := context.Background()
	const rows = 20000
	if err := db.Exec(ctx, "CREATE TABLE wide (id bigint PRIMARY KEY, pad varchar(40) NOT NULL, updated_at datetime(6) NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	for from := 1; from <= rows; from += 1000 {
		if err := db.Exec(ctx, fmt.Sprintf(`INSERT INTO wide WITH RECURSIVE g(n) AS (SELECT %d UNION ALL SELECT n + 1 FROM g WHERE n < %d)
			SELECT n, MD5(n), TIMESTAMP('2026-01-01') + INTERVAL n SECOND FROM g`, from, from+999)); err != nil {
			t.Fatal(err)
		}
	}
	table, err := src.Describe(ctx, source.TableRef{Schema: db.name, Name: "wide"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cursor string
		after  string
		want   int
	}{{"", "", rows}, {"updated_at", "2026-01-01T01:23:20.000000", rows - 5000}} {
		req := source.Request{Table: table, Cursor: c.cursor, BatchRows: 500}
		if c.after != "" {
			req.After = &coltype.Watermark{Kind: coltype.Timestamp, Text: c.after}
		}
		var mu sync.Mutex
		seen := map[int64]int{}
		sinks := make([]source.RecordSink, 3)
		for i := range sinks {
			sinks[i] = func(rec arrow.RecordBatch) error {
				col := rec.Column(0).(*array.Int64)
				mu.Lock()
				defer mu.Unlock()
				for j := range col.Len() {
					seen[col.Value(j)]++
				}
				return nil
			}
		}
		chunks := 0
		res, err := src.ExtractParallel(ctx, req, sinks, func(done, total int) { chunks = done })
		if err != nil {
			t.Fatal(err)
		}
		if res.Chunks < 3 || chunks != res.Chunks || !strings.Contains(res.Split, "chunks by ranges of primary key id") {
			t.Errorf("cursor %q: %d chunks (%d reported done), split %q", c.cursor, res.Chunks, chunks, res.Split)
		}
		n := 0
		for id, k := range seen {
			n += k
			if k != 1 || id <= int64(rows-c.want) || id > rows {
				t.Fatalf("cursor %q: id %d read %d times", c.cursor, id, k)
			}
		}
		if n != c.want || res.Rows != int64(c.want) {
			t.Errorf("cursor %q: read %d rows (result %d), want %d", c.cursor, n, res.Rows, c.want)
		}
	}
}
