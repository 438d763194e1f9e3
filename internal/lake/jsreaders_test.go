package lake_test

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
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
	"github.com/wharf-data/wharf/internal/testdb/jsread"
)

// Every kind of column wharf writes the pages of itself (ownColumn), and a
// few that arrow-go writes, read back by two readers that share no code
// with arrow-go or DuckDB: hyparquet and Polars. Two row groups, pages cut
// inside them, definition levels in long RLE runs (1,000 NULLs) and long
// bit-packed ones (a NULL every 13th row for 4,000 rows), deltas wrapping
// at 64 and 32 bits, decimals at both ends of INT32 and INT64 storage,
// shared prefixes, empty values.
func TestOwnedPagesReadByJavaScriptReaders(t *testing.T) {
	t.Parallel()
	rec := readerTable(300_000)
	defer rec.Release()
	l, root := openLake(t)
	files := writeRun(t, l, "all", "r", nil, lake.WriterOptions{}, rec)
	if len(files) != 1 {
		t.Fatalf("wrote %d files, want 1", len(files))
	}
	sameRows(t, jsread.Hyparquet, filepath.Join(root, files[0].Path), rec)

	// Polars refuses a whole file whose Arrow schema holds an extension
	// type it does not know (arrow.uuid, arrow.json: docs/types.md), and
	// nodejs-polars cannot hand binary values to JavaScript, so it reads a
	// file of the other columns.
	var fields []arrow.Field
	var cols []arrow.Array
	for i, f := range rec.Schema().Fields() {
		switch f.Type.(type) {
		case arrow.ExtensionType, *arrow.BinaryType, *arrow.FixedSizeBinaryType:
			continue
		}
		fields = append(fields, f)
		cols = append(cols, rec.Column(i))
	}
	plain := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
	defer plain.Release()
	files = writeRun(t, l, "plain", "r", nil, lake.WriterOptions{}, plain)
	sameRows(t, jsread.Polars, filepath.Join(root, files[0].Path), plain)
}

// sameRows checks that reader reads rec's rows from path, every value in
// jsread's canonical text.
func sameRows(t *testing.T, reader, path string, rec arrow.RecordBatch) {
	t.Helper()
	names, rows := jsread.Rows(t, reader, path)
	schema := rec.Schema()
	if len(names) != schema.NumFields() {
		t.Fatalf("%s read columns %v, want %d", reader, names, schema.NumFields())
	}
	for c, name := range names {
		if name != schema.Field(c).Name {
			t.Fatalf("%s read column %d as %q, want %q", reader, c, name, schema.Field(c).Name)
		}
	}
	if int64(len(rows)) != rec.NumRows() {
		t.Fatalf("%s read %d rows, want %d", reader, len(rows), rec.NumRows())
	}
	for c := range names {
		col := rec.Column(c)
		for i, row := range rows {
			want := canonical(col, i)
			if got := row[c]; (got == nil) != (want == nil) || got != nil && *got != *want {
				t.Fatalf("%s: column %s row %d: read %s, want %s", reader, names[c], i, show(got), show(want))
			}
		}
	}
}

func show(s *string) string {
	if s == nil {
		return "NULL"
	}
	return strconv.Quote(*s)
}

// canonical is the text jsread gives for value i of col (nil for NULL).
func canonical(col arrow.Array, i int) *string {
	if col.IsNull(i) {
		return nil
	}
	var s string
	switch a := col.(type) {
	case *array.Int8:
		s = strconv.Itoa(int(a.Value(i)))
	case *array.Int16:
		s = strconv.Itoa(int(a.Value(i)))
	case *array.Int32:
		s = strconv.Itoa(int(a.Value(i)))
	case *array.Int64:
		s = strconv.FormatInt(a.Value(i), 10)
	case *array.Date32:
		s = strconv.Itoa(int(a.Value(i)))
	case *array.Time64:
		s = strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Timestamp:
		s = strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Decimal128:
		s = a.Value(i).BigInt().String()
	case *array.Boolean:
		s = strconv.FormatBool(a.Value(i))
	case *array.String:
		s = a.Value(i)
	case *array.Binary:
		s = hex.EncodeToString(a.Value(i))
	case *array.FixedSizeBinary:
		s = hex.EncodeToString(a.Value(i))
	case *extensions.UUIDArray:
		s = a.Value(i).String()
	case array.ExtensionArray:
		return canonical(a.Storage(), i)
	default:
		panic(fmt.Sprintf("canonical: no text for %s", col.DataType()))
	}
	return &s
}

