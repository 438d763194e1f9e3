package lake_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"

	"github.com/wharf-data/wharf/internal/coltype"
)

// everyKind has one nullable column per coltype kind, plus NOT NULL ones.
func everyKind() []coltype.Column {
	return []coltype.Column{
		{Name: "b", Kind: coltype.Bool, Nullable: true},
		{Name: "i16", Kind: coltype.Int16, Nullable: true},
		{Name: "i32", Kind: coltype.Int32, Nullable: true},
		{Name: "i64", Kind: coltype.Int64, Nullable: true},
		{Name: "f32", Kind: coltype.Float32, Nullable: true},
		{Name: "f64", Kind: coltype.Float64, Nullable: true},
		{Name: "dec", Kind: coltype.Decimal, Precision: 12, Scale: 2, Nullable: true},
		{Name: "dec38", Kind: coltype.Decimal, Precision: 38, Scale: 10, Nullable: true},
		{Name: "s", Kind: coltype.String, Nullable: true},
		{Name: "bin", Kind: coltype.Bytes, Nullable: true},
		{Name: "d", Kind: coltype.Date, Nullable: true},
		{Name: "t", Kind: coltype.Time, Nullable: true},
		{Name: "ts", Kind: coltype.Timestamp, Nullable: true},
		{Name: "tstz", Kind: coltype.TimestampTZ, Nullable: true},
		{Name: "u", Kind: coltype.UUID, Nullable: true},
		{Name: "j", Kind: coltype.JSON, Nullable: true},
		{Name: "id", Kind: coltype.Int64},
		{Name: "name", Kind: coltype.String},
		{Name: "at", Kind: coltype.TimestampTZ},
	}
}

// edge values, used for the first rows of every column.
var (
	edgeFloats = []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0, math.SmallestNonzeroFloat64, math.MaxFloat64, -1.5}
	edgeInts   = []int64{math.MinInt64, math.MaxInt64, 0, -1, 1}
	edgeText   = []string{"", "日本語 ✓ émoji 🐳", "a/b=c%d", "line\nbreak\ttab", "\x00nul"}
	edgeDecs   = []string{"0", "-1.05", "9999999999.99", "-9999999999.99", "0.01"}
	edgeDec38  = []string{"0", "-1.0000000001", "9999999999999999999999999999.9999999999", "-9999999999999999999999999999.9999999999"}
	edgeDates  = []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC),
	}
	edgeTimes = []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), time.Date(2024, 3, 1, 10, 0, 0, 123456000, time.UTC),
	}
)

// buildRecord makes n rows of cols, deterministic for seed. Nullable
// columns get a NULL every few rows; row r < len(edge*) takes edge values.
func buildRecord(t testing.TB, cols []coltype.Column, n int, seed uint64) arrow.RecordBatch {
	t.Helper()
	sc := coltype.ArrowSchema(cols)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer rb.Release()
	rng := rand.New(rand.NewPCG(seed, 42))
	for ci, c := range cols {
		b := rb.Field(ci)
		for r := 0; r < n; r++ {
			if c.Nullable && (r+ci)%5 == 2 {
				b.AppendNull()
				continue
			}
			appendValue(t, b, c, r, int(seed)+r, rng)
		}
	}
	return rb.NewRecordBatch()
}

func appendValue(t testing.TB, b array.Builder, c coltype.Column, r, v int, rng *rand.Rand) {
	switch c.Kind {
	case coltype.Bool:
		b.(*array.BooleanBuilder).Append(v%3 == 0)
	case coltype.Int16:
		x := int16(rng.IntN(1 << 16))
		if r < 2 {
			x = []int16{math.MinInt16, math.MaxInt16}[r]
		}
		b.(*array.Int16Builder).Append(x)
	case coltype.Int32:
		x := rng.Int32() - math.MaxInt32/2
		if r < 2 {
			x = []int32{math.MinInt32, math.MaxInt32}[r]
		}
		b.(*array.Int32Builder).Append(x)
	case coltype.Int64:
		x := int64(v)
		if r < len(edgeInts) {
			x = edgeInts[r]
		}
		b.(*array.Int64Builder).Append(x)
	case coltype.Float32:
		x := float32(rng.NormFloat64() * 1e3)
		if r < len(edgeFloats) {
			x = float32(edgeFloats[r])
		}
		b.(*array.Float32Builder).Append(x)
	case coltype.Float64:
		x := rng.NormFloat64() * 1e6
		if r < len(edgeFloats) {
			x = edgeFloats[r]
		}
		b.(*array.Float64Builder).Append(x)
	case coltype.Decimal:
		edge := edgeDecs
		if c.Precision > 18 {
			edge = edgeDec38
		}
		var d decimal128.Num
		if r < len(edge) {
			var err error
			if d, err = decimal128.FromString(edge[r], int32(c.Precision), int32(c.Scale)); err != nil {
				t.Fatalf("decimal %s: %v", edge[r], err)
			}
		} else {
			d = decimal128.FromI64(rng.Int64N(1e11) - 5e10)
		}
		b.(*array.Decimal128Builder).Append(d)
	case coltype.String:
		s := fmt.Sprintf("value %d %x", v, rng.Uint64())
		if r < len(edgeText) {
			s = edgeText[r]
		}
		b.(*array.StringBuilder).Append(s)
	case coltype.Bytes:
		p := make([]byte, rng.IntN(40))
		for i := range p {
			p[i] = byte(rng.IntN(256))
		}
		b.(*array.BinaryBuilder).Append(p)
	case coltype.Date:
		d := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(2000)-1000)
		if r < len(edgeDates) {
			d = edgeDates[r]
		}
		b.(*array.Date32Builder).Append(arrow.Date32FromTime(d))
	case coltype.Time:
		us := rng.Int64N(86400 * 1e6)
		b.(*array.Time64Builder).Append(arrow.Time64(us))
	case coltype.Timestamp, coltype.TimestampTZ:
		ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(v)*time.Second + time.Duration(rng.IntN(1e6))*time.Microsecond)
		if r < len(edgeTimes) {
			ts = edgeTimes[r]
		}
		x, err := arrow.TimestampFromTime(ts, arrow.Microsecond)
		if err != nil {
			t.Fatalf("timestamp %v: %v", ts, err)
		}
		b.(*array.TimestampBuilder).Append(x)
	case coltype.UUID:
		var u uuid.UUID
		for i := range u {
			u[i] = byte(rng.IntN(256))
		}
		b.(*extensions.UUIDBuilder).Append(u)
	case coltype.JSON:
		s := fmt.Sprintf(`{"id":%d,"tags":["a","b"],"x":%g}`, v, rng.Float64())
		b.(*array.ExtensionBuilder).StorageBuilder().(*array.StringBuilder).Append(s)
	default:
		t.Fatalf("no generator for kind %v", c.Kind)
	}
}

