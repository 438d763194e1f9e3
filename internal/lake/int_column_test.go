package lake

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/google/uuid"
)

// intValues write what arrow-go's column writer writes for integer,
// date, time, timestamp and decimal columns DELTA_BINARY_PACKED: the same
// values, statistics and encodings (sameParquet), with and without
// compression and statistics, in pages of a few values and of many. The
// values step (keys, event times), cycle, jump at random, hold still, and
// swing from one end of their type to the other, so that deltas wrap and
// miniblocks are as wide as the type; NULLs come in runs and scattered,
// one column is all NULL; records are sliced at odd offsets and split
// across row groups.
func TestIntColumnMatchesArrowGo(t *testing.T) {
	dec12 := &arrow.Decimal128Type{Precision: 12, Scale: 2}
	dec5 := &arrow.Decimal128Type{Precision: 5, Scale: 1}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "i16", Type: arrow.PrimitiveTypes.Int16},
		{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "t32", Type: arrow.FixedWidthTypes.Time32ms},
		{Name: "t64", Type: arrow.FixedWidthTypes.Time64us, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
		{Name: "ts_ns", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}, Nullable: true},
		{Name: "price", Type: dec12, Nullable: true},
		{Name: "small", Type: dec5},
		{Name: "none", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		// Not an integer: fixed-size binary (fixedValues), PLAIN, here for
		// its pages without NULLs.
		{Name: "u", Type: extensions.NewUUIDType()},
	}, nil)
	build := func(seed uint64, n int) arrow.RecordBatch {
		rng := rand.New(rand.NewPCG(seed, 11))
		rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer rb.Release()
		// null: NULL in a run (rows 100-299 of a record) or at random.
		null := func(r int) bool { return (r >= 100 && r < 300) || rng.IntN(5) == 0 }
		for r := range n {
			row := int64(seed)<<20 + int64(r)
			rb.Field(0).(*array.StringBuilder).Append(fmt.Sprint(row))
			rb.Field(1).(*array.Int64Builder).Append(row)
			switch b := rb.Field(2).(*array.Int64Builder); {
			case null(r):
				b.AppendNull()
			case r%300 < 40: // the two ends of int64, side by side
				b.Append([]int64{math.MinInt64, math.MaxInt64, -1, 0}[rng.IntN(4)])
			case r%300 < 80:
				b.Append(42)
			default:
				b.Append(rng.Int64() >> rng.IntN(64))
			}
			switch b := rb.Field(3).(*array.Int32Builder); {
			case null(r):
				b.AppendNull()
			case r%300 < 40:
				b.Append([]int32{math.MinInt32, math.MaxInt32}[rng.IntN(2)])
			default:
				b.Append(int32(r % 1000))
			}
			rb.Field(4).(*array.Int16Builder).Append(int16(rng.IntN(1 << 16)))
			if null(r) {
				rb.Field(5).AppendNull()
			} else {
				rb.Field(5).(*array.Int8Builder).Append(int8(rng.IntN(256)))
			}
			if null(r) {
				rb.Field(6).AppendNull()
			} else {
				rb.Field(6).(*array.Date32Builder).Append(arrow.Date32(20000 - r%3650))
			}
			rb.Field(7).(*array.Time32Builder).Append(arrow.Time32(r * 1000 % 86400000))
			if null(r) {
				rb.Field(8).AppendNull()
			} else {
				rb.Field(8).(*array.Time64Builder).Append(arrow.Time64(rng.Int64N(86400e6)))
			}
			rb.Field(9).(*array.TimestampBuilder).Append(arrow.Timestamp(1.7e15 - row*1e6))
			if null(r) {
				rb.Field(10).AppendNull()
			} else {
				rb.Field(10).(*array.TimestampBuilder).Append(arrow.Timestamp(1.7e18 + rng.Int64N(1e15)))
			}
			if null(r) {
				rb.Field(11).AppendNull()
			} else {
				rb.Field(11).(*array.Decimal128Builder).Append(decimal128.FromI64(rng.Int64N(2e11) - 1e11 + 1))
			}
			rb.Field(12).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(rng.IntN(199999) - 99999)))
			rb.Field(13).AppendNull()
			var u uuid.UUID
			switch {
			case r%37 == 0: // the first of a write batch: the least
			case r%37 == 1:
				u = uuid.Max
			default:
				for k := range u {
					u[k] = byte(rng.IntN(256))
				}
			}
			rb.Field(14).(*extensions.UUIDBuilder).Append(u)
		}
		return rb.NewRecordBatch()
	}
	var recs []arrow.RecordBatch
	for i, n := range []int{700, 1, 2, 2000, 333} {
		rec := build(uint64(i), n)
		defer rec.Release()
		recs = append(recs, rec)
	}
	for _, off := range []int64{3, 129} {
		sl := recs[3].NewSlice(off, off+1111)
		defer sl.Release()
		recs = append(recs, sl)
	}

	for _, v := range pageVariants {
		// Half the pages: with 2 KiB pages and batches of 37, arrow-go's
		// own writer (v18.8.0) panics on the decimal column ("slice bounds
		// out of range"); wharf's settings (512 KiB pages, batches of
		// 8,192) do not reach it.
		v.page /= 2
		t.Run(v.name, func(t *testing.T) {
			props := v.props(
				parquet.WithEncoding(parquet.Encodings.DeltaBinaryPacked),
				parquet.WithEncodingFor("name", parquet.Encodings.Plain),
				parquet.WithEncodingFor("u", parquet.Encodings.Plain),
				parquet.WithStoreDecimalAsInteger(true),
			)
			flat, want := writeBothWays(t, schema, recs, props, 0)
			sameParquet(t, flat, want, 0.02)
		})
	}
}

