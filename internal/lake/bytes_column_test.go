package lake

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/wharf-data/wharf/internal/coltype"
)

// ownColumn writes what arrow-go's column writer writes for text and
// binary columns without a dictionary, in each of its three encodings,
// with and without compression and statistics, in pages of a few values
// and of many: the same values, statistics (values longer than the
// statistics limit included) and encodings (sameParquet). The records
// hold NULLs, empty strings, runs of NULLs across pages, shared and
// unshared prefixes, an all-NULL column and slices at odd offsets, and
// split across row groups.
func TestBytesColumnMatchesArrowGo(t *testing.T) {
	jsonType := coltype.Column{Kind: coltype.JSON}.ArrowType()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "req", Type: arrow.BinaryTypes.String},
		{Name: "opt", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "raw", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "j", Type: jsonType, Nullable: true},
		{Name: "none", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	build := func(seed uint64, n int) arrow.RecordBatch {
		rng := rand.New(rand.NewPCG(seed, 7))
		rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer rb.Release()
		for r := range n {
			rb.Field(0).(*array.Int64Builder).Append(int64(seed)<<32 + int64(r))
			switch rng.IntN(10) {
			case 0:
				rb.Field(1).(*array.StringBuilder).Append("")
			case 1:
				rb.Field(1).(*array.StringBuilder).Append(strings.Repeat("long ", 1000+rng.IntN(10))) // over the 4 KiB statistics limit
			default:
				rb.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("customer %d", rng.IntN(100000)))
			}
			// NULLs in runs (rows 100-399 of every record) and scattered.
			if (r >= 100 && r < 400) || rng.IntN(4) == 0 {
				rb.Field(2).AppendNull()
			} else {
				rb.Field(2).(*array.StringBuilder).Append(fmt.Sprintf("%x", rng.Uint64()>>rng.IntN(64)))
			}
			if rng.IntN(3) == 0 {
				rb.Field(3).AppendNull()
			} else {
				b := make([]byte, rng.IntN(20))
				for i := range b {
					b[i] = byte(rng.IntN(256))
				}
				rb.Field(3).(*array.BinaryBuilder).Append(b)
			}
			if rng.IntN(5) == 0 {
				rb.Field(4).AppendNull()
			} else {
				rb.Field(4).(*array.ExtensionBuilder).StorageBuilder().(*array.StringBuilder).Append(fmt.Sprintf(`{"n":%d}`, rng.IntN(1000)))
			}
			rb.Field(5).AppendNull()
		}
		return rb.NewRecordBatch()
	}
	var recs []arrow.RecordBatch
	for i, n := range []int{700, 1, 2000, 333} {
		rec := build(uint64(i), n)
		defer rec.Release()
		recs = append(recs, rec)
	}
	for _, off := range []int64{3, 13} {
		sl := recs[2].NewSlice(off, off+1111)
		defer sl.Release()
		recs = append(recs, sl)
	}

	for _, enc := range []parquet.Encoding{parquet.Encodings.Plain, parquet.Encodings.DeltaLengthByteArray, parquet.Encodings.DeltaByteArray} {
		for _, v := range pageVariants {
			t.Run(fmt.Sprintf("%s/%s", enc, v.name), func(t *testing.T) {
				props := v.props(parquet.WithEncoding(enc), parquet.WithEncodingFor("id", parquet.Encodings.Plain))
				// Pages of 2 KiB cut where arrow-go's do not: a few more page
				// headers and zstd frames.
				flat, want := writeBothWays(t, schema, recs, props, 1)
				sameParquet(t, flat, want, 0.05)
			})
		}
	}
}

// pageVariant is a setting the column writers are compared under.
type pageVariant struct {
	name     string
	page     int64 // data page size
	batch    int64 // write batch size
	codec    compress.Compression
	stats    bool
	rowGroup int64 // rows
}

