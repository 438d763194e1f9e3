package sourcepostgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wharf-data/wharf/internal/source"
)

// idSinks returns n sinks that collect the int64 first column, and the
// collected ids (read after the extract).
func idSinks(n int, first func()) ([]source.RecordSink, func() []int64) {
	var mu sync.Mutex
	var ids []int64
	var once sync.Once
	sinks := make([]source.RecordSink, n)
	for i := range sinks {
		sinks[i] = func(rec arrow.RecordBatch) error {
			if first != nil {
				once.Do(first)
			}
			col := rec.Column(0).(*array.Int64)
			mu.Lock()
			defer mu.Unlock()
			for j := range col.Len() {
				ids = append(ids, col.Value(j))
			}
			return nil
		}
	}
	return sinks, func() []int64 { return ids }
}

// checkOnce fails unless ids are exactly 1..n, each once.
func checkOnce(t *testing.T, ids []int64, n int) {
	t.Helper()
	seen := make(map[int64]int, len(ids))
	for _, id := range ids {
		seen[id]++
	}
	if len(ids) != n || len(seen) != n {
		t.Fatalf("read %d ids, %d distinct; want %d once each", len(ids), len(seen), n)
	}
	for id := int64(1); id <= int64(n); id++ {
		if seen[id] != 1 {
			t.Fatalf("id %d read %d times", id, seen[id])
		}
	}
}

// Every chunk reads the coordinator's snapshot: rows committed after the
// window was decided, while the streams read, are not read, and every row
// of the window is read once.
func TestParallelOneSnapshot(t *testing.T) {
	t.Parallel()
	src, db := openTestSchema(t, DefaultOptions())
	ctx := context.Background()
	const rows = 60000
	tbl := db.Quote(db.schema) + ".wide"
	for _, sql := range []string{
		"CREATE TABLE " + tbl + " (id bigint PRIMARY KEY, pad text NOT NULL, updated_at timestamptz NOT NULL)",
		fmt.Sprintf("INSERT INTO %s SELECT g, repeat('x', 40), timestamptz '2026-01-01' + g * interval '1 second' FROM generate_series(1, %d) g", tbl, rows),
	} {
		if err := db.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	table, err := src.Describe(ctx, source.TableRef{Schema: db.schema, Name: "wide"})
	if err != nil {
		t.Fatal(err)
	}
	for _, cursor := range []string{"", "updated_at"} {
		t.Run("cursor="+cursor, func(t *testing.T) {
			// The first record arrives once the window is decided: rows
			// committed now must not be read by any chunk.
			late := func() {
				sql := fmt.Sprintf("INSERT INTO %s SELECT g, 'late', timestamptz '2025-01-01' FROM generate_series(%d, %d) g", tbl, rows+1, rows+5000)
				if err := db.Exec(ctx, sql); err != nil {
					t.Error(err)
				}
			}
			sinks, ids := idSinks(4, late)
			var calls []string
			res, err := src.ExtractParallel(ctx, source.Request{Table: table, Cursor: cursor, BatchRows: 1000}, sinks, func(done, total int) {
				calls = append(calls, fmt.Sprintf("%d/%d", done, total))
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Chunks < 4 || !strings.Contains(res.Split, "ctid") {
				t.Errorf("chunks %d, split %q; want at least 4 by ctid", res.Chunks, res.Split)
			}
			if len(calls) != res.Chunks || calls[len(calls)-1] != fmt.Sprintf("%d/%d", res.Chunks, res.Chunks) {
				t.Errorf("chunk progress %v, want 1..%d of %d", calls, res.Chunks, res.Chunks)
			}
			if res.Rows != rows {
				t.Errorf("result rows %d, want %d", res.Rows, rows)
			}
			checkOnce(t, ids(), rows)
			if cursor != "" && (res.High == nil || res.High.Text != "2026-01-01T16:40:00.000000Z") {
				t.Errorf("high %v", res.High)
			}
			if err := db.Exec(ctx, "DELETE FROM "+tbl+" WHERE pad = 'late'"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Where ctid ranges do not apply, a partitioned table splits by ranges of
// its integer primary key and a view reads in one stream; both say so.
func TestParallelFallbacks(t *testing.T) {
	t.Parallel()
	src, db := openTestSchema(t, DefaultOptions())
	ctx := context.Background()
	const rows = 30000
	s := db.Quote(db.schema)
	for _, sql := range []string{
		"CREATE TABLE " + s + ".parted (id bigint PRIMARY KEY, pad text) PARTITION BY RANGE (id)",
		"CREATE TABLE " + s + ".parted_a PARTITION OF " + s + ".parted FOR VALUES FROM (MINVALUE) TO (10000)",
		"CREATE TABLE " + s + ".parted_b PARTITION OF " + s + ".parted FOR VALUES FROM (10000) TO (MAXVALUE)",
		fmt.Sprintf("INSERT INTO %s.parted SELECT g, 'x' FROM generate_series(1, %d) g", s, rows),
		"CREATE VIEW " + s + ".v AS SELECT id, pad FROM " + s + ".parted",
	} {
		if err := db.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string]string{
		"parted": "chunks by ranges of primary key id (a partitioned table has no ctid ranges)",
		"v":      "one stream: a view has no ctid ranges and no single-column primary key",
	} {
		table, err := src.Describe(ctx, source.TableRef{Schema: db.schema, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		sinks, ids := idSinks(3, nil)
		res, err := src.ExtractParallel(ctx, source.Request{Table: table, BatchRows: 1000}, sinks, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !strings.Contains(res.Split, want) {
			t.Errorf("%s: split %q, want %q", name, res.Split, want)
		}
		checkOnce(t, ids(), rows)
	}
}
