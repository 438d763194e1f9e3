// Package parquettest reads Parquet files back in tests, so that tests of
// sources, writers and whole runs can compare what landed with what they
// wrote, value by value, and check the Parquet schema's logical types.
package parquettest

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// ReadFile reads a whole Parquet file into an Arrow table, using the Arrow
// schema stored in the file when there is one (extension types, time
// zones). The table is released when the test ends.
func ReadFile(t testing.TB, path string) arrow.Table {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("open Parquet file %s: %v", path, err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("read Parquet file %s: %v", path, err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("read Parquet file %s: %v", path, err)
	}
	defer tbl.Release()
	out := restore(tbl, fr.Manifest.OriginSchema)
	t.Cleanup(out.Release)
	return out
}

// restore undoes two quirks of pqarrow's reader (arrow-go v18.8.0), so that
// a table read back equals the one written:
//   - a JSON extension column over utf8 (Parquet JSON logical type) comes
//     back as plain binary although the stored Arrow schema says JSON;
//   - every field gets "PARQUET:field_id" = "-1" metadata when the file
//     has no field IDs.
func restore(tbl arrow.Table, origin *arrow.Schema) arrow.Table {
	cols := make([]arrow.Column, tbl.NumCols())
	fields := make([]arrow.Field, tbl.NumCols())
	for i := range cols {
		f := tbl.Schema().Field(i)
		f.Metadata = withoutUnsetFieldID(f.Metadata)
		chunks := tbl.Column(i).Data().Chunks()
		var owned []arrow.Array
		if origin != nil && i < origin.NumFields() && origin.Field(i).Name == f.Name {
			if jt, ok := origin.Field(i).Type.(*extensions.JSONType); ok && f.Type.ID() == arrow.BINARY &&
				jt.StorageType().ID() == arrow.STRING {
				f.Type = jt
				for _, c := range chunks {
					data := array.NewData(arrow.BinaryTypes.String, c.Len(), c.Data().Buffers(), nil, c.NullN(), c.Data().Offset())
					storage := array.MakeFromData(data)
					data.Release()
					owned = append(owned, array.NewExtensionArrayWithStorage(jt, storage))
					storage.Release()
				}
				chunks = owned
			}
		}
		fields[i] = f
		ch := arrow.NewChunked(f.Type, chunks)
		cols[i] = *arrow.NewColumn(f, ch)
		ch.Release()
		for _, a := range owned {
			a.Release()
		}
	}
	md := tbl.Schema().Metadata()
	out := array.NewTable(arrow.NewSchema(fields, &md), cols, tbl.NumRows())
	for i := range cols {
		cols[i].Release()
	}
	return out
}

func withoutUnsetFieldID(md arrow.Metadata) arrow.Metadata {
	if v, ok := md.GetValue("PARQUET:field_id"); !ok || v != "-1" {
		return md
	}
	var keys, values []string
	for i, k := range md.Keys() {
		if k != "PARQUET:field_id" {
			keys = append(keys, k)
			values = append(values, md.Values()[i])
		}
	}
	return arrow.NewMetadata(keys, values)
}

// ReadFiles reads several Parquet files of one schema, in order, into one
// table (one chunk or more per file). At least one path is needed.
func ReadFiles(t testing.TB, paths ...string) arrow.Table {
	t.Helper()
	if len(paths) == 0 {
		t.Fatalf("ReadFiles: no path")
	}
	var sc *arrow.Schema
	cols := [][]arrow.Array{}
	for _, p := range paths {
		tbl := ReadFile(t, p)
		if sc == nil {
			sc = tbl.Schema()
			cols = make([][]arrow.Array, sc.NumFields())
		} else if !sc.Equal(tbl.Schema()) {
			t.Fatalf("ReadFiles: %s has schema %s, want %s", p, tbl.Schema(), sc)
		}
		for i := range cols {
			cols[i] = append(cols[i], tbl.Column(i).Data().Chunks()...)
		}
	}
	chunked := make([]arrow.Column, len(cols))
	for i := range cols {
		ch := arrow.NewChunked(sc.Field(i).Type, cols[i])
		chunked[i] = *arrow.NewColumn(sc.Field(i), ch)
		ch.Release()
	}
	out := array.NewTable(sc, chunked, -1)
	for i := range chunked {
		chunked[i].Release()
	}
	t.Cleanup(out.Release)
	return out
}

// Metadata returns the file's Parquet metadata (row groups, schema,
// key-value metadata, created_by).
func Metadata(t testing.TB, path string) *metadata.FileMetaData {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("open Parquet file %s: %v", path, err)
	}
	defer rdr.Close()
	return rdr.MetaData()
}

// LogicalTypes returns the logical type of every leaf column of the file,
// by column path ("a", or "a.b" for nested fields). Columns without one map
// to schema.NoLogicalType.
func LogicalTypes(t testing.TB, path string) map[string]schema.LogicalType {
	t.Helper()
	md := Metadata(t, path)
	out := map[string]schema.LogicalType{}
	for i := 0; i < md.Schema.NumColumns(); i++ {
		c := md.Schema.Column(i)
		out[c.Path()] = c.LogicalType()
	}
	return out
}

// RowGroupRows returns the number of rows of each row group of the file.
func RowGroupRows(t testing.TB, path string) []int64 {
	t.Helper()
	md := Metadata(t, path)
	out := make([]int64, md.NumRowGroups())
	for i := range out {
		out[i] = md.RowGroup(i).NumRows()
	}
	return out
}

// Rows turns a table into Go values, row by row, for comparison with what
// a source holds. NULL is nil; integers are int64, floats float64 (NaN
// stays NaN); decimals are plain strings with their scale ("12.50"); dates
// "2006-01-02"; times "15:04:05.000000"; timestamps time.Time in UTC;
// UUIDs their 36-character string; JSON its text; bytes []byte; text
// string. Other types come as their Arrow ValueStr.
func Rows(t testing.TB, tbl arrow.Table) [][]any {
	t.Helper()
	n := int(tbl.NumRows())
	rows := make([][]any, n)
	for r := range rows {
		rows[r] = make([]any, tbl.NumCols())
	}
	for c := 0; c < int(tbl.NumCols()); c++ {
		r := 0
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := 0; i < chunk.Len(); i++ {
				rows[r][c] = Value(chunk, i)
				r++
			}
		}
	}
	return rows
}

// Value is one value of an array as Rows describes it.
func Value(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *extensions.UUIDArray:
		return a.Value(i).String()
	case *extensions.JSONArray:
		return a.Storage().(*array.String).Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Uint8:
		return int64(a.Value(i))
	case *array.Uint16:
		return int64(a.Value(i))
	case *array.Uint32:
		return int64(a.Value(i))
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Binary:
		return append([]byte(nil), a.Value(i)...)
	case *array.LargeBinary:
		return append([]byte(nil), a.Value(i)...)
	case *array.FixedSizeBinary:
		return hex.EncodeToString(a.Value(i))
	case *array.Date32:
		return a.Value(i).ToTime().Format(time.DateOnly)
	case *array.Time64:
		return a.Value(i).ToTime(a.DataType().(*arrow.Time64Type).Unit).Format("15:04:05.000000")
	case *array.Timestamp:
		return a.Value(i).ToTime(a.DataType().(*arrow.TimestampType).Unit).UTC()
	}
	return a.ValueStr(i)
}
