package lake_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/lake/parquettest"
	"github.com/wharf-data/wharf/internal/testdb/duckread"
)

// sameTable compares exactly, NaN equal to NaN, field types included.
func sameTable(t *testing.T, got, want arrow.Table) {
	t.Helper()
	if !got.Schema().Equal(want.Schema()) {
		t.Fatalf("schema read back:\n%s\nwant:\n%s", got.Schema(), want.Schema())
	}
	if !array.TableApproxEqual(got, want, array.WithNaNsEqual(true), array.WithAbsTolerance(0)) {
		gr, wr := parquettest.Rows(t, got), parquettest.Rows(t, want)
		if len(gr) != len(wr) {
			t.Fatalf("read back %d rows, want %d", len(gr), len(wr))
		}
		for i := range gr {
			if g, w := fmt.Sprint(gr[i]), fmt.Sprint(wr[i]); g != w {
				t.Fatalf("row %d read back\n%s\nwant\n%s", i, g, w)
			}
		}
		t.Fatalf("tables differ")
	}
}

func tableOf(recs ...arrow.RecordBatch) arrow.Table {
	return array.NewTableFromRecords(recs[0].Schema(), recs)
}

func TestRoundTripEveryKind(t *testing.T) {
	l, root := openLake(t)
	cols := everyKind()
	recs := []arrow.RecordBatch{buildRecord(t, cols, 1000, 1), buildRecord(t, cols, 0, 2), buildRecord(t, cols, 2500, 3)}
	for _, r := range recs {
		defer r.Release()
	}
	files := writeRun(t, l, "db/public.kinds", "run1", nil, lake.WriterOptions{RowGroupRows: 1000}, recs...)
	if len(files) != 1 || files[0].Path != "db/public.kinds/part-run1-00000.parquet" || files[0].Rows != 3500 {
		t.Fatalf("files = %+v, want one file part-run1-00000.parquet of 3500 rows", files)
	}
	path := filepath.Join(root, files[0].Path)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != files[0].Bytes {
		t.Errorf("FileInfo.Bytes = %d, file has %d bytes", files[0].Bytes, st.Size())
	}
	got := parquettest.ReadFile(t, path)
	want := tableOf(recs...)
	defer want.Release()
	sameTable(t, got, want)

	// Spot-check edge values through Rows.
	rows := parquettest.Rows(t, got)
	col := map[string]int{}
	for i, c := range cols {
		col[c.Name] = i
	}
	checks := []struct {
		row  int
		name string
		want any
	}{
		{0, "f64", math.NaN()},
		{1, "f64", math.Inf(1)},
		{2, "f64", nil}, // NULL where (row+column index)%5 == 2
		{3, "f64", math.Copysign(0, -1)},
		{0, "i64", int64(math.MinInt64)},
		{1, "i64", int64(math.MaxInt64)},
		{0, "s", ""},
		{1, "s", "日本語 ✓ émoji 🐳"},
		{3, "dec", "-9999999999.99"},
		{3, "dec38", "-9999999999999999999999999999.9999999999"},
		{0, "d", "0001-01-01"},
		{1, "d", "9999-12-31"},
		{1, "ts", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		{0, "tstz", time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC)},
		{1, "tstz", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
		{2, "tstz", time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)},
	}
	for _, c := range checks {
		g := rows[c.row][col[c.name]]
		switch w := c.want.(type) {
		case float64:
			gf, ok := g.(float64)
			if !ok || !(gf == w && math.Signbit(gf) == math.Signbit(w) || math.IsNaN(gf) && math.IsNaN(w)) {
				t.Errorf("row %d column %s = %v, want %v", c.row, c.name, g, w)
			}
		case time.Time:
			if gt, ok := g.(time.Time); !ok || !gt.Equal(w) {
				t.Errorf("row %d column %s = %v, want %v", c.row, c.name, g, w)
			}
		default:
			if g != c.want {
				t.Errorf("row %d column %s = %#v, want %#v", c.row, c.name, g, c.want)
			}
		}
	}
	// NULLs made it: one row in five of every nullable column.
	for ci, c := range cols {
		nulls := got.Column(ci).Data().NullN()
		if c.Nullable && nulls != 700 {
			t.Errorf("column %s has %d NULLs, want 700", c.Name, nulls)
		}
		if !c.Nullable && nulls != 0 {
			t.Errorf("NOT NULL column %s has %d NULLs", c.Name, nulls)
		}
	}
	if files := filesUnder(t, root); len(files) != 1 {
		t.Errorf("lake holds %v, want only the data file (no .tmp or .attrs)", files)
	}
}

