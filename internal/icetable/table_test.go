package icetable

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/lake"
)

// testTable prepares the table ns.t of a file lake in a SQL catalog in a
// temporary SQLite file.
func testTable(t *testing.T, since time.Time) (*Catalog, *Table) {
	t.Helper()
	return testTableIn(t, &catalog.Lake{IcebergCatalog: "sql:sqlite:" + filepath.Join(t.TempDir(), "catalog.db")}, since)
}

// testTableIn prepares the table ns.t of a file lake in the catalog of
// the lake settings cfg.
func testTableIn(t *testing.T, cfg *catalog.Lake, since time.Time) (*Catalog, *Table) {
	t.Helper()
	cat, tbl, _ := testTableOf(t, cfg, since, arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "ingestion_timestamp", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	}, nil))
	return cat, tbl
}

// testTableOf prepares the table ns.t of schema (with an
// ingestion_timestamp column) in the catalog of cfg and returns the schema
// its files are written with (field ids set).
func testTableOf(t *testing.T, cfg *catalog.Lake, since time.Time, schema *arrow.Schema) (*Catalog, *Table, *arrow.Schema) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := Open(ctx, cfg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	lk, err := lake.Open(ctx, "file://"+filepath.Join(dir, "lake"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lk.Close() })
	tbl, withIDs, err := cat.Prepare(ctx, lk, Spec{Namespace: "ns", Name: "t", Prefix: "ns/t", DayColumn: "ingestion_timestamp"}, schema, since)
	if err != nil {
		t.Fatal(err)
	}
	return cat, tbl, withIDs
}

// A run that landed nothing appends a snapshot without data files that
// names the run and its window, once.
func TestAppendEmptyRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	since := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	_, tbl := testTable(t, since)
	run := Run{ID: "run-0", Workflow: "wf", From: "2024-01-01T00:00:00Z", To: "2024-01-01T00:00:00Z", StartedAt: since}
	for i, want := range []bool{true, false} {
		appended, err := tbl.Append(ctx, run)
		if err != nil {
			t.Fatal(err)
		}
		if appended != want {
			t.Errorf("append %d: appended = %v, want %v", i+1, appended, want)
		}
	}
	snaps := tbl.tbl.Metadata().Snapshots()
	if len(snaps) != 1 {
		t.Fatalf("%d snapshots, want 1", len(snaps))
	}
	p := snaps[0].Summary.Properties
	if p[SummaryRunID] != "run-0" || p[SummaryRows] != "0" || p[SummaryWatermarkFrom] != run.From || p[SummaryWatermarkTo] != run.To {
		t.Errorf("summary %v", p)
	}
	if files, err := tbl.CurrentFiles(ctx); err != nil || len(files) != 0 {
		t.Errorf("current files %v, %v; want none", files, err)
	}
}

// Which committed runs the table owes a snapshot: none older than the
// table; a run that landed nothing only since PropEmptySince.
func TestOwes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	since := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	_, tbl := testTable(t, since)
	before, after := since.Add(-time.Second), since.Add(time.Second)
	for _, c := range []struct {
		started time.Time
		files   int
		want    bool
	}{{before, 1, false}, {before, 0, false}, {since, 1, true}, {since, 0, true}, {after, 0, true}} {
		if got := tbl.Owes(c.started, c.files); got != c.want {
			t.Errorf("Owes(%s, %d files) = %v, want %v", c.started.Format(time.TimeOnly), c.files, got, c.want)
		}
	}

	// A table from before empty snapshots: its empty runs are owed one
	// from the first run that prepares it on.
	tx := tbl.tbl.NewTransaction()
	if err := tx.RemoveProperties([]string{PropEmptySince}); err != nil {
		t.Fatal(err)
	}
	var err error
	if tbl.tbl, err = tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if tbl.Owes(after, 0) || !tbl.Owes(after, 1) {
		t.Errorf("without %s: an empty run is owed no snapshot, one with files is", PropEmptySince)
	}
	later := after.Add(time.Hour)
	if err := tbl.addProperties(ctx, tableProperties(later)); err != nil {
		t.Fatal(err)
	}
	if tbl.Owes(after, 0) || !tbl.Owes(later, 0) {
		t.Errorf("marked at %s: %v", later, tbl.tbl.Properties())
	}
}

// Each commit writes a new metadata file holding every snapshot; the table
// keeps only the last 100 besides the current one (tableProperties), so
// the metadata folder of a frequently run workflow stays bounded.
func TestOldMetadataFilesAreDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	since := time.Now()
	_, tbl := testTable(t, since)
	dir := filepath.Dir(strings.TrimPrefix(tbl.tbl.MetadataLocation(), "file://"))
	for i := range 110 {
		if _, err := tbl.Append(ctx, Run{ID: fmt.Sprintf("run-%d", i), Workflow: "wf", StartedAt: since}); err != nil {
			t.Fatal(err)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bytes int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		bytes += fi.Size()
	}
	t.Logf("after %d commits: %d metadata files, %d bytes", 111, len(files), bytes)
	if len(files) != 101 {
		t.Errorf("%d metadata files after 111 commits, want the current one and 100 before it", len(files))
	}
}

// Nested columns (structs such as PostgreSQL's interval, lists, lists of
// lists, maps such as hstore) get field ids at every level, so the table
// takes the run's files: without them AddFiles refused every file ("cannot
// convert months ... missing field_id").
func TestNestedFieldIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	since := time.Now()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "iv", Type: arrow.StructOf(
			arrow.Field{Name: "months", Type: arrow.PrimitiveTypes.Int32},
			arrow.Field{Name: "days", Type: arrow.PrimitiveTypes.Int32},
			arrow.Field{Name: "microseconds", Type: arrow.PrimitiveTypes.Int64})},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "m", Type: arrow.ListOf(arrow.ListOf(arrow.PrimitiveTypes.Int32)), Nullable: true},
		{Name: "h", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String), Nullable: true},
		{Name: "ingestion_timestamp", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	}, nil)
	_, tbl, withIDs := testTableOf(t, &catalog.Lake{IcebergCatalog: "sql:sqlite:" + filepath.Join(t.TempDir(), "catalog.db")}, since, schema)
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(`[
		{"id": 1, "iv": {"months": 1, "days": 2, "microseconds": 3}, "tags": ["a", null], "m": [[1, 2], [3]],
		 "h": [{"key": "a", "value": "b"}], "ingestion_timestamp": "2026-11-30T06:00:00Z"}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	path := "ns/t/part-0.parquet"
	f, err := os.Create(filepath.Join(strings.TrimPrefix(tbl.lk.Root(), "file://"), filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(withIDs, f, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	out := array.NewRecordBatch(withIDs, rec.Columns(), rec.NumRows())
	defer out.Release()
	if err := w.Write(out); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := tbl.Append(ctx, Run{ID: "run-0", Workflow: "wf", Rows: 1, StartedAt: since, Files: []string{path}}); err != nil {
		t.Fatal(err)
	}
	if files, err := tbl.CurrentFiles(ctx); err != nil || len(files) != 1 || files[0].Rows != 1 {
		t.Errorf("current files %v, %v; want the one file of 1 row", files, err)
	}
}