// A decimal that does not fit its column's precision, or the integer it
// is stored as, is refused, naming the column and row, as pqarrow refuses
// it; a NULL's slot is not looked at.
func TestIntColumnRefusesWideDecimal(t *testing.T) {
	for _, c := range []struct {
		typ  *arrow.Decimal128Type
		bad  decimal128.Num
		want string
	}{
		{&arrow.Decimal128Type{Precision: 4, Scale: 1}, decimal128.FromI64(-10000), "column amount: row 2: -1000.0 does not fit decimal(4, 1)"},
		{&arrow.Decimal128Type{Precision: 18, Scale: 0}, decimal128.New(1, 5), "column amount: row 2: 18446744073709551621 does not fit decimal(18, 0)"},
	} {
		schema := arrow.NewSchema([]arrow.Field{{Name: "amount", Type: c.typ, Nullable: true}}, nil)
		b := array.NewDecimal128Builder(memory.DefaultAllocator, c.typ)
		b.Append(decimal128.FromI64(9999))
		b.AppendNull()
		b.Append(c.bad)
		arr := b.NewArray()
		b.Release()
		// A NULL's slot holding what does not fit.
		arr.Data().Buffers()[1].Bytes()[16+15] = 0x7f
		rec := array.NewRecordBatch(schema, []arrow.Array{arr}, 3)
		arr.Release()
		props := parquet.NewWriterProperties(parquet.WithDictionaryDefault(false),
			parquet.WithEncoding(parquet.Encodings.DeltaBinaryPacked), parquet.WithStoreDecimalAsInteger(true))
		var sb strings.Builder
		w, err := newFlatWriter(schema, &sb, props, pqarrow.NewArrowWriterProperties())
		if err != nil {
			t.Fatal(err)
		}
		err = w.WriteBuffered(rec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
		rec.Release()
	}
}

// Times and timestamps whose unit pqarrow converts (time32 of seconds to
// milliseconds; timestamps of nanoseconds to microseconds in format 2.4)
// stay with arrow-go: the files hold what pqarrow's hold.
func TestIntColumnLeavesConvertedUnits(t *testing.T) {
	secs := array.NewTime32Builder(memory.DefaultAllocator, &arrow.Time32Type{Unit: arrow.Second})
	defer secs.Release()
	nanos := array.NewTimestampBuilder(memory.DefaultAllocator, &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"})
	defer nanos.Release()
	for i := range 500 {
		secs.Append(arrow.Time32(i * 7 % 86400))
		nanos.Append(arrow.Timestamp(1.7e18 + int64(i)*1_000_000))
	}
	for _, c := range []struct {
		arr  arrow.Array
		opts []parquet.WriterProperty
	}{
		{secs.NewArray(), nil},
		{nanos.NewArray(), []parquet.WriterProperty{parquet.WithVersion(parquet.V2_4)}},
	} {
		defer c.arr.Release()
		schema := arrow.NewSchema([]arrow.Field{{Name: "t", Type: c.arr.DataType()}}, nil)
		rec := array.NewRecordBatch(schema, []arrow.Array{c.arr}, int64(c.arr.Len()))
		defer rec.Release()
		t.Run(c.arr.DataType().String(), func(t *testing.T) {
			props := pageVariants[0].props(append(c.opts, parquet.WithEncoding(parquet.Encodings.DeltaBinaryPacked))...)
			pqSchema, err := pqarrow.ToParquet(schema, props, pqarrow.NewArrowWriterProperties())
			if err != nil {
				t.Fatal(err)
			}
			if newColumnValues(pqSchema.Column(0), schema.Field(0), props) != nil {
				t.Error("written by ownColumn")
			}
			flat, want := writeBothWays(t, schema, []arrow.RecordBatch{rec}, props, 1)
			sameParquet(t, flat, want, 0.02)
		})
	}
}
