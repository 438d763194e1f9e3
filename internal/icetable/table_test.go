package icetable

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/iceberg-go/table"

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
		appended, err := tbl.Commit(ctx, run)
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
		if _, err := tbl.Commit(ctx, Run{ID: fmt.Sprintf("run-%d", i), Workflow: "wf", StartedAt: since}); err != nil {
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
	path := "ns/t/part-0.parquet"
	writeFile(t, tbl, schema, withIDs, path, `[
		{"id": 1, "iv": {"months": 1, "days": 2, "microseconds": 3}, "tags": ["a", null], "m": [[1, 2], [3]],
		 "h": [{"key": "a", "value": "b"}], "ingestion_timestamp": "2026-11-30T06:00:00Z"}]`)
	if _, err := tbl.Commit(ctx, Run{ID: "run-0", Workflow: "wf", Rows: 1, StartedAt: since, Files: []string{path}}); err != nil {
		t.Fatal(err)
	}
	if files, err := tbl.CurrentFiles(ctx); err != nil || len(files) != 1 || files[0].Rows != 1 {
		t.Errorf("current files %v, %v; want the one file of 1 row", files, err)
	}
}

// writeFile writes the rows of rowsJSON (of schema) as the Parquet file
// path of tbl's lake, with the field ids of withIDs.
func writeFile(t *testing.T, tbl *Table, schema, withIDs *arrow.Schema, path, rowsJSON string) {
	t.Helper()
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(rowsJSON))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	name := filepath.Join(strings.TrimPrefix(tbl.lk.Root(), "file://"), filepath.FromSlash(path))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(name)
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
}

// A full load's snapshot replaces the table's rows (an overwrite), where
// an incremental run's appends: after three full loads the current
// snapshot holds the last one's rows, the earlier ones are reachable by
// time travel, and the removed files stay in storage. A full load that
// read nothing empties the table; a run whose snapshot exists is never
// committed again.
func TestFullLoadReplaces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	since := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "ingestion_timestamp", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	}, nil)
	_, tbl, withIDs := testTableOf(t, &catalog.Lake{IcebergCatalog: "sql:sqlite:" + filepath.Join(t.TempDir(), "catalog.db")}, since, schema)
	land := func(id string, fullLoad bool, day string, ids ...int) {
		t.Helper()
		var rows []string
		for _, i := range ids {
			rows = append(rows, fmt.Sprintf(`{"id": %d, "ingestion_timestamp": "%sT06:00:00Z"}`, i, day))
		}
		r := Run{ID: id, Workflow: "wf", Rows: int64(len(ids)), FullLoad: fullLoad, StartedAt: since}
		if len(ids) > 0 {
			path := "ns/t/ingestion_date=" + day + "/" + id + ".parquet"
			writeFile(t, tbl, schema, withIDs, path, "["+strings.Join(rows, ",")+"]")
			r.Files = []string{path}
		}
		if appended, err := tbl.Commit(ctx, r); err != nil || !appended {
			t.Fatalf("run %s: appended %v, %v", id, appended, err)
		}
	}
	// The runs land on different days: a replace removes every file, not
	// only those of the new files' partitions.
	land("run-1", true, "2026-11-28", 1, 2)
	land("run-2", true, "2026-11-29", 1, 2, 3)
	land("run-3", true, "2026-11-30", 1, 2, 3, 4)
	if got := ids(t, tbl.tbl.Scan()); got != "1 2 3 4" {
		t.Errorf("after 3 full loads the table holds ids %q, want the last one's: 1 2 3 4", got)
	}
	snaps := tbl.tbl.Metadata().Snapshots()
	if len(snaps) != 3 {
		t.Fatalf("%d snapshots, want 3", len(snaps))
	}
	if got := ids(t, tbl.tbl.Scan(table.WithSnapshotID(snaps[0].SnapshotID))); got != "1 2" {
		t.Errorf("time travel to the first snapshot: ids %q, want 1 2", got)
	}
	for i, s := range snaps {
		p := s.Summary.Properties
		wantOp := table.OpOverwrite
		if i == 0 {
			wantOp = table.OpAppend // nothing to replace
		}
		if s.Summary.Operation != wantOp || p[SummaryRunID] != fmt.Sprintf("run-%d", i+1) || p[SummaryFullLoad] != "true" {
			t.Errorf("snapshot %d: operation %s, summary %v; want %s of run-%d", i+1, s.Summary.Operation, p, wantOp, i+1)
		}
	}
	if _, err := os.Stat(filepath.Join(strings.TrimPrefix(tbl.lk.Root(), "file://"), "ns/t/ingestion_date=2026-11-28/run-1.parquet")); err != nil {
		t.Errorf("a replaced file must stay in storage for time travel: %v", err)
	}

	// Exactly once: run-2's snapshot exists, so it does not replace run-3's rows.
	if appended, err := tbl.Commit(ctx, Run{ID: "run-2", Workflow: "wf", Rows: 3, FullLoad: true, StartedAt: since,
		Files: []string{"ns/t/ingestion_date=2026-11-29/run-2.parquet"}}); err != nil || appended {
		t.Errorf("run-2 again: appended %v, %v; want not appended", appended, err)
	}
	// An incremental run appends to the full load's rows.
	land("run-4", false, "2026-11-30", 5)
	if got := ids(t, tbl.tbl.Scan()); got != "1 2 3 4 5" {
		t.Errorf("after an incremental run: ids %q, want 1 2 3 4 5", got)
	}
	if got := slices.Sorted(maps.Keys(tbl.CurrentRuns())); !slices.Equal(got, []string{"run-3", "run-4"}) {
		t.Errorf("the current snapshot holds the files of runs %v, want run-3 and run-4", got)
	}
	// A full load that read nothing: the source is empty, and so is the table.
	land("run-5", true, "2026-11-30")
	if files, err := tbl.CurrentFiles(ctx); err != nil || len(files) != 0 {
		t.Errorf("after a full load of no rows: current files %v, %v; want none", files, err)
	}
	if got := slices.Sorted(maps.Keys(tbl.CurrentRuns())); !slices.Equal(got, []string{"run-5"}) {
		t.Errorf("the current snapshot holds the files of runs %v, want run-5's", got)
	}
	if n := tbl.Snapshots(); n != 5 {
		t.Errorf("%d snapshots, want 5", n)
	}
}

// ids reads the id column of scan, sorted, as text.
func ids(t *testing.T, scan *table.Scan) string {
	t.Helper()
	at, err := scan.ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	var out []int
	col := at.Column(at.Schema().FieldIndices("id")[0])
	for _, ch := range col.Data().Chunks() {
		for i := 0; i < ch.Len(); i++ {
			out = append(out, int(ch.(*array.Int32).Value(i)))
		}
	}
	slices.Sort(out)
	return strings.Trim(fmt.Sprint(out), "[]")
}