// TestLogicalTypes checks each column's Parquet types, codec and
// repetition, and that a manifest's schema summary names the same types.
func TestLogicalTypes(t *testing.T) {
	l, root := openLake(t)
	rec := buildRecord(t, everyKind(), 10, 1)
	defer rec.Release()
	files := writeRun(t, l, "p", "r", nil, lake.WriterOptions{}, rec)
	lt := parquettest.LogicalTypes(t, filepath.Join(root, files[0].Path))
	md := parquettest.Metadata(t, filepath.Join(root, files[0].Path))

	timestamp := func(name string, utc bool) {
		ts, ok := lt[name].(schema.TimestampLogicalType)
		if !ok {
			t.Errorf("column %s: logical type %v, want TIMESTAMP", name, lt[name])
			return
		}
		if ts.IsAdjustedToUTC() != utc || ts.TimeUnit() != schema.TimeUnitMicros {
			t.Errorf("column %s: %v, want isAdjustedToUTC=%v MICROS", name, ts, utc)
		}
	}
	timestamp("ts", false)
	timestamp("tstz", true)
	timestamp("at", true)
	for name, pr := range map[string][2]int32{"dec": {12, 2}, "dec38": {38, 10}} {
		d, ok := lt[name].(schema.DecimalLogicalType)
		if !ok || d.Precision() != pr[0] || d.Scale() != pr[1] {
			t.Errorf("column %s: logical type %v, want DECIMAL(%d,%d)", name, lt[name], pr[0], pr[1])
		}
	}
	if tm, ok := lt["t"].(schema.TimeLogicalType); !ok || tm.TimeUnit() != schema.TimeUnitMicros {
		t.Errorf("column t: logical type %v, want TIME(MICROS)", lt["t"])
	}
	wantKinds := map[string]schema.LogicalType{
		"d": schema.DateLogicalType{}, "u": schema.UUIDLogicalType{}, "j": schema.JSONLogicalType{},
		"s": schema.StringLogicalType{}, "name": schema.StringLogicalType{},
	}
	for name, want := range wantKinds {
		if lt[name] == nil || !lt[name].Equals(want) {
			t.Errorf("column %s: logical type %v, want %v", name, lt[name], want)
		}
	}
	for name, want := range map[string]schema.LogicalType{
		"i16": schema.NewIntLogicalType(16, true), "i32": schema.NewIntLogicalType(32, true), "i64": schema.NewIntLogicalType(64, true),
	} {
		if lt[name] == nil || !lt[name].Equals(want) {
			t.Errorf("column %s: logical type %v, want %v", name, lt[name], want)
		}
	}
	// Codec zstd by default, and the Arrow schema stored.
	rg := md.RowGroup(0)
	for i := 0; i < rg.NumColumns(); i++ {
		cc, err := rg.ColumnChunk(i)
		if err != nil {
			t.Fatal(err)
		}
		if cc.Compression() != compress.Codecs.Zstd {
			t.Errorf("column %d: codec %v, want zstd", i, cc.Compression())
		}
	}
	if md.KeyValueMetadata().FindValue("ARROW:schema") == nil {
		t.Errorf("no ARROW:schema in the file's key-value metadata")
	}
	// A manifest's schema (SchemaSummary) says how the run's files store
	// each column: the physical type in the file (decimals of up to 18
	// digits INT32/INT64, wider ones FIXED_LEN_BYTE_ARRAY).
	for i, f := range lake.SchemaSummary(rec.Schema()) {
		want := "GROUP"
		if p, ok := md.Schema.Root().Field(i).(*schema.PrimitiveNode); ok {
			want = p.PhysicalType().String()
		}
		if got, _, _ := strings.Cut(f.Parquet, " "); got != want {
			t.Errorf("column %s: the manifest's schema says %q, the file stores %s", f.Name, f.Parquet, want)
		}
	}
	// NOT NULL columns are REQUIRED, nullable ones OPTIONAL.
	for i := 0; i < md.Schema.NumColumns(); i++ {
		c := md.Schema.Column(i)
		wantMax := int16(1)
		if c.Name() == "id" || c.Name() == "name" || c.Name() == "at" {
			wantMax = 0
		}
		if c.MaxDefinitionLevel() != wantMax {
			t.Errorf("column %s: max definition level %d, want %d", c.Name(), c.MaxDefinitionLevel(), wantMax)
		}
	}
}

