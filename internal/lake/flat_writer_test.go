package lake

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/wharf-data/wharf/internal/coltype"
)

// TestFlatWriterMatchesPqarrow writes the same records, sliced and split
// across row groups, with flatWriter and pqarrow.FileWriter: the files
// must hold the same content (sameParquet). The columns are the flat Arrow types
// wharf's sources emit (coltype.Column.ArrowType), nullable and not.
func TestFlatWriterMatchesPqarrow(t *testing.T) {
	jsonType := coltype.Column{Kind: coltype.JSON}.ArrowType()
	md := arrow.NewMetadata([]string{"k"}, []string{"v"})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "some_null", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "no_null", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "all_null", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "flag_req", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "amount", Type: &arrow.Decimal128Type{Precision: 12, Scale: 2}, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "u", Type: extensions.NewUUIDType(), Nullable: true},
		{Name: "j", Type: jsonType, Nullable: true},
		{Name: "small", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32},
		{Name: "raw", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "at", Type: arrow.FixedWidthTypes.Time64us, Nullable: true},
		{Name: "local", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
		{Name: "wide", Type: &arrow.Decimal128Type{Precision: 38, Scale: 10}, Nullable: true},
	}, &md)
	if !flatWriterFits(schema, parquet.NewWriterProperties()) {
		t.Fatal("schema not flat")
	}
	build := func(seed uint64, n int) arrow.RecordBatch {
		rng := rand.New(rand.NewPCG(seed, 1))
		rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer rb.Release()
		for r := 0; r < n; r++ {
			rb.Field(0).(*array.Int64Builder).Append(int64(seed)*1e6 + int64(r))
			if rng.IntN(4) == 0 {
				rb.Field(1).AppendNull()
			} else {
				rb.Field(1).(*array.Int32Builder).Append(int32(rng.IntN(100)))
			}
			rb.Field(2).(*array.Int32Builder).Append(int32(rng.IntN(1e6)))
			rb.Field(3).AppendNull()
			if rng.IntN(3) == 0 {
				rb.Field(4).AppendNull()
			} else {
				rb.Field(4).(*array.StringBuilder).Append(fmt.Sprintf("customer %d", rng.IntN(1e5)))
			}
			if rng.IntN(5) == 0 {
				rb.Field(5).AppendNull()
			} else {
				rb.Field(5).(*array.BooleanBuilder).Append(rng.IntN(2) == 0)
			}
			rb.Field(6).(*array.BooleanBuilder).Append(rng.IntN(2) == 0)
			if rng.IntN(7) == 0 {
				rb.Field(7).AppendNull()
			} else {
				rb.Field(7).(*array.Decimal128Builder).Append(decimal128.FromI64(rng.Int64N(1e10)))
			}
			rb.Field(8).(*array.TimestampBuilder).Append(arrow.Timestamp(rng.Int64N(1e15)))
			rb.Field(9).(*array.Float64Builder).Append(rng.Float64())
			if rng.IntN(2) == 0 {
				rb.Field(10).AppendNull()
			} else {
				var u [16]byte
				for i := range u {
					u[i] = byte(rng.IntN(256))
				}
				rb.Field(10).(*extensions.UUIDBuilder).Append(u)
			}
			rb.Field(11).(*array.ExtensionBuilder).StorageBuilder().(*array.StringBuilder).Append(fmt.Sprintf(`{"n":%d}`, rng.IntN(100)))
			if null := rng.IntN(6) == 0; null {
				for f := 12; f < len(rb.Fields()); f++ {
					if f != 13 { // f32 is required
						rb.Field(f).AppendNull()
					}
				}
				rb.Field(13).(*array.Float32Builder).Append(rng.Float32())
				continue
			}
			rb.Field(12).(*array.Int16Builder).Append(int16(rng.IntN(1000)))
			rb.Field(13).(*array.Float32Builder).Append(rng.Float32())
			rb.Field(14).(*array.BinaryBuilder).Append([]byte(fmt.Sprintf("\x00%d", rng.IntN(50))))
			rb.Field(15).(*array.Date32Builder).Append(arrow.Date32(rng.IntN(20000)))
			rb.Field(16).(*array.Time64Builder).Append(arrow.Time64(rng.Int64N(86400e6)))
			rb.Field(17).(*array.TimestampBuilder).Append(arrow.Timestamp(rng.Int64N(1e15)))
			rb.Field(18).(*array.Decimal128Builder).Append(decimal128.FromI64(rng.Int64N(1e18)))
		}
		return rb.NewRecordBatch()
	}
	var recs []arrow.RecordBatch
	// 3000+72 rows fill the second row group exactly: the next record starts
	// with an empty range.
	for i, n := range []int{3000, 72, 1, 2500, 700, 5000} {
		rec := build(uint64(i), n)
		defer rec.Release()
		recs = append(recs, rec)
	}
	// A slice with an offset that is not a multiple of 8.
	sl := recs[5].NewSlice(13, 4013)
	defer sl.Release()
	recs = append(recs, sl)

	opts := WriterOptions{RowGroupRows: 1024}.WithDefaults()
	write := func(flat bool) []byte {
		props, arrowProps, err := opts.parquetProperties(schema, recs[0], memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		var w parquetWriter
		if flat {
			w, err = newFlatWriter(schema, &buf, props, arrowProps)
		} else {
			w, err = pqarrow.NewFileWriter(schema, &buf, props, arrowProps)
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, rec := range recs {
			if i == 3 {
				if err := w.NewBufferedRowGroupChecked(); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.WriteBuffered(rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	want, got := write(false), write(true)
	sameParquet(t, got, want, 0.01)
}

// sameParquet fails t unless the Parquet files got (flatWriter's) and want
// (pqarrow's) hold the same schema, key/value metadata, row groups, values
// and, per column chunk, the same codec, encodings, value count and
// statistics, and are within tolerance (a fraction) of each other's size. (They are not the
// same bytes: ownColumn cuts pages and encodes definition levels in its
// own way.)
func sameParquet(t *testing.T, got, want []byte, tolerance float64) {
	t.Helper()
	open := func(b []byte) *file.Reader {
		r, err := file.NewParquetReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	g, w := open(got), open(want)
	gm, wm := g.MetaData(), w.MetaData()
	if !gm.Schema.Equals(wm.Schema) {
		t.Fatalf("schema %s, want %s", gm.Schema, wm.Schema)
	}
	if !gm.KeyValueMetadata().Equals(wm.KeyValueMetadata()) {
		t.Errorf("key/value metadata differ")
	}
	if gm.NumRowGroups() != wm.NumRowGroups() {
		t.Fatalf("%d row groups, want %d", gm.NumRowGroups(), wm.NumRowGroups())
	}
	for r := 0; r < gm.NumRowGroups(); r++ {
		grg, wrg := gm.RowGroup(r), wm.RowGroup(r)
		if grg.NumRows() != wrg.NumRows() {
			t.Fatalf("row group %d: %d rows, want %d", r, grg.NumRows(), wrg.NumRows())
		}
		for c := 0; c < grg.NumColumns(); c++ {
			gc, err := grg.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			wc, err := wrg.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			name := gm.Schema.Column(c).Path()
			if gc.Compression() != wc.Compression() || gc.NumValues() != wc.NumValues() {
				t.Errorf("row group %d column %s: codec %s, %d values; want %s, %d", r, name, gc.Compression(), gc.NumValues(), wc.Compression(), wc.NumValues())
			}
			if fmt.Sprint(gc.Encodings()) != fmt.Sprint(wc.Encodings()) {
				t.Errorf("row group %d column %s: encodings %v, want %v", r, name, gc.Encodings(), wc.Encodings())
			}
			gs, gerr := gc.StatsSet()
			ws, werr := wc.StatsSet()
			if gerr != nil || werr != nil || gs != ws {
				t.Errorf("row group %d column %s: statistics set %v (%v), want %v (%v)", r, name, gs, gerr, ws, werr)
				continue
			}
			if !gs {
				continue
			}
			gst, _ := gc.Statistics()
			wst, _ := wc.Statistics()
			ge, _ := gst.Encode()
			we, _ := wst.Encode()
			if !bytes.Equal(ge.Min, we.Min) || !bytes.Equal(ge.Max, we.Max) || ge.HasMin != we.HasMin || ge.HasMax != we.HasMax ||
				ge.NullCount != we.NullCount || ge.HasNullCount != we.HasNullCount {
				t.Errorf("row group %d column %s: statistics %+v, want %+v", r, name, ge, we)
			}
		}
	}
	read := func(r *file.Reader) arrow.Table {
		fr, err := pqarrow.NewFileReader(r, pqarrow.ArrowReadProperties{BatchSize: 1 << 10}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return tbl
	}
	gt, wt := read(g), read(w)
	defer gt.Release()
	defer wt.Release()
	if !gt.Schema().Equal(wt.Schema()) {
		t.Fatalf("read back as %s, want %s", gt.Schema(), wt.Schema())
	}
	for c := 0; c < int(gt.NumCols()); c++ {
		if !array.ChunkedEqual(gt.Column(c).Data(), wt.Column(c).Data()) {
			t.Errorf("column %s: values differ", gt.Schema().Field(c).Name)
		}
	}
	if d := math.Abs(float64(len(got)-len(want))) / float64(len(want)); d > tolerance {
		t.Errorf("file of %d bytes, pqarrow's %d: %.1f%% apart", len(got), len(want), 100*d)
	}
	checkPages(t, got)
	t.Logf("%d bytes, pqarrow %d, same content", len(got), len(want))
}

// checkPages checks every data page of the text, binary, fixed-size
// binary and signed integer columns in file b against the values it holds: its value count,
// and the null count and least and greatest value its statistics give
// (none for a value over the statistics limit). Chunk statistics merge
// pages' and so hide a page whose own are wrong.
func checkPages(t *testing.T, b []byte) {
	t.Helper()
	r, err := file.NewParquetReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for g := 0; g < r.NumRowGroups(); g++ {
		rg := r.RowGroup(g)
		for c := 0; c < rg.NumColumns(); c++ {
			descr := rg.MetaData().Schema.Column(c)
			switch descr.PhysicalType() {
			case parquet.Types.ByteArray, parquet.Types.FixedLenByteArray, parquet.Types.Int32, parquet.Types.Int64:
			default:
				continue
			}
			pr, err := rg.GetColumnPageReader(c)
			if err != nil {
				t.Fatal(err)
			}
			type page struct {
				n     int
				stats metadata.EncodedStatistics
			}
			var pages []page
			for pr.Next() {
				if dp, ok := pr.Page().(file.DataPage); ok {
					st := dp.Statistics()
					st.Min, st.Max = bytes.Clone(st.Min), bytes.Clone(st.Max)
					pages = append(pages, page{int(dp.NumValues()), st})
				}
			}
			if pr.Err() != nil {
				t.Fatal(pr.Err())
			}
			cr, err := rg.Column(c)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range pages {
				where := fmt.Sprintf("row group %d column %s page %d", g, descr.Path(), i)
				defs := make([]int16, p.n)
				// The page's values, plain-encoded as statistics hold them,
				// and the order they sort in.
				var vals [][]byte
				var less func(a, b []byte) bool
				var total int64
				switch cr := cr.(type) {
				case *file.ByteArrayColumnChunkReader:
					vs := make([]parquet.ByteArray, p.n)
					var nv int
					total, nv, err = cr.ReadBatch(int64(p.n), vs, defs, nil)
					for _, v := range vs[:nv] {
						vals = append(vals, v)
					}
					less = func(a, b []byte) bool { return bytes.Compare(a, b) < 0 }
				case *file.FixedLenByteArrayColumnChunkReader:
					vs := make([]parquet.FixedLenByteArray, p.n)
					var nv int
					total, nv, err = cr.ReadBatch(int64(p.n), vs, defs, nil)
					for _, v := range vs[:nv] {
						vals = append(vals, v)
					}
					less = func(a, b []byte) bool { return bytes.Compare(a, b) < 0 }
				case *file.Int32ColumnChunkReader:
					vs := make([]int32, p.n)
					var nv int
					total, nv, err = cr.ReadBatch(int64(p.n), vs, defs, nil)
					for _, v := range vs[:nv] {
						vals = append(vals, binary.LittleEndian.AppendUint32(nil, uint32(v)))
					}
					less = func(a, b []byte) bool {
						return int32(binary.LittleEndian.Uint32(a)) < int32(binary.LittleEndian.Uint32(b))
					}
				case *file.Int64ColumnChunkReader:
					vs := make([]int64, p.n)
					var nv int
					total, nv, err = cr.ReadBatch(int64(p.n), vs, defs, nil)
					for _, v := range vs[:nv] {
						vals = append(vals, binary.LittleEndian.AppendUint64(nil, uint64(v)))
					}
					less = func(a, b []byte) bool {
						return int64(binary.LittleEndian.Uint64(a)) < int64(binary.LittleEndian.Uint64(b))
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				if int(total) != p.n {
					t.Fatalf("%s: read %d values, want the %d its header gives", where, total, p.n)
				}
				// Bytes sort unsigned but for a decimal, integers signed but
				// for an unsigned one.
				bytesLike := descr.PhysicalType() == parquet.Types.ByteArray || descr.PhysicalType() == parquet.Types.FixedLenByteArray
				if bytesLike != (descr.SortOrder() == schema.SortUNSIGNED) {
					continue
				}
				if !p.stats.HasNullCount && !p.stats.HasMin {
					continue // no statistics
				}
				if nulls := int64(p.n - len(vals)); p.stats.NullCount != nulls {
					t.Errorf("%s: null count %d, want %d", where, p.stats.NullCount, nulls)
				}
				var lo, hi []byte
				for k, v := range vals {
					if k == 0 || less(v, lo) {
						lo = v
					}
					if k == 0 || less(hi, v) {
						hi = v
					}
				}
				hasMin := len(vals) > 0 && int64(len(lo)) <= parquet.DefaultMaxStatsSize
				if p.stats.HasMin != hasMin || hasMin && !bytes.Equal(p.stats.Min, lo) {
					t.Errorf("%s: min %v %x, want %v %x", where, p.stats.HasMin, p.stats.Min, hasMin, lo)
				}
				hasMax := len(vals) > 0 && int64(len(hi)) <= parquet.DefaultMaxStatsSize
				if p.stats.HasMax != hasMax || hasMax && !bytes.Equal(p.stats.Max, hi) {
					t.Errorf("%s: max %v %x, want %v %x", where, p.stats.HasMax, p.stats.Max, hasMax, hi)
				}
			}
		}
	}
}

func TestFlatWriterFits(t *testing.T) {
	for _, c := range []struct {
		t    arrow.DataType
		flat bool
	}{
		{arrow.PrimitiveTypes.Int64, true},
		{extensions.NewUUIDType(), true},
		{arrow.ListOf(arrow.PrimitiveTypes.Int32), false},
		{arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32}), false},
		{arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32), false},
		{&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, false},
	} {
		s := arrow.NewSchema([]arrow.Field{{Name: "x", Type: c.t, Nullable: true}}, nil)
		if got := flatWriterFits(s, parquet.NewWriterProperties()); got != c.flat {
			t.Errorf("%s: flat %v, want %v", c.t, got, c.flat)
		}
	}
	// What flatWriter does not write goes to pqarrow: a page index or a
	// bloom filter on any column, encryption.
	s := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}, {Name: "b", Type: arrow.PrimitiveTypes.Int64}}, nil)
	for name, props := range map[string]*parquet.WriterProperties{
		"page index on b":   parquet.NewWriterProperties(parquet.WithPageIndexEnabledFor("b", true)),
		"bloom filter on b": parquet.NewWriterProperties(parquet.WithBloomFilterEnabledFor("b", true)),
		"page index":        parquet.NewWriterProperties(parquet.WithPageIndexEnabled(true)),
	} {
		if flatWriterFits(s, props) {
			t.Errorf("%s: flatWriter fits", name)
		}
	}
}
