package lake_test

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/lake/parquettest"
)

func TestEscapePathName(t *testing.T) {
	cases := map[string]string{
		"plain":          "plain",
		"a/b":            "a%2Fb",
		"k=v":            "k%3Dv",
		"with space":     "with space",
		"日本語":            "日本語",
		"50%":            "50%25",
		"x:y?z*#'\"":     "x%3Ay%3Fz%2A%23%27%22",
		`back\slash`:     "back%5Cslash",
		"{[^]}":          "%7B%5B%5E%5D}",
		"tab\tnl\n\x7f":  "tab%09nl%0A%7F",
		"bad\xffutf8":    "bad%FFutf8",
		"2024-03-01 10:": "2024-03-01 10%3A",
	}
	for in, want := range cases {
		if got := lake.EscapePathName(in); got != want {
			t.Errorf("EscapePathName(%q) = %q, want %q", in, got, want)
		}
		if got := lake.UnescapePathName(lake.EscapePathName(in)); got != in {
			t.Errorf("UnescapePathName(EscapePathName(%q)) = %q", in, got)
		}
	}
}

// keyedRecord has an int "n" and a nullable string "k" (nil = NULL).
func keyedRecord(keys []*string) arrow.RecordBatch {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "n", Type: arrow.PrimitiveTypes.Int64},
		{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer rb.Release()
	for i, k := range keys {
		rb.Field(0).(*array.Int64Builder).Append(int64(i))
		if k == nil {
			rb.Field(1).AppendNull()
		} else {
			rb.Field(1).(*array.StringBuilder).Append(*k)
		}
	}
	return rb.NewRecordBatch()
}

func TestColumnPartitionWeirdValues(t *testing.T) {
	l, root := openLake(t)
	s := func(v string) *string { return &v }
	// Runs of equal keys, keys coming back later, NULL and "" sharing the
	// default partition.
	keys := []*string{s("a/b"), s("a/b"), s("x=y"), nil, s("with space"), s("日本"), s(""), s("a/b"), s("50%"), nil, s("x=y")}
	rec := keyedRecord(keys)
	defer rec.Release()
	part, err := lake.ColumnPartition("k")
	if err != nil {
		t.Fatal(err)
	}
	files := writeRun(t, l, "db/t", "r1", part, lake.WriterOptions{}, rec)

	wantDirs := map[string][]int64{ // dir → values of n
		"k=a%2Fb":                      {0, 1, 7},
		"k=x%3Dy":                      {2, 10},
		"k=__HIVE_DEFAULT_PARTITION__": {3, 6, 9},
		"k=with space":                 {4},
		"k=日本":                         {5},
		"k=50%25":                      {8},
	}
	if len(files) != len(wantDirs) {
		t.Fatalf("wrote %d files, want one per partition (%d): %+v", len(files), len(wantDirs), files)
	}
	for _, f := range files {
		dir := path.Dir(strings.TrimPrefix(f.Path, "db/t/"))
		want, ok := wantDirs[dir]
		if !ok {
			t.Errorf("unexpected file %s", f.Path)
			continue
		}
		if path.Base(f.Path) != "part-r1-00000.parquet" {
			t.Errorf("file %s: want part-r1-00000.parquet in each partition", f.Path)
		}
		tbl := parquettest.ReadFile(t, filepath.Join(root, filepath.FromSlash(f.Path)))
		if tbl.NumCols() != 1 || tbl.Schema().Field(0).Name != "n" {
			t.Errorf("%s: schema %s, want only n (the partition column lives in the directory name)", f.Path, tbl.Schema())
		}
		var got []int64
		for _, row := range parquettest.Rows(t, tbl) {
			got = append(got, row[0].(int64))
		}
		if !slices.Equal(got, want) || f.Rows != int64(len(want)) {
			t.Errorf("%s holds n=%v (FileInfo.Rows %d), want %v", f.Path, got, f.Rows, want)
		}
	}
	// The directory names on disk are the escaped ones.
	for dir := range wantDirs {
		if st, err := os.Stat(filepath.Join(root, "db", "t", dir)); err != nil || !st.IsDir() {
			t.Errorf("directory %s: %v", dir, err)
		}
	}
	if got := len(filesUnder(t, root)); got != len(wantDirs) {
		t.Errorf("lake holds %d files, want %d", got, len(wantDirs))
	}
}