func TestCompressionCodecs(t *testing.T) {
	l, root := openLake(t)
	rec := buildMixed(t, 0, 2000)
	defer rec.Release()
	want := tableOf(rec)
	defer want.Release()
	for name, codec := range map[string]compress.Compression{
		"zstd": compress.Codecs.Zstd, "snappy": compress.Codecs.Snappy, "gzip": compress.Codecs.Gzip,
		"lz4": compress.Codecs.Lz4Raw, "none": compress.Codecs.Uncompressed,
	} {
		files := writeRun(t, l, "codec/"+name, "r", nil, lake.WriterOptions{Compression: name}, rec)
		path := filepath.Join(root, files[0].Path)
		cc, err := parquettest.Metadata(t, path).RowGroup(0).ColumnChunk(0)
		if err != nil {
			t.Fatal(err)
		}
		if cc.Compression() != codec {
			t.Errorf("compression %s: file codec %v", name, cc.Compression())
		}
		sameTable(t, parquettest.ReadFile(t, path), want)
	}
}

func TestRowGroups(t *testing.T) {
	l, root := openLake(t)
	var recs []arrow.RecordBatch
	for first := 0; first < 2500; first += 300 {
		n := min(300, 2500-first)
		r := buildMixed(t, first, n)
		defer r.Release()
		recs = append(recs, r)
	}
	files := writeRun(t, l, "rg", "r", nil, lake.WriterOptions{RowGroupRows: 1000}, recs...)
	got := parquettest.RowGroupRows(t, filepath.Join(root, files[0].Path))
	if fmt.Sprint(got) != "[1000 1000 500]" {
		t.Errorf("row groups = %v, want [1000 1000 500]: WriteBuffered must fill row groups across records", got)
	}

}

// wideRecord has n rows of an id and a 4 KiB incompressible string.
func wideRecord(first, n int) arrow.RecordBatch {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "blob", Type: arrow.BinaryTypes.String},
	}, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer rb.Release()
	rng := rand.New(rand.NewPCG(uint64(first), 1))
	buf := make([]byte, 4096)
	for i := 0; i < n; i++ {
		rb.Field(0).(*array.Int64Builder).Append(int64(first + i))
		for j := range buf {
			buf[j] = 'a' + byte(rng.IntN(26))
		}
		rb.Field(1).(*array.StringBuilder).BinaryBuilder.Append(buf)
	}
	return rb.NewRecordBatch()
}

// RowGroupBytes bounds the memory of a row group of wide rows: 2,000 rows
// of 4 KiB (about 5 MiB compressed) with a 1 MiB cap make several row
// groups although RowGroupRows would allow one.
func TestRowGroupBytes(t *testing.T) {
	l, root := openLake(t)
	var recs []arrow.RecordBatch
	for first := 0; first < 2000; first += 100 {
		r := wideRecord(first, 100)
		defer r.Release()
		recs = append(recs, r)
	}
	files := writeRun(t, l, "wide", "r", nil, lake.WriterOptions{RowGroupBytes: 1 << 20}, recs...)
	path := filepath.Join(root, files[0].Path)
	got := parquettest.RowGroupRows(t, path)
	var total int64
	for _, n := range got {
		total += n
	}
	if len(got) < 4 || total != 2000 {
		t.Errorf("row groups %v, want 4 or more adding up to 2000", got)
	}
	md := parquettest.Metadata(t, path)
	for i := 0; i < md.NumRowGroups(); i++ {
		// A row group closes at the first write past the cap: at most the
		// cap plus one record (100 rows × ~3 KiB compressed) plus one page.
		if size := md.RowGroup(i).TotalCompressedSize(); size > 3<<20 {
			t.Errorf("row group %d: %d compressed bytes, want about 1 MiB", i, size)
		}
	}
	want := tableOf(recs...)
	defer want.Release()
	sameTable(t, parquettest.ReadFile(t, path), want)
}