// pageVariants: pages of a few values (cut mid-batch and mid-record) and
// of many, with and without compression and statistics, row groups cut
// inside records.
var pageVariants = []pageVariant{
	{"small pages, zstd", 2 << 10, 37, compress.Codecs.Zstd, true, 1500},
	{"large pages, no compression", 1 << 20, 1024, compress.Codecs.Uncompressed, true, 1 << 20},
	{"snappy, no statistics", 16 << 10, 100, compress.Codecs.Snappy, false, 1000},
}

// props are v's writer properties, without a dictionary, then opts.
func (v pageVariant) props(opts ...parquet.WriterProperty) *parquet.WriterProperties {
	return parquet.NewWriterProperties(append([]parquet.WriterProperty{
		parquet.WithAllocator(memory.DefaultAllocator),
		parquet.WithDictionaryDefault(false),
		parquet.WithDataPageSize(v.page),
		parquet.WithBatchSize(v.batch),
		parquet.WithMaxRowGroupLength(v.rowGroup),
		parquet.WithCompression(v.codec),
		parquet.WithStats(v.stats),
	}, opts...)...)
}

// The columns ownColumn takes: text and binary without a dictionary,
// and signed integers of the kinds pqarrow writes as they are or widened,
// DELTA_BINARY_PACKED.
func TestOwnedColumns(t *testing.T) {
	fields := []struct {
		f   arrow.Field
		own bool
	}{
		{arrow.Field{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}, true},
		{arrow.Field{Name: "d", Type: arrow.BinaryTypes.String, Nullable: true}, false}, // dictionary
		{arrow.Field{Name: "large", Type: arrow.BinaryTypes.LargeString, Nullable: true}, false},
		{arrow.Field{Name: "plain_int", Type: arrow.PrimitiveTypes.Int64}, false},
		{arrow.Field{Name: "b", Type: arrow.BinaryTypes.Binary}, true},
		{arrow.Field{Name: "i8", Type: arrow.PrimitiveTypes.Int8}, true},
		{arrow.Field{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, true},
		{arrow.Field{Name: "u32", Type: arrow.PrimitiveTypes.Uint32}, false}, // sorts unsigned
		{arrow.Field{Name: "u64", Type: arrow.PrimitiveTypes.Uint64}, false},
		{arrow.Field{Name: "ts_s", Type: &arrow.TimestampType{Unit: arrow.Second}}, false}, // coerced to ms
		{arrow.Field{Name: "ts_us", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}}, true},
		{arrow.Field{Name: "day", Type: arrow.FixedWidthTypes.Date32}, true},
		{arrow.Field{Name: "dec12", Type: &arrow.Decimal128Type{Precision: 12, Scale: 2}}, true},
		{arrow.Field{Name: "dec20", Type: &arrow.Decimal128Type{Precision: 20, Scale: 2}}, false}, // FIXED_LEN_BYTE_ARRAY
		{arrow.Field{Name: "f", Type: arrow.PrimitiveTypes.Float64}, false},
		{arrow.Field{Name: "u", Type: extensions.NewUUIDType()}, true},
		{arrow.Field{Name: "fixed", Type: &arrow.FixedSizeBinaryType{ByteWidth: 3}, Nullable: true}, true},
		{arrow.Field{Name: "du", Type: extensions.NewUUIDType()}, false}, // dictionary
	}
	var fs []arrow.Field
	for _, f := range fields {
		fs = append(fs, f.f)
	}
	schema := arrow.NewSchema(fs, nil)
	opts := []parquet.WriterProperty{parquet.WithDictionaryDefault(false), parquet.WithDictionaryFor("d", true),
		parquet.WithDictionaryFor("du", true), parquet.WithStoreDecimalAsInteger(true)}
	for _, f := range fs {
		switch f.Type.ID() {
		case arrow.STRING, arrow.BINARY, arrow.LARGE_STRING, arrow.FIXED_SIZE_BINARY, arrow.EXTENSION:
			continue
		}
		if f.Name != "plain_int" {
			opts = append(opts, parquet.WithEncodingFor(f.Name, parquet.Encodings.DeltaBinaryPacked))
		}
	}
	props := parquet.NewWriterProperties(opts...)
	pqSchema, err := pqarrow.ToParquet(schema, props, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range fields {
		if got := newColumnValues(pqSchema.Column(i), f.f, props) != nil; got != f.own {
			t.Errorf("%s: owned %v, want %v", f.f.Name, got, f.own)
		}
	}
	v2 := parquet.NewWriterProperties(append(opts, parquet.WithDataPageVersion(parquet.DataPageV2))...)
	if newColumnValues(pqSchema.Column(0), fs[0], v2) != nil {
		t.Error("owned with data page v2")
	}
}

// writeBothWays writes recs with flatWriter and with pqarrow's writer,
// after checking that ownColumn writes every column from index from on.
func writeBothWays(t *testing.T, schema *arrow.Schema, recs []arrow.RecordBatch, props *parquet.WriterProperties, from int) (flat, arrowGo []byte) {
	t.Helper()
	arrowProps := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
	pqSchema, err := pqarrow.ToParquet(schema, props, arrowProps)
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < schema.NumFields(); i++ {
		if newColumnValues(pqSchema.Column(i), schema.Field(i), props) == nil {
			t.Fatalf("column %s not written by ownColumn", schema.Field(i).Name)
		}
	}
	write := func(flat bool) []byte {
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
		for _, rec := range recs {
			if err := w.WriteBuffered(rec); err != nil {
				t.Fatalf("flat writer %v: %v", flat, err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	return write(true), write(false)
}

// deltaPacked returns vals DELTA_BINARY_PACKED by a deltaPacker.
func deltaPacked[T int32 | int64](vals []T) []byte {
	var p deltaPacker[T]
	p.addAll(vals)
	return p.appendTo(nil)
}

// deltaPacker against hand-worked bytes of the Parquet spec's layout:
// header, then per block the minimum delta, four widths and the
// miniblocks in use.
func TestDeltaPacker(t *testing.T) {
	for _, c := range []struct {
		vals []int32
		want []byte
	}{
		// Header only: block 128, 4 miniblocks, 0 values, first value 0.
		{nil, []byte{0x80, 0x01, 4, 0, 0}},
		// One value: no block.
		{[]int32{7}, []byte{0x80, 0x01, 4, 1, 14}},
		// 1, 2, 3, 4, 5: deltas all 1, min delta 1 (zigzag 2), width 0.
		{[]int32{1, 2, 3, 4, 5}, []byte{0x80, 0x01, 4, 5, 2, 2, 0, 0, 0, 0}},
		// 7, 5, 3, 12: deltas -2, -2, 9; min -2 (zigzag 3); 0, 0, 11 in 4
		// bits: bytes 0x00, 0x0b, then 14 zero bytes to 16 (4 × width).
		{[]int32{7, 5, 3, 12}, append([]byte{0x80, 0x01, 4, 4, 14, 3, 4, 0, 0, 0, 0x00, 0x0b}, make([]byte, 14)...)},
	} {
		if got := deltaPacked(c.vals); !bytes.Equal(got, c.want) {
			t.Errorf("%v: % x, want % x", c.vals, got, c.want)
		}
	}
	// Deltas wrap at the values' width: MinInt32 after MaxInt32 is +1 at
	// 32 bits (width 0), at 64 bits the delta MinInt64 - MaxInt64 = +1 too.
	if got, want := deltaPacked([]int32{math.MaxInt32, math.MinInt32}), []byte{0x80, 0x01, 4, 2, 0xfe, 0xff, 0xff, 0xff, 0x0f, 2, 0, 0, 0, 0}; !bytes.Equal(got, want) {
		t.Errorf("int32 wrap: % x, want % x", got, want)
	}
	if got, want := deltaPacked([]int64{math.MaxInt64, math.MinInt64}), append([]byte{0x80, 0x01, 4, 2}, append(binary.AppendVarint(nil, math.MaxInt64), 2, 0, 0, 0, 0)...); !bytes.Equal(got, want) {
		t.Errorf("int64 wrap: % x, want % x", got, want)
	}
}

func TestCommonPrefix(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 0},
		{"customer 1", "customer 2", 9},
		{"customer 10", "customer 1", 10},
		{"abcdefgh", "abcdefgh", 8},
		{"abcdefghij", "abcdefghiX", 9},
		{"abcdefgXij", "abcdefghij", 7},
		{"same prefix over sixteen bytes: a", "same prefix over sixteen bytes: b", 32},
	} {
		if got := commonPrefix([]byte(c.a), []byte(c.b)); got != c.want {
			t.Errorf("commonPrefix(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// Definition levels as the RLE/bit-packed hybrid: runs of 64 or more
// equal levels from a byte boundary as RLE runs (the last partial byte
// joins a run it continues), the rest bit-packed.
func TestAppendDefLevels(t *testing.T) {
	ff := func(n int) []byte { return bytes.Repeat([]byte{0xff}, n) }
	for _, c := range []struct {
		name   string
		levels []byte
		n      int
		want   []byte
	}{
		{"none", nil, 0, nil},
		{"100 values", append(ff(12), 0x0f), 100, []byte{0xc8, 0x01, 1}},
		{"100 NULLs", make([]byte, 13), 100, []byte{0xc8, 0x01, 0}},
		{"20 values: too few for a run", []byte{0xff, 0xff, 0x0f}, 20, []byte{7, 0xff, 0xff, 0x0f}},
		{"a run, then mixed", append(ff(8), 0x55, 0x05), 75, []byte{0x80, 0x01, 1, 5, 0x55, 0x05}},
		{"mixed, a run of NULLs, mixed", append(append([]byte{0x55}, make([]byte, 9)...), 0xaa), 88, []byte{3, 0x55, 0x90, 0x01, 0, 3, 0xaa}},
		{"a run the partial byte does not continue", append(ff(8), 0x01), 67, []byte{0x80, 0x01, 1, 3, 0x01}},
	} {
		if got := appendDefLevels(nil, c.levels, c.n); !bytes.Equal(got, c.want) {
			t.Errorf("%s: % x, want % x", c.name, got, c.want)
		}
	}
}

// A DELTA_BYTE_ARRAY page's last value is compared with the next record's
// first: it must outlive its record, whose buffers wharf's allocator
// recycles once written.
func TestPrevValueOutlivesRecord(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	props := parquet.NewWriterProperties(parquet.WithDictionaryDefault(false), parquet.WithEncoding(parquet.Encodings.DeltaByteArray))
	record := func(vals ...string) arrow.RecordBatch {
		b := array.NewStringBuilder(memory.DefaultAllocator)
		defer b.Release()
		b.AppendValues(vals, nil)
		arr := b.NewArray()
		defer arr.Release()
		return array.NewRecordBatch(schema, []arrow.Array{arr}, int64(len(vals)))
	}
	var buf bytes.Buffer
	w, err := newFlatWriter(schema, &buf, props, pqarrow.NewArrowWriterProperties())
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := record("customer 0001", "customer 0002"), record("customer 0003")
	defer r1.Release()
	defer r2.Release()
	if err := w.WriteBuffered(r1); err != nil {
		t.Fatal(err)
	}
	copy(r1.Column(0).Data().Buffers()[2].Bytes()[13:], "customer 0003") // as if recycled
	if err := w.WriteBuffered(r2); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fr, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	cr, err := fr.RowGroup(0).Column(0)
	if err != nil {
		t.Fatal(err)
	}
	vals := make([]parquet.ByteArray, 3)
	if _, _, err := cr.(*file.ByteArrayColumnChunkReader).ReadBatch(3, vals, nil, nil); err != nil {
		t.Fatal(err)
	}
	if string(vals[2]) != "customer 0003" {
		t.Errorf("third value %q, want customer 0003", vals[2])
	}
}
