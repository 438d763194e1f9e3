package lake

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/wharf-data/wharf/internal/coltype"
)

// bytesColumn writes what arrow-go's column writer writes for text and
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
		for _, v := range []struct {
			name     string
			page     int64
			batch    int64
			codec    compress.Compression
			stats    bool
			rowGroup int64
		}{
			{"small pages, zstd", 2 << 10, 37, compress.Codecs.Zstd, true, 1500},
			{"large pages, no compression", 1 << 20, 1024, compress.Codecs.Uncompressed, true, 1 << 20},
			{"snappy, no statistics", 16 << 10, 100, compress.Codecs.Snappy, false, 1000},
		} {
			t.Run(fmt.Sprintf("%s/%s", enc, v.name), func(t *testing.T) {
				props := parquet.NewWriterProperties(
					parquet.WithAllocator(memory.DefaultAllocator),
					parquet.WithDictionaryDefault(false),
					parquet.WithEncoding(enc),
					parquet.WithEncodingFor("id", parquet.Encodings.Plain),
					parquet.WithDataPageSize(v.page),
					parquet.WithBatchSize(v.batch),
					parquet.WithMaxRowGroupLength(v.rowGroup),
					parquet.WithCompression(v.codec),
					parquet.WithStats(v.stats),
				)
				arrowProps := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
				pqSchema, err := pqarrow.ToParquet(schema, props, arrowProps)
				if err != nil {
					t.Fatal(err)
				}
				for i := 1; i < schema.NumFields(); i++ {
					if !ownsColumn(pqSchema.Column(i), schema.Field(i), props) {
						t.Fatalf("column %s not written by bytesColumn", schema.Field(i).Name)
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
							t.Fatal(err)
						}
					}
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
					return buf.Bytes()
				}
				// Pages of 2 KiB cut where arrow-go's do not: a few more page
				// headers and zstd frames.
				sameParquet(t, write(true), write(false), 0.05)
			})
		}
	}
}

// The columns bytesColumn takes: text and binary without a dictionary.
func TestOwnsColumn(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "d", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "large", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64},
		{Name: "b", Type: arrow.BinaryTypes.Binary},
	}, nil)
	props := parquet.NewWriterProperties(parquet.WithDictionaryDefault(false), parquet.WithDictionaryFor("d", true))
	pqSchema, err := pqarrow.ToParquet(schema, props, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{true, false, false, false, true}
	for i, w := range want {
		if got := ownsColumn(pqSchema.Column(i), schema.Field(i), props); got != w {
			t.Errorf("%s: owned %v, want %v", schema.Field(i).Name, got, w)
		}
	}
	v2 := parquet.NewWriterProperties(parquet.WithDictionaryDefault(false), parquet.WithDataPageVersion(parquet.DataPageV2))
	if ownsColumn(pqSchema.Column(0), schema.Field(0), v2) {
		t.Error("owned with data page v2")
	}
}

// appendDeltaPacked against hand-worked bytes of the Parquet spec's
// layout: header, then per block the minimum delta, four widths and the
// miniblocks in use.
func TestAppendDeltaPacked(t *testing.T) {
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
		if got := appendDeltaPacked(nil, c.vals); !bytes.Equal(got, c.want) {
			t.Errorf("%v: % x, want % x", c.vals, got, c.want)
		}
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
