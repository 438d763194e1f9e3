package lake

import (
	"crypto/md5"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wharf-data/wharf/internal/coltype"
)

// JSON columns are written without statistics, every other column with.
func TestStatisticsNotForJSON(t *testing.T) {
	jsonType := coltype.Column{Kind: coltype.JSON}.ArrowType()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "doc", Type: jsonType, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "ref", Type: extensions.NewUUIDType()},
		{Name: "amount", Type: &arrow.Decimal128Type{Precision: 12, Scale: 2}},
	}, nil)
	props, _, err := WriterOptions{}.WithDefaults().parquetProperties(schema, nil, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range schema.Fields() {
		if got, want := props.StatisticsEnabledFor(f.Name), f.Name != "doc"; got != want {
			t.Errorf("column %s: statistics %v, want %v", f.Name, got, want)
		}
	}
}

// A 32-bit column is delta-packed when that takes no more bits a value than
// its dictionary indices (or PLAIN, where the dictionary would lose).
func TestDeltaBeatsDictionary(t *testing.T) {
	int32s := func(n int, f func(i int) int32) arrow.Array {
		b := array.NewInt32Builder(memory.DefaultAllocator)
		defer b.Release()
		for i := range n {
			if i%10 == 3 {
				b.AppendNull() // nulls are not in the deltas
				continue
			}
			b.Append(f(i))
		}
		return b.NewArray()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	decimals := func(precision int32, f func(i int) int64) arrow.Array {
		b := array.NewDecimal128Builder(memory.DefaultAllocator, &arrow.Decimal128Type{Precision: precision, Scale: 2})
		defer b.Release()
		for i := range 10000 {
			b.Append(decimal128.FromI64(f(i)))
		}
		return b.NewArray()
	}
	dates := array.NewDate32Builder(memory.DefaultAllocator)
	defer dates.Release()
	for i := range 10000 {
		dates.Append(arrow.Date32(20000 - i%3650)) // a day back per row, over ten years
	}
	shorts := array.NewInt16Builder(memory.DefaultAllocator)
	defer shorts.Release()
	for i := range 10000 {
		shorts.Append(int16(i))
	}
	for _, c := range []struct {
		name string
		col  arrow.Array
		want bool
	}{
		{"serial key", int32s(10000, func(i int) int32 { return int32(i) + 1 }), true},
		{"cycling quantity", int32s(10000, func(i int) int32 { return int32(i % 1000) }), true},
		{"random quantity", int32s(10000, func(int) int32 { return rng.Int32N(1000) }), false},
		{"status code", int32s(10000, func(int) int32 { return rng.Int32N(5) }), false},
		{"two far values", int32s(10000, func(int) int32 { return rng.Int32N(2) * 1e9 }), false},
		{"one value", int32s(10000, func(int) int32 { return 7 }), true},
		{"random int32", int32s(10000, func(int) int32 { return int32(rng.Uint32()) }), false}, // 32.6 bits against PLAIN's 32
		{"all null", int32s(1, func(int) int32 { return 1 }), false},
		{"stepping date", dates.NewArray(), true},
		{"serial int2", shorts.NewArray(), true},
		{"serial decimal(9,2)", decimals(9, func(i int) int64 { return int64(i) * 100 }), true},
		{"decimal(12,2): INT64, always delta", decimals(12, func(i int) int64 { return int64(i) * 100 }), false},
	} {
		if got := deltaBeatsDictionary(c.col); got != c.want {
			t.Errorf("%s: delta %v, want %v (%.1f bits a value delta-packed)", c.name, got, c.want, deltaBits(int32Sample(c.col, dictionarySample)))
		}
		c.col.Release()
	}
}

// Text that loses its dictionary is DELTA_BYTE_ARRAY where neighbours share
// a prefix, DELTA_LENGTH_BYTE_ARRAY where they share next to nothing.
func TestPrefixesShared(t *testing.T) {
	strs := func(f func(i int) string) arrow.Array {
		b := array.NewStringBuilder(memory.DefaultAllocator)
		defer b.Release()
		for i := range 10000 {
			if i%5 == 0 {
				b.AppendNull()
				continue
			}
			b.Append(f(i))
		}
		return b.NewArray()
	}
	for _, c := range []struct {
		name string
		col  arrow.Array
		want bool
	}{
		{"customer names", strs(func(i int) string { return fmt.Sprintf("customer %d", i) }), true},
		{"md5 hex", strs(func(i int) string { return fmt.Sprintf("%x", md5.Sum([]byte(strconv.Itoa(i)))) }), false},
		{"sorted paths", strs(func(i int) string { return fmt.Sprintf("/data/%04d/part-%d.csv", i/100, i) }), true},
	} {
		if got := prefixesShared(c.col); got != c.want {
			t.Errorf("%s: prefixes shared %v, want %v", c.name, got, c.want)
		}
		if !dictionaryLoses(c.col) {
			t.Errorf("%s: the dictionary should lose", c.name)
		}
		c.col.Release()
	}
}
