package lake

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/wharf-data/wharf/internal/coltype"
)

// TestFlatWriterMatchesPqarrow writes the same records, sliced and split
// across row groups, with flatWriter and pqarrow.FileWriter: the files
// must be byte for byte the same. The columns are the flat Arrow types
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
	if !flatSchema(schema) {
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
	if !bytes.Equal(got, want) {
		t.Fatalf("flatWriter wrote %d bytes, pqarrow %d: not the same file", len(got), len(want))
	}
	t.Logf("%d identical bytes", len(got))
}

func TestFlatSchema(t *testing.T) {
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
		if got := flatSchema(s); got != c.flat {
			t.Errorf("%s: flat %v, want %v", c.t, got, c.flat)
		}
	}
}