func TestColumnPartitionTypes(t *testing.T) {
	l, _ := openLake(t)
	u := uuid.MustParse("0f8fad5b-d9cb-469f-a165-70867728950e")
	ts := time.Date(2024, 3, 1, 10, 0, 0, 123456000, time.UTC)
	cases := []struct {
		col  coltype.Column
		add  func(b array.Builder)
		want string
	}{
		{coltype.Column{Name: "d", Kind: coltype.Date}, func(b array.Builder) {
			b.(*array.Date32Builder).Append(arrow.Date32FromTime(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)))
		}, "d=2026-11-25"},
		{coltype.Column{Name: "i", Kind: coltype.Int32}, func(b array.Builder) { b.(*array.Int32Builder).Append(-42) }, "i=-42"},
		{coltype.Column{Name: "flag", Kind: coltype.Bool}, func(b array.Builder) { b.(*array.BooleanBuilder).Append(true) }, "flag=true"},
		{coltype.Column{Name: "amt", Kind: coltype.Decimal, Precision: 10, Scale: 2}, func(b array.Builder) {
			b.(*array.Decimal128Builder).Append(decimal128.FromI64(-1250))
		}, "amt=-12.50"},
		{coltype.Column{Name: "f", Kind: coltype.Float64}, func(b array.Builder) { b.(*array.Float64Builder).Append(0.1) }, "f=0.1"},
		{coltype.Column{Name: "ts", Kind: coltype.TimestampTZ}, func(b array.Builder) {
			v, _ := arrow.TimestampFromTime(ts, arrow.Microsecond)
			b.(*array.TimestampBuilder).Append(v)
		}, "ts=2024-03-01 10%3A00%3A00.123456"},
		{coltype.Column{Name: "u", Kind: coltype.UUID}, func(b array.Builder) { b.(*extensions.UUIDBuilder).Append(u) }, "u=0f8fad5b-d9cb-469f-a165-70867728950e"},
		{coltype.Column{Name: "Mixed Case/Col", Kind: coltype.Int16}, func(b array.Builder) { b.(*array.Int16Builder).Append(7) }, "Mixed Case%2FCol=7"},
	}
	for i, c := range cases {
		cols := []coltype.Column{c.col, {Name: "v", Kind: coltype.Int64}}
		rb := array.NewRecordBuilder(memory.DefaultAllocator, coltype.ArrowSchema(cols))
		c.add(rb.Field(0))
		rb.Field(1).(*array.Int64Builder).Append(1)
		rec := rb.NewRecordBatch()
		rb.Release()
		part, err := lake.ColumnPartition(c.col.Name)
		if err != nil {
			t.Fatal(err)
		}
		files := writeRun(t, l, "types", fmt.Sprintf("r%d", i), part, lake.WriterOptions{}, rec)
		rec.Release()
		if len(files) != 1 || path.Dir(files[0].Path) != "types/"+c.want {
			t.Errorf("%s column: files %+v, want one in types/%s", c.col.Kind, files, c.want)
		}
	}
}