// readerTable builds n rows of one column of each kind wharf lands.
func readerTable(n int) arrow.RecordBatch {
	dec9 := &arrow.Decimal128Type{Precision: 9, Scale: 2}
	dec18 := &arrow.Decimal128Type{Precision: 18, Scale: 4}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "big", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "small", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "short", Type: arrow.PrimitiveTypes.Int16},
		{Name: "tiny", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "tod", Type: arrow.FixedWidthTypes.Time64us},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
		{Name: "local_ms", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
		{Name: "amount", Type: dec9, Nullable: true},
		{Name: "balance", Type: dec18},
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "hash", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "label", Type: arrow.BinaryTypes.String},
		{Name: "blob", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "code", Type: &arrow.FixedSizeBinaryType{ByteWidth: 3}, Nullable: true},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "doc", Type: coltype.Column{Kind: coltype.JSON}.ArrowType(), Nullable: true},
		{Name: "ref", Type: extensions.NewUUIDType(), Nullable: true},
	}, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	r := rand.New(rand.NewPCG(11, 12))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDec9, maxDec18 := int64(999_999_999), int64(999_999_999_999_999_999)
	for i := range n {
		// NULLs in runs of 1,000 (RLE), then every 13th row (bit-packed
		// runs longer than 63 groups of 8).
		sparse := (i/1000)%5 == 0 || i%13 == 0
		appendOr := func(f int, null bool, add func(array.Builder)) {
			if null {
				rb.Field(f).AppendNull()
			} else {
				add(rb.Field(f))
			}
		}
		rb.Field(0).(*array.Int64Builder).Append(int64(i))
		appendOr(1, i%9 == 0, func(b array.Builder) {
			b.(*array.Int64Builder).Append([]int64{math.MinInt64, math.MaxInt64, int64(i) * 1_000_003, 7}[i%4])
		})
		appendOr(2, sparse, func(b array.Builder) {
			v := int32(i % 1000)
			if i > 150_000 && i%200 < 20 {
				v = []int32{math.MinInt32, math.MaxInt32}[i%2]
			}
			b.(*array.Int32Builder).Append(v)
		})
		rb.Field(3).(*array.Int16Builder).Append(int16(i * 7))
		appendOr(4, i%17 == 0, func(b array.Builder) { b.(*array.Int8Builder).Append(int8(i)) })
		appendOr(5, i%10 == 3, func(b array.Builder) {
			b.(*array.Date32Builder).Append(arrow.Date32(i%30_000 - 10_000))
		})
		rb.Field(6).(*array.Time64Builder).Append(arrow.Time64(int64(i) * 287_999_999 % 86_400_000_000))
		rb.Field(7).(*array.TimestampBuilder).Append(arrow.Timestamp(start.Add(-time.Duration(i)*time.Second).UnixMicro() + int64(i%1000)))
		appendOr(8, sparse, func(b array.Builder) {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(start.UnixMilli() + r.Int64N(1e12) - 5e11))
		})
		appendOr(9, i%6 == 0, func(b array.Builder) {
			v := int64(i*7919%20_000_000) - 10_000_000
			if i%1000 == 1 {
				v = []int64{-maxDec9, maxDec9}[(i/1000)%2]
			}
			b.(*array.Decimal128Builder).Append(decimal128.FromI64(v))
		})
		balance := r.Int64N(2*maxDec18+1) - maxDec18
		if i%500 == 7 {
			balance = []int64{-maxDec18, maxDec18, 0}[(i/500)%3]
		}
		rb.Field(10).(*array.Decimal128Builder).Append(decimal128.FromI64(balance))
		name := "customer " + strconv.Itoa(i)
		if i%11 == 0 {
			name = ""
		}
		rb.Field(11).(*array.StringBuilder).Append(name)
		appendOr(12, i%7 == 0, func(b array.Builder) {
			b.(*array.StringBuilder).Append(fmt.Sprintf("%x", md5.Sum([]byte(strconv.Itoa(i)))))
		})
		rb.Field(13).(*array.StringBuilder).Append([]string{"new", "paid", "shipped", "returned", "ünïcode ✓"}[i%5])
		appendOr(14, i%8 == 0, func(b array.Builder) {
			blob := make([]byte, i%37)
			for j := range blob {
				blob[j] = byte(r.Uint32())
			}
			b.(*array.BinaryBuilder).Append(blob)
		})
		appendOr(15, sparse, func(b array.Builder) {
			b.(*array.FixedSizeBinaryBuilder).Append([]byte{byte(i), byte(i >> 8), byte(i >> 16)})
		})
		appendOr(16, i%3 == 0, func(b array.Builder) { b.(*array.BooleanBuilder).Append(i%2 == 0) })
		appendOr(17, i%5 == 0, func(b array.Builder) {
			b.(*array.ExtensionBuilder).StorageBuilder().(*array.StringBuilder).Append(fmt.Sprintf(`{"k": %d, "s": "a\"b"}`, i))
		})
		appendOr(18, sparse, func(b array.Builder) {
			var u uuid.UUID
			for j := range u {
				u[j] = byte(r.Uint32())
			}
			b.(*extensions.UUIDBuilder).Append(u)
		})
	}
	return rb.NewRecordBatch()
}
