package lake_test

import (
	"crypto/md5"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/google/uuid"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/lake/parquettest"
	"github.com/wharf-data/wharf/internal/testdb/duckread"
)

// Pages that do not compress (random UUIDs: 100,000 make 1.6 MB of pages of
// 512 KiB) are stored in raw zstd blocks; DuckDB reads every value back.
func TestStoredPagesReadByDuckDB(t *testing.T) {
	const n = 100_000
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "ref", Type: extensions.NewUUIDType()},
	}, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	r := rand.New(rand.NewPCG(5, 6))
	want := make([]string, n)
	for i := range n {
		var u uuid.UUID
		for j := range u {
			u[j] = byte(r.Uint32())
		}
		rb.Field(0).(*array.Int64Builder).Append(int64(i))
		rb.Field(1).(*extensions.UUIDBuilder).Append(u)
		want[i] = u.String()
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	l, root := openLake(t)
	files := writeRun(t, l, "stored", "r", nil, lake.WriterOptions{}, rec)
	path := filepath.Join(root, files[0].Path)
	if files[0].Bytes > n*16*102/100 {
		t.Errorf("file of %d bytes for %d bytes of UUIDs", files[0].Bytes, n*16)
	}
	rows := duckread.Strings(t, duckread.Open(t), `SELECT id::VARCHAR, ref::VARCHAR FROM read_parquet(?) ORDER BY id`, path)
	if len(rows) != n {
		t.Fatalf("DuckDB read %d rows, want %d", len(rows), n)
	}
	for i, row := range rows {
		if *row[0] != strconv.Itoa(i) || *row[1] != want[i] {
			t.Fatalf("row %d: DuckDB read id %s ref %s, want %d %s", i, *row[0], *row[1], i, want[i])
		}
	}
}

// Text without shared prefixes (md5 hex) is written DELTA_LENGTH_BYTE_ARRAY,
// text with them DELTA_BYTE_ARRAY, JSON PLAIN, all three by wharf's own
// column writer (ownColumn); DuckDB reads them back, NULLs and empty
// strings included.
func TestDeltaLengthTextReadByDuckDB(t *testing.T) {
	const n = 50_000
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "hash", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "doc", Type: coltype.Column{Kind: coltype.JSON}.ArrowType(), Nullable: true},
	}, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	want := make([][3]string, n)
	for i := range n {
		want[i][2] = "NULL"
		if i%5 != 0 {
			want[i][2] = fmt.Sprintf(`{"k":%d}`, i)
			rb.Field(3).(*array.ExtensionBuilder).StorageBuilder().(*array.StringBuilder).Append(want[i][2])
		} else {
			rb.Field(3).AppendNull()
		}
		rb.Field(0).(*array.Int64Builder).Append(int64(i))
		want[i][0] = "NULL"
		if i%7 != 0 {
			want[i][0] = fmt.Sprintf("%x", md5.Sum([]byte(strconv.Itoa(i))))
			rb.Field(1).(*array.StringBuilder).Append(want[i][0])
		} else {
			rb.Field(1).AppendNull()
		}
		want[i][1] = "customer " + strconv.Itoa(i)
		if i%11 == 0 {
			want[i][1] = ""
		}
		rb.Field(2).(*array.StringBuilder).Append(want[i][1])
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	l, root := openLake(t)
	files := writeRun(t, l, "text", "r", nil, lake.WriterOptions{}, rec)
	path := filepath.Join(root, files[0].Path)
	encodings := func(i int) []parquet.Encoding {
		c, err := parquettest.Metadata(t, path).RowGroup(0).ColumnChunk(i)
		if err != nil {
			t.Fatal(err)
		}
		return c.Encodings()
	}
	if encs := encodings(1); !slices.Contains(encs, parquet.Encodings.DeltaLengthByteArray) {
		t.Errorf("hash column encodings %v, want DELTA_LENGTH_BYTE_ARRAY", encs)
	}
	if encs := encodings(2); !slices.Contains(encs, parquet.Encodings.DeltaByteArray) {
		t.Errorf("name column encodings %v, want DELTA_BYTE_ARRAY", encs)
	}
	if encs := encodings(3); !slices.Contains(encs, parquet.Encodings.Plain) {
		t.Errorf("doc column encodings %v, want PLAIN", encs)
	}
	rows := duckread.Strings(t, duckread.Open(t), `SELECT coalesce(hash, 'NULL'), name, coalesce(doc::VARCHAR, 'NULL') FROM read_parquet(?) ORDER BY id`, path)
	if len(rows) != n {
		t.Fatalf("DuckDB read %d rows, want %d", len(rows), n)
	}
	for i, row := range rows {
		if *row[0] != want[i][0] || *row[1] != want[i][1] || *row[2] != want[i][2] {
			t.Fatalf("row %d: DuckDB read %s %q %s, want %s %q %s", i, *row[0], *row[1], *row[2], want[i][0], want[i][1], want[i][2])
		}
	}
}