func TestColumnPartitionErrors(t *testing.T) {
	l, _ := openLake(t)
	sc := coltype.ArrowSchema(everyKind())
	for col, want := range map[string]string{
		"bin":     `partition column "bin" has type binary, which cannot be a partition value`,
		"j":       `partition column "j" has type extension<arrow.json[storage_type=utf8]>, which cannot be a partition value`,
		"missing": `partition column "missing" is not in the schema`,
	} {
		part, err := lake.ColumnPartition(col)
		if err != nil {
			t.Fatal(err)
		}
		_, err = l.NewRunWriter(context.Background(), "p", "r", sc, part, lake.WriterOptions{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("partition by %s: error %v, want %q", col, err, want)
		}
	}
	if _, err := lake.ColumnPartition(""); err == nil {
		t.Errorf("ColumnPartition(\"\") succeeded")
	}
}

// With MaxOpenFiles below the number of partitions and more rows than
// BufferBytes holds, the least recently written file is closed and its
// partition continues in a new file.
func TestColumnPartitionMaxOpenFiles(t *testing.T) {
	l, root := openLake(t)
	s := func(v string) *string { return &v }
	var keys []*string
	for i := 0; i < 30; i++ {
		keys = append(keys, s([]string{"a", "b", "c"}[i%3]))
	}
	rec := keyedRecord(keys)
	defer rec.Release()
	part, err := lake.ColumnPartition("k")
	if err != nil {
		t.Fatal(err)
	}
	// One record per ten rows, and every held row beyond BufferBytes.
	var recs []arrow.RecordBatch
	for i := int64(0); i < 30; i += 10 {
		r := rec.NewSlice(i, i+10)
		defer r.Release()
		recs = append(recs, r)
	}
	files := writeRun(t, l, "lru", "r", part, lake.WriterOptions{MaxOpenFiles: 2, BufferBytes: 1}, recs...)
	var rows int64
	perDir := map[string][]string{}
	for _, f := range files {
		rows += f.Rows
		perDir[path.Dir(f.Path)] = append(perDir[path.Dir(f.Path)], path.Base(f.Path))
		if n := parquettest.Metadata(t, filepath.Join(root, f.Path)).NumRows; n != f.Rows {
			t.Errorf("%s: %d rows, FileInfo says %d", f.Path, n, f.Rows)
		}
	}
	if rows != 30 {
		t.Errorf("files hold %d rows, want 30", rows)
	}
	reopened := 0
	for dir, names := range perDir {
		for i, name := range names {
			if want := fmt.Sprintf("part-r-%05d.parquet", i); name != want {
				t.Errorf("%s: files %v, want part-r-00000, part-r-00001, ...", dir, names)
				break
			}
		}
		if len(names) > 1 {
			reopened++
		}
	}
	if reopened == 0 {
		t.Errorf("no partition continued in a new file: %v", perDir)
	}
}

// Rows whose partition value is not clustered (a day column of a table in
// id order) over more partitions than MaxOpenFiles: every partition gets
// one file, with its rows in their order, as long as BufferBytes holds
// them. Before, each row of such a table became a file of its own.
func TestColumnPartitionUnclustered(t *testing.T) {
	l, root := openLake(t)
	s := func(v string) *string { return &v }
	const parts, rows = 7, 700
	var keys []*string
	for i := 0; i < rows; i++ {
		keys = append(keys, s(fmt.Sprintf("p%d", i%parts)))
	}
	rec := keyedRecord(keys)
	defer rec.Release()
	var recs []arrow.RecordBatch
	for i := int64(0); i < rows; i += 100 {
		r := rec.NewSlice(i, i+100)
		defer r.Release()
		recs = append(recs, r)
	}
	part, err := lake.ColumnPartition("k")
	if err != nil {
		t.Fatal(err)
	}
	files := writeRun(t, l, "unclustered", "r", part, lake.WriterOptions{MaxOpenFiles: 3}, recs...)
	if len(files) != parts {
		t.Fatalf("%d files, want one per partition (%d): %v", len(files), parts, files)
	}
	for _, f := range files {
		p := strings.TrimPrefix(path.Base(path.Dir(f.Path)), "k=p")
		k, err := strconv.Atoi(p)
		if err != nil {
			t.Fatalf("%s: unexpected directory", f.Path)
		}
		tbl := parquettest.ReadFile(t, filepath.Join(root, filepath.FromSlash(f.Path)))
		got := parquettest.Rows(t, tbl)
		tbl.Release()
		if len(got) != rows/parts {
			t.Errorf("%s: %d rows, want %d", f.Path, len(got), rows/parts)
		}
		for i, row := range got {
			if want := int64(k + i*parts); row[0] != want {
				t.Errorf("%s: row %d has n=%v, want %d (rows out of order or in the wrong partition)", f.Path, i, row[0], want)
				break
			}
		}
	}
}

// A partition's held rows that fill its file (FileBytes) as it opens do
// not close it under the rows that opened it: here "b" waits while "a" has
// the only open file, "a" then fills its file, and the next row of "b"
// opens one, into which its ten held rows go first. The held rows were
// once written on their own, and the row that opened the file then went
// to a closed file ("WriteBuffered called on already closed FileWriter").
func TestColumnPartitionHeldRowsFillFile(t *testing.T) {
	l, root := openLake(t)
	s := func(v string) *string { return &v }
	var keys []*string
	add := func(k string, n int) {
		for range n {
			keys = append(keys, s(k))
		}
	}
	add("a", 1)
	add("b", 10)
	add("a", 10)
	add("b", 1)
	rec := keyedRecord(keys)
	defer rec.Release()
	var recs []arrow.RecordBatch
	for _, r := range [][2]int64{{0, 1}, {1, 11}, {11, 21}, {21, 22}} {
		r := rec.NewSlice(r[0], r[1])
		defer r.Release()
		recs = append(recs, r)
	}
	part, err := lake.ColumnPartition("k")
	if err != nil {
		t.Fatal(err)
	}
	// A row group per row: a file of one row is under FileBytes, one of
	// ten is over.
	opts := lake.WriterOptions{MaxOpenFiles: 1, RowGroupRows: 1, FileBytes: 100}
	files := writeRun(t, l, "heldfill", "r", part, opts, recs...)
	var got []int64
	for _, f := range files {
		if !strings.Contains(f.Path, "/k=b/") {
			continue
		}
		tbl := parquettest.ReadFile(t, filepath.Join(root, filepath.FromSlash(f.Path)))
		rows := parquettest.Rows(t, tbl)
		tbl.Release()
		if int64(len(rows)) != f.Rows {
			t.Errorf("%s: %d rows, FileInfo says %d", f.Path, len(rows), f.Rows)
		}
		for _, row := range rows {
			got = append(got, row[0].(int64))
		}
	}
	want := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 21}
	if !slices.Equal(got, want) {
		t.Errorf("rows of k=b: n = %v, want %v (files %v)", got, want, files)
	}
}