func TestRollingByFileBytes(t *testing.T) {
	l, root := openLake(t)
	var recs []arrow.RecordBatch
	for first := 0; first < 40000; first += 4000 {
		r := buildMixed(t, first, 4000)
		defer r.Release()
		recs = append(recs, r)
	}
	const limit = 128 << 10
	files := writeRun(t, l, "roll", "r7", nil, lake.WriterOptions{FileBytes: limit, RowGroupRows: 8000}, recs...)
	if len(files) < 3 {
		t.Fatalf("FileBytes=%d wrote %d files, want several", limit, len(files))
	}
	var paths []string
	var rows int64
	for i, f := range files {
		if want := fmt.Sprintf("roll/part-r7-%05d.parquet", i); f.Path != want {
			t.Errorf("file %d is %s, want %s", i, f.Path, want)
		}
		p := filepath.Join(root, f.Path)
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() != f.Bytes {
			t.Errorf("%s: FileInfo.Bytes %d, size on disk %d", f.Path, f.Bytes, st.Size())
		}
		if n := parquettest.Metadata(t, p).NumRows; n != f.Rows {
			t.Errorf("%s: FileInfo.Rows %d, file says %d", f.Path, f.Rows, n)
		}
		// A file rolls once it reaches the limit, so only the last may be
		// smaller, and none is much bigger than limit plus one record.
		if i < len(files)-1 && f.Bytes < limit/2 {
			t.Errorf("%s: %d bytes, want about %d", f.Path, f.Bytes, limit)
		}
		rows += f.Rows
		paths = append(paths, p)
	}
	if rows != 40000 {
		t.Errorf("files hold %d rows, want 40000", rows)
	}
	want := tableOf(recs...)
	defer want.Release()
	sameTable(t, parquettest.ReadFiles(t, paths...), want)
}

func TestStaticPartition(t *testing.T) {
	l, root := openLake(t)
	rec := buildMixed(t, 0, 100)
	defer rec.Release()
	files := writeRun(t, l, "hr/public.regions", "20261125T1000-1", lake.StaticPartition("ingestion_date=2026-11-25"), lake.WriterOptions{}, rec)
	want := "hr/public.regions/ingestion_date=2026-11-25/part-20261125T1000-1-00000.parquet"
	if len(files) != 1 || files[0].Path != want {
		t.Fatalf("files = %+v, want %s", files, want)
	}
	got := parquettest.ReadFile(t, filepath.Join(root, want))
	sameTable(t, got, tableOf(rec))

	for _, bad := range []string{"/abs", "a//b", "a/../b", "trailing/", "."} {
		_, err := l.NewRunWriter(context.Background(), "p", "r", rec.Schema(), lake.StaticPartition(bad), lake.WriterOptions{})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("static partition %q", bad)) {
			t.Errorf("StaticPartition(%q): error %v, want one naming it", bad, err)
		}
	}
}