// Integers, timestamps, dates and decimals are written DELTA_BINARY_PACKED
// by wharf's own column writer (intValues): DuckDB reads them back, NULLs
// included, where deltas wrap at the type's width (miniblocks 32 and 64
// bits wide) and where they hold still.
func TestDeltaIntegersReadByDuckDB(t *testing.T) {
	const n = 20_000
	dec := &arrow.Decimal128Type{Precision: 12, Scale: 2}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "big", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "small", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
		{Name: "amount", Type: dec, Nullable: true},
	}, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	want := make([][4]string, n)
	for i := range n {
		rb.Field(0).(*array.Int64Builder).Append(int64(i))
		big := []int64{math.MinInt64, math.MaxInt64, int64(i) * 1_000_003, 7}[i%4]
		want[i][0] = strconv.FormatInt(big, 10)
		if i%9 == 0 {
			rb.Field(1).AppendNull()
			want[i][0] = "NULL"
		} else {
			rb.Field(1).(*array.Int64Builder).Append(big)
		}
		// A cycle (delta-packed, as the first write batch shows) whose
		// later rows swing between the ends of int32.
		small := int32(i % 1000)
		if i > 10_000 && i%200 < 20 {
			small = []int32{math.MinInt32, math.MaxInt32}[i%2]
		}
		want[i][1] = strconv.Itoa(int(small))
		if i%13 == 0 {
			rb.Field(2).AppendNull()
			want[i][1] = "NULL"
		} else {
			rb.Field(2).(*array.Int32Builder).Append(small)
		}
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(i) * time.Second)
		rb.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(at.UnixMicro()))
		want[i][2] = strconv.FormatInt(at.UnixMicro(), 10)
		cents := int64(i*7919%20_000_000) - 10_000_000
		if i%6 == 0 {
			rb.Field(4).AppendNull()
			want[i][3] = "NULL"
		} else {
			rb.Field(4).(*array.Decimal128Builder).Append(decimal128.FromI64(cents))
			want[i][3] = decimal128.FromI64(cents).ToString(2)
		}
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	l, root := openLake(t)
	files := writeRun(t, l, "ints", "r", nil, lake.WriterOptions{}, rec)
	path := filepath.Join(root, files[0].Path)
	for i := range schema.NumFields() {
		c, err := parquettest.Metadata(t, path).RowGroup(0).ColumnChunk(i)
		if err != nil {
			t.Fatal(err)
		}
		if encs := c.Encodings(); !slices.Contains(encs, parquet.Encodings.DeltaBinaryPacked) {
			t.Errorf("column %s encodings %v, want DELTA_BINARY_PACKED", schema.Field(i).Name, encs)
		}
	}
	rows := duckread.Strings(t, duckread.Open(t), `SELECT coalesce(big::VARCHAR, 'NULL'), coalesce(small::VARCHAR, 'NULL'), epoch_us("at")::VARCHAR, coalesce(amount::VARCHAR, 'NULL') FROM read_parquet(?) ORDER BY id`, path)
	if len(rows) != n {
		t.Fatalf("DuckDB read %d rows, want %d", len(rows), n)
	}
	for i, row := range rows {
		for c := range want[i] {
			if *row[c] != want[i][c] {
				t.Fatalf("row %d column %d: DuckDB read %s, want %s", i, c, *row[c], want[i][c])
			}
		}
	}
}
