package sourcepostgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/testdb"
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

// A process reading chunks of another's plan reads on its source's own
// connection: a stream costs the server one session, not that one idle
// beside one of its own. The plan's own source, whose deciding
// transaction is open, connects anew. Once the reader is closed (or
// failed to open) the source is free again and its connection is in no
// transaction.
func TestOpenChunksLendsTheSourceConnection(t *testing.T) {
	t.Parallel()
	dsn, schema := testdb.PostgresSchema(t)
	ctx := context.Background()
	withApp := func(app string) string {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("application_name", app)
		u.RawQuery = q.Encode()
		return u.String()
	}
	_, db := openOnSchema(t, dsn, schema, DefaultOptions())
	open := func(app string) *Source {
		src, err := Open(ctx, withApp(app))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = src.Close() })
		return src
	}
	planApp, readApp := "plan_"+schema, "read_"+schema
	planner, reader := open(planApp), open(readApp)
	// sessions lists the states of app's server sessions.
	sessions := func(app string) []string {
		t.Helper()
		var states []string
		if err := db.conn.QueryRow(ctx, "SELECT coalesce(array_agg(state ORDER BY state), '{}') FROM pg_stat_activity WHERE application_name = $1", app).Scan(&states); err != nil {
			t.Fatal(err)
		}
		return states
	}
	const rows = 60000
	tbl := db.Quote(db.schema) + ".wide"
	for _, sql := range []string{
		"CREATE TABLE " + tbl + " (id bigint PRIMARY KEY, pad text NOT NULL)",
		fmt.Sprintf("INSERT INTO %s SELECT g, repeat('x', 40) FROM generate_series(1, %d) g", tbl, rows),
	} {
		if err := db.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	table, err := planner.Describe(ctx, source.TableRef{Schema: db.schema, Name: "wide"})
	if err != nil {
		t.Fatal(err)
	}
	req := source.Request{Table: table, BatchRows: 1000}
	p, err := planner.PlanChunks(ctx, req, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	shared := p.Shared()
	if len(shared.Chunks) < 3 {
		t.Fatalf("%d chunks, want at least 3", len(shared.Chunks))
	}

	// Readers are closed before their sources (t.Cleanup runs last in
	// first): a failing test must not wait for a held source.
	lent, err := reader.OpenChunks(ctx, req, shared)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lent.Close() })
	own, err := planner.OpenChunks(ctx, req, shared)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { own.Close() })
	if got := sessions(readApp); len(got) != 1 {
		t.Errorf("reading source's sessions %v, want its own connection only", got)
	}
	if got := sessions(planApp); len(got) != 2 {
		t.Errorf("planning source's sessions %v, want its plan's and the reader's", got)
	}
	sinks, ids := idSinks(1, nil)
	for k := range shared.Chunks {
		read := []func(context.Context, int, source.RecordSink) (int64, error){p.Read, lent.Read, own.Read}[k%3]
		if _, err := read(ctx, k, sinks[0]); err != nil {
			t.Fatalf("chunk %d: %v", k, err)
		}
	}
	checkOnce(t, ids(), rows)
	if err := lent.Close(); err != nil {
		t.Fatal(err)
	}
	if err := own.Close(); err != nil {
		t.Fatal(err)
	}
	if err := lent.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := lent.Read(ctx, 0, sinks[0]); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Read after Close: %v, want an error saying the reader is closed", err)
	}
	free := func(when string) {
		t.Helper()
		if !reader.mu.TryLock() {
			t.Errorf("%s: the reading source is still held", when)
		}
		reader.mu.Unlock() // a leaked hold too: the cleanup's Close must not wait for it
		if got := sessions(readApp); len(got) != 1 || got[0] != "idle" {
			t.Errorf("%s: reading source's sessions %v, want one idle (in no transaction)", when, got)
		}
	}
	free("after Close")

	// A snapshot that cannot be imported fails the open and gives the
	// connection back out of the failed transaction.
	gone := shared
	gone.Snapshot = "00000003-0000001B-1"
	if _, err := reader.OpenChunks(ctx, req, gone); !errors.Is(err, source.ErrSnapshotGone) {
		t.Fatalf("open with an ended snapshot: %v, want ErrSnapshotGone", err)
	}
	free("after a failed import")

	// So does a table that cannot be described in the snapshot.
	missing := req
	missing.Table = &source.Table{Ref: source.TableRef{Schema: db.schema, Name: "no_such_table"}, Columns: table.Columns}
	if _, err := reader.OpenChunks(ctx, missing, shared); err == nil {
		t.Fatal("open for a table that does not exist: no error")
	}
	free("after a failed describe")
	if _, err := reader.Describe(ctx, table.Ref); err != nil {
		t.Fatalf("source unusable after its readers: %v", err)
	}
}