// mixedColumns mirrors the 12-column table of the measurements in
// shared/notes/postgres-to-parquet.md.
func mixedColumns() []coltype.Column {
	return []coltype.Column{
		{Name: "id", Kind: coltype.Int64},
		{Name: "qty", Kind: coltype.Int32, Nullable: true},
		{Name: "amount", Kind: coltype.Decimal, Precision: 12, Scale: 2, Nullable: true},
		{Name: "descr", Kind: coltype.String, Nullable: true},
		{Name: "city", Kind: coltype.String, Nullable: true},
		{Name: "created", Kind: coltype.TimestampTZ, Nullable: true},
		{Name: "updated", Kind: coltype.TimestampTZ, Nullable: true},
		{Name: "day", Kind: coltype.Date, Nullable: true},
		{Name: "active", Kind: coltype.Bool, Nullable: true},
		{Name: "doc", Kind: coltype.JSON, Nullable: true},
		{Name: "ref", Kind: coltype.UUID, Nullable: true},
		{Name: "score", Kind: coltype.Float64, Nullable: true},
	}
}

var cities = []string{"Lisbon", "Porto", "Faro", "Braga", "Coimbra", "Évora", "Aveiro", "Viseu", "Leiria", "Setúbal"}

// buildMixed makes n rows of mixedColumns starting at id first: ids
// ascending, small-range qty, high-cardinality text, a 10-value city with
// 20% NULLs, ascending and random timestamps, ~1000 distinct days.
func buildMixed(t testing.TB, first, n int) arrow.RecordBatch {
	t.Helper()
	sc := coltype.ArrowSchema(mixedColumns())
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer rb.Release()
	rng := rand.New(rand.NewPCG(uint64(first), 7))
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for r := 0; r < n; r++ {
		id := first + r
		rb.Field(0).(*array.Int64Builder).Append(int64(id))
		rb.Field(1).(*array.Int32Builder).Append(int32(rng.IntN(1000)))
		rb.Field(2).(*array.Decimal128Builder).Append(decimal128.FromI64(rng.Int64N(1e8)))
		rb.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("order %d for customer %d", id, rng.IntN(1e6)))
		if rng.IntN(5) == 0 {
			rb.Field(4).AppendNull()
		} else {
			rb.Field(4).(*array.StringBuilder).Append(cities[rng.IntN(len(cities))])
		}
		created, _ := arrow.TimestampFromTime(base.Add(time.Duration(id)*time.Second), arrow.Microsecond)
		rb.Field(5).(*array.TimestampBuilder).Append(created)
		updated, _ := arrow.TimestampFromTime(base.Add(time.Duration(rng.Int64N(1e15))), arrow.Microsecond)
		rb.Field(6).(*array.TimestampBuilder).Append(updated)
		rb.Field(7).(*array.Date32Builder).Append(arrow.Date32FromTime(base.AddDate(0, 0, rng.IntN(1000))))
		rb.Field(8).(*array.BooleanBuilder).Append(rng.IntN(2) == 0)
		rb.Field(9).(*array.ExtensionBuilder).StorageBuilder().(*array.StringBuilder).Append(fmt.Sprintf(`{"id":%d,"n":%d}`, id, rng.IntN(100)))
		var u uuid.UUID
		for i := range u {
			u[i] = byte(rng.IntN(256))
		}
		rb.Field(10).(*extensions.UUIDBuilder).Append(u)
		rb.Field(11).(*array.Float64Builder).Append(rng.Float64() * 1e4)
	}
	return rb.NewRecordBatch()
}