func TestAbortDeletesEverything(t *testing.T) {
	ctx := context.Background()
	l, root := openLake(t)
	part := cityPartition(t)
	w, err := l.NewRunWriter(ctx, "t", "r1", coltype.ArrowSchema(mixedColumns()), part, lake.WriterOptions{FileBytes: 16 << 10, RowGroupRows: 500})
	if err != nil {
		t.Fatal(err)
	}
	for first := 0; first < 20000; first += 2000 {
		rec := buildMixed(t, first, 2000)
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	// Finished files and partial ones (temporary files of open uploads).
	var done, partial int
	for _, f := range filesUnder(t, root) {
		switch {
		case strings.HasSuffix(f, ".parquet"):
			done++
		case strings.HasSuffix(f, ".tmp"):
			partial++
		}
	}
	if done == 0 || partial == 0 {
		t.Fatalf("before Abort: %d finished and %d partial files, want some of each", done, partial)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("abort: %v", err)
	}
	if files := filesUnder(t, root); len(files) != 0 {
		t.Errorf("after Abort the lake holds %v", files)
	}
	if err := w.Write(buildMixed(t, 0, 1)); err == nil || !strings.Contains(err.Error(), "aborted") {
		t.Errorf("Write after Abort: %v, want an error", err)
	}
	if _, err := w.Close(); err == nil {
		t.Errorf("Close after Abort succeeded")
	}
	if err := w.Abort(); err != nil {
		t.Errorf("second Abort: %v", err)
	}
}

func TestAbortAfterClose(t *testing.T) {
	ctx := context.Background()
	l, root := openLake(t)
	rec := buildMixed(t, 0, 5000)
	defer rec.Release()
	w, err := l.NewRunWriter(ctx, "t", "r1", rec.Schema(), nil, lake.WriterOptions{FileBytes: 32 << 10, RowGroupRows: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for off := int64(0); off < 5000; off += 1000 {
		s := rec.NewSlice(off, off+1000)
		if err := w.Write(s); err != nil {
			t.Fatal(err)
		}
		s.Release()
	}
	files, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 || len(filesUnder(t, root)) != len(files) {
		t.Fatalf("Close returned %d files, lake holds %v", len(files), filesUnder(t, root))
	}
	// The commit failed, say: the caller aborts.
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if left := filesUnder(t, root); len(left) != 0 {
		t.Errorf("after Abort the lake holds %v", left)
	}
}

// TestAbortAfterFailedCreate: on a file lake whose run prefix is a regular
// file, creating the run's first file fails ("not a directory"); Abort then
// has nothing to remove, and deleting the never-created object answers
// ENOTDIR, which is "not found", not an error to report.
func TestAbortAfterFailedCreate(t *testing.T) {
	l, root := openLake(t)
	if err := os.WriteFile(filepath.Join(root, "t"), []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := buildMixed(t, 0, 10)
	defer rec.Release()
	w, err := l.NewRunWriter(context.Background(), "t", "r1", rec.Schema(), nil, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Write under a regular file: %v, want the create's error", err)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("Abort after the failed create: %v, want nil (nothing was created)", err)
	}
	if files := filesUnder(t, root); len(files) != 1 || files[0] != "t" {
		t.Errorf("after Abort the lake holds %v, want only the file t", files)
	}
}

// TestAbortErrorSaysEachThingOnce: a file Abort cannot delete (here a
// directory put in its place) is reported once, naming the lake and the
// object (whose name holds the run ID), and nothing twice.
func TestAbortErrorSaysEachThingOnce(t *testing.T) {
	l, root := openLake(t)
	rec := buildMixed(t, 0, 10)
	defer rec.Release()
	w, err := l.NewRunWriter(context.Background(), "t", "r1", rec.Schema(), nil, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	files, err := w.Close()
	if err != nil || len(files) != 1 {
		t.Fatalf("Close: %v, %v", files, err)
	}
	p := filepath.Join(root, filepath.FromSlash(files[0].Path))
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(p, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	err = w.Abort()
	want := "lake file://" + root + ": delete " + files[0].Path + ": remove: directory not empty"
	if err == nil || err.Error() != want {
		t.Errorf("Abort: %v\nwant %s", err, want)
	}
}

// Files are closed in the background: one whose commit fails fails the
// run at the next Write or at Close, which name it, and Abort still removes
// everything the run wrote.
func TestBackgroundCloseFails(t *testing.T) {
	l, root := openLake(t)
	// The first file cannot be committed: a directory has its name.
	if err := os.MkdirAll(filepath.Join(root, "t", "part-r1-00000.parquet"), 0o700); err != nil {
		t.Fatal(err)
	}
	w, err := l.NewRunWriter(context.Background(), "t", "r1", coltype.ArrowSchema(mixedColumns()), nil, lake.WriterOptions{FileBytes: 16 << 10, RowGroupRows: 500})
	if err != nil {
		t.Fatal(err)
	}
	writes := 0
	for first := 0; first < 40000 && err == nil; first += 2000 {
		rec := buildMixed(t, first, 2000)
		err = w.Write(rec)
		rec.Release()
		writes++
	}
	if err == nil {
		_, err = w.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "t/part-r1-00000.parquet") {
		t.Fatalf("after %d writes: %v, want the failed close of t/part-r1-00000.parquet", writes, err)
	}
	t.Logf("after %d writes: %v", writes, err)
	if err := w.Write(buildMixed(t, 0, 1)); err == nil {
		t.Errorf("Write after the failure succeeded")
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("abort: %v", err)
	}
	if left := filesUnder(t, root); len(left) != 0 {
		t.Errorf("after Abort the lake holds %v", left)
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	l, root := openLake(t)
	rec := buildMixed(t, 0, 1000)
	defer rec.Release()
	w, err := l.NewRunWriter(ctx, "t", "r1", rec.Schema(), nil, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := w.Write(rec); !errors.Is(err, context.Canceled) {
		t.Errorf("Write after cancel: %v, want context.Canceled", err)
	}
	if err := w.Abort(); err != nil { // runs although ctx is cancelled
		t.Fatal(err)
	}
	if left := filesUnder(t, root); len(left) != 0 {
		t.Errorf("after Abort the lake holds %v", left)
	}
}

func TestRunWriterErrors(t *testing.T) {
	ctx := context.Background()
	l, root := openLake(t)
	sc := coltype.ArrowSchema(mixedColumns())
	cases := []struct {
		prefix, runID string
		opts          lake.WriterOptions
		want          string
	}{
		{"p", "", lake.WriterOptions{}, "run ID is empty"},
		{"p", "a/b", lake.WriterOptions{}, `run ID "a/b"`},
		{"/abs", "r", lake.WriterOptions{}, `prefix "/abs"`},
		{"p", "r", lake.WriterOptions{Compression: "brotli"}, `compression "brotli"`},
		{"p", "r", lake.WriterOptions{RowGroupRows: -1}, "row group rows -1"},
		{"p", "r", lake.WriterOptions{FileBytes: -5}, "file bytes -5"},
	}
	for _, c := range cases {
		_, err := l.NewRunWriter(ctx, c.prefix, c.runID, sc, nil, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewRunWriter(%q, %q, %+v): error %v, want one containing %q", c.prefix, c.runID, c.opts, err, c.want)
		}
	}

	w, err := l.NewRunWriter(ctx, "p", "r", sc, nil, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other := buildRecord(t, everyKind(), 3, 1)
	defer other.Release()
	err = w.Write(other)
	if err == nil || !strings.Contains(err.Error(), `run r under "p": record schema`) {
		t.Errorf("Write with another schema: %v, want a schema mismatch naming the run", err)
	}
	if _, err := w.Close(); err == nil {
		t.Errorf("Close after a failed Write succeeded")
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}

	// No rows, no files.
	w, err = l.NewRunWriter(ctx, "p", "empty", sc, nil, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	empty := buildMixed(t, 0, 0)
	defer empty.Release()
	if err := w.Write(empty); err != nil {
		t.Fatal(err)
	}
	files, err := w.Close()
	if err != nil || len(files) != 0 {
		t.Errorf("empty run: Close = %v, %v; want no files", files, err)
	}
	if _, err := w.Close(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("second Close: %v, want a closed error", err)
	}
	if left := filesUnder(t, root); len(left) != 0 {
		t.Errorf("lake holds %v, want nothing", left)
	}
}

// Memory stays bounded by the row group, not the run: after 40 writes of
// 50,000 rows (~100 MB of Parquet in one file) the live heap is about what
// it was after 10.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ~100 MB")
	}
	l, root := openLake(t)
	rec := buildMixed(t, 0, 50000)
	defer rec.Release()
	w, err := l.NewRunWriter(context.Background(), "big", "r", rec.Schema(), nil, lake.WriterOptions{RowGroupRows: 50000, FileBytes: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC() // the second empties sync.Pool victim caches (zstd encoders)
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var at10 uint64
	for i := 1; i <= 40; i++ {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			at10 = heap()
		}
	}
	at40 := heap()
	files, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Rows != 2000000 || files[0].Bytes < 60<<20 {
		t.Fatalf("files %+v, want one file of 2,000,000 rows and over 60 MB", files)
	}
	if at40 > at10+24<<20 {
		t.Errorf("live heap grew from %d MB after 10 writes to %d MB after 40 (file %d MB): the writer holds data beyond a row group",
			at10>>20, at40>>20, files[0].Bytes>>20)
	}
	t.Logf("live heap %d MB after 10 writes, %d MB after 40; file %d MB", at10>>20, at40>>20, files[0].Bytes>>20)
	if got := parquettest.RowGroupRows(t, filepath.Join(root, files[0].Path)); len(got) != 40 {
		t.Errorf("%d row groups, want 40", len(got))
	}
}

// Dictionaries stay on low-cardinality columns and go from the others;
// high-cardinality text is DELTA_BYTE_ARRAY, 64-bit integers and decimals of
// 10 to 18 digits (stored as INT64) are delta-packed.
func TestDictionaryPolicy(t *testing.T) {
	l, root := openLake(t)
	rec := buildMixed(t, 0, 20000)
	defer rec.Release()
	files := writeRun(t, l, "dict", "r", nil, lake.WriterOptions{}, rec)
	rg := parquettest.Metadata(t, filepath.Join(root, files[0].Path)).RowGroup(0)
	want := map[string]bool{
		"city": true, "qty": true, "day": true, // 10 or 1,000 distinct values
		"descr": false, "id": false, "created": false, "score": false, // all distinct
		"ref": false, "doc": false, // UUID and JSON: never tried
	}
	for i := 0; i < rg.NumColumns(); i++ {
		cc, err := rg.ColumnChunk(i)
		if err != nil {
			t.Fatal(err)
		}
		name := cc.PathInSchema().String()
		if w, ok := want[name]; ok && cc.HasDictionaryPage() != w {
			t.Errorf("column %s: dictionary page %v, want %v", name, cc.HasDictionaryPage(), w)
		}
		// 64-bit integers, timestamps and decimal(12,2), ordered or not,
		// are delta-packed.
		delta := slices.Contains(cc.Encodings(), parquet.Encodings.DeltaBinaryPacked)
		if wantDelta := name == "id" || name == "created" || name == "updated" || name == "amount"; delta != wantDelta {
			t.Errorf("column %s: encodings %v, DELTA_BINARY_PACKED wanted: %v", name, cc.Encodings(), wantDelta)
		}
		if name == "amount" && cc.Type() != parquet.Types.Int64 {
			t.Errorf("column amount: physical type %s, want INT64", cc.Type())
		}
		// Text that would lose its dictionary is DELTA_BYTE_ARRAY.
		dba := slices.Contains(cc.Encodings(), parquet.Encodings.DeltaByteArray)
		if wantDBA := name == "descr"; dba != wantDBA {
			t.Errorf("column %s: encodings %v, DELTA_BYTE_ARRAY wanted: %v", name, cc.Encodings(), wantDBA)
		}
		// Statistics everywhere (arrow-go reports none for JSON whether
		// written or not: TestStatisticsNotForJSON checks that they are not).
		if stats, err := cc.StatsSet(); err != nil || !stats && name != "doc" {
			t.Errorf("column %s: statistics %v (%v), want them", name, stats, err)
		}
	}
}

// 32-bit columns whose values step (a serial int4 key, an int2, a date a
// day apart, a decimal(9,2) of cents, with NULLs and negative steps) are
// delta-packed and read back exactly; one of few random values keeps its
// dictionary.
func TestDeltaPacked32BitColumns(t *testing.T) {
	l, root := openLake(t)
	cols := []coltype.Column{
		{Name: "key", Kind: coltype.Int32},
		{Name: "small", Kind: coltype.Int16, Nullable: true},
		{Name: "day", Kind: coltype.Date, Nullable: true},
		{Name: "cents", Kind: coltype.Decimal, Precision: 9, Scale: 2, Nullable: true},
		{Name: "status", Kind: coltype.Int32},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var recs []arrow.RecordBatch
	for first := 0; first < 30000; first += 10000 {
		rb := array.NewRecordBuilder(memory.DefaultAllocator, coltype.ArrowSchema(cols))
		for i := first; i < first+10000; i++ {
			key := int32(i) - 15000
			switch i {
			case 12345, 12347: // steps that wrap around in 32 bits
				key = math.MaxInt32
			case 12346:
				key = math.MinInt32
			}
			rb.Field(0).(*array.Int32Builder).Append(key)
			if i%7 == 0 {
				rb.Field(1).AppendNull()
				rb.Field(2).AppendNull()
				rb.Field(3).AppendNull()
			} else {
				rb.Field(1).(*array.Int16Builder).Append(int16(i % 30000))
				rb.Field(2).(*array.Date32Builder).Append(arrow.Date32(20000 - i%3650))
				rb.Field(3).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i)*3 - 40000))
			}
			rb.Field(4).(*array.Int32Builder).Append(rng.Int32N(5))
		}
		recs = append(recs, rb.NewRecordBatch())
		rb.Release()
	}
	for _, r := range recs {
		defer r.Release()
	}
	files := writeRun(t, l, "delta32", "r", nil, lake.WriterOptions{RowGroupRows: 16384}, recs...)
	path := filepath.Join(root, files[0].Path)
	want := tableOf(recs...)
	defer want.Release()
	sameTable(t, parquettest.ReadFile(t, path), want)
	// DuckDB (another reader of DELTA_BINARY_PACKED) reads the same values.
	var sumKey, sumSmall, sumDay, sumCents, nulls int64
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			sumKey += int64(r.Column(0).(*array.Int32).Value(i))
			if r.Column(1).IsNull(i) {
				nulls++
				continue
			}
			sumSmall += int64(r.Column(1).(*array.Int16).Value(i))
			sumDay += int64(r.Column(2).(*array.Date32).Value(i))
			sumCents += int64(r.Column(3).(*array.Decimal128).Value(i).LowBits())
		}
	}
	got := duckread.Strings(t, duckread.Open(t), `SELECT (sum(key::BIGINT) || ' ' || sum(small) || ' ' || sum(day - DATE '1970-01-01')
		|| ' ' || sum((cents * 100)::BIGINT) || ' ' || count(*) FILTER (WHERE small IS NULL)) FROM read_parquet(?)`, path)
	if want := fmt.Sprintf("%d %d %d %d %d", sumKey, sumSmall, sumDay, sumCents, nulls); *got[0][0] != want {
		t.Errorf("DuckDB read sums and NULLs %s, want %s", *got[0][0], want)
	}
	md := parquettest.Metadata(t, path)
	for g := 0; g < md.NumRowGroups(); g++ {
		for i := 0; i < len(cols); i++ {
			cc, err := md.RowGroup(g).ColumnChunk(i)
			if err != nil {
				t.Fatal(err)
			}
			delta := slices.Contains(cc.Encodings(), parquet.Encodings.DeltaBinaryPacked)
			if want := cols[i].Name != "status"; delta != want || cc.HasDictionaryPage() == want {
				t.Errorf("row group %d column %s: encodings %v, dictionary page %v; delta-packed wanted: %v",
					g, cols[i].Name, cc.Encodings(), cc.HasDictionaryPage(), want)
			}
		}
	}
}

// Streams of one run write at once into the same partitions and never
// share a file name; every row is read back once.
func TestStreamsShareFileNumbers(t *testing.T) {
	ctx := context.Background()
	l, root := openLake(t)
	w, err := l.NewRunWriter(ctx, "t", "r1", coltype.ArrowSchema(mixedColumns()), lake.StaticPartition("d=1"), lake.WriterOptions{FileBytes: 16 << 10, RowGroupRows: 500})
	if err != nil {
		t.Fatal(err)
	}
	writers := []*lake.RunWriter{w, w.Stream(), w.Stream()}
	errs := make(chan error, len(writers))
	for i, sw := range writers {
		go func() {
			for first := i * 6000; first < (i+1)*6000; first += 2000 {
				rec := buildMixed(t, first, 2000)
				err := sw.Write(rec)
				rec.Release()
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var paths []string
	var rows int64
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, sw := range writers {
		files, err := sw.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			paths = append(paths, f.Path)
			rows += f.Rows
		}
	}
	slices.Sort(paths)
	if len(slices.Compact(slices.Clone(paths))) != len(paths) || len(paths) < 3 {
		t.Fatalf("file names %v: want several, none twice", paths)
	}
	if n := len(filesUnder(t, root)); n != len(paths) || rows != 18000 {
		t.Errorf("%d files on disk for %d written; %d rows, want 18000", n, len(paths), rows)
	}
}
