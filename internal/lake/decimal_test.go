package lake_test

import (
	"fmt"
	"math/big"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/lake/parquettest"
)

// TestDecimalWidths lands decimals on both sides of each storage width
// (INT32 up to 9 digits, INT64 up to 18, FIXED_LEN_BYTE_ARRAY beyond), at
// scale 0 and scale = precision, with their largest magnitudes of both
// signs, the smallest steps and NULLs: every value reads back, and each
// column chunk's min/max statistics are exactly the smallest and largest
// value (readers prune on them; negative values must order below positive).
func TestDecimalWidths(t *testing.T) {
	widths := []struct {
		p, s int32
		want parquet.Type
	}{
		{1, 0, parquet.Types.Int32}, {9, 9, parquet.Types.Int32},
		{10, 0, parquet.Types.Int64}, {18, 18, parquet.Types.Int64}, {18, 6, parquet.Types.Int64},
		{19, 0, parquet.Types.FixedLenByteArray}, {38, 38, parquet.Types.FixedLenByteArray},
	}
	var fields []arrow.Field
	for _, w := range widths {
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("d%d_%d", w.p, w.s), Type: &arrow.Decimal128Type{Precision: w.p, Scale: w.s}, Nullable: true})
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer rb.Release()
	lo, hi := make([]*big.Int, len(widths)), make([]*big.Int, len(widths))
	for i, w := range widths {
		b := rb.Field(i).(*array.Decimal128Builder)
		max := new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(w.p)), nil), big.NewInt(1))
		// NULL first: the file's first record starts with one.
		b.AppendNull()
		// The extremes in the middle of the chunk, not at its ends.
		for r, v := range []*big.Int{big.NewInt(1), big.NewInt(-1), big.NewInt(0), new(big.Int).Neg(max), max, big.NewInt(-7), big.NewInt(3)} {
			b.Append(decimal128.FromBigInt(v))
			if r == 2 {
				b.AppendNull()
			}
		}
		lo[i], hi[i] = new(big.Int).Neg(max), max
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()

	l, root := openLake(t)
	files := writeRun(t, l, "p", "r", nil, lake.WriterOptions{}, rec)
	path := filepath.Join(root, files[0].Path)
	got := parquettest.ReadFile(t, path)
	want := tableOf(rec)
	defer want.Release()
	sameTable(t, got, want)

	rg := parquettest.Metadata(t, path).RowGroup(0)
	for i, w := range widths {
		cc, err := rg.ColumnChunk(i)
		if err != nil {
			t.Fatal(err)
		}
		name := fields[i].Name
		if cc.Type() != w.want {
			t.Errorf("column %s: physical type %s, want %s", name, cc.Type(), w.want)
		}
		st, err := cc.Statistics()
		if err != nil || st == nil || !st.HasMinMax() {
			t.Errorf("column %s: no min/max statistics (%v)", name, err)
			continue
		}
		var gotLo, gotHi *big.Int
		switch s := st.(type) {
		case *metadata.Int32Statistics:
			gotLo, gotHi = big.NewInt(int64(s.Min())), big.NewInt(int64(s.Max()))
		case *metadata.Int64Statistics:
			gotLo, gotHi = big.NewInt(s.Min()), big.NewInt(s.Max())
		case *metadata.FixedLenByteArrayStatistics:
			gotLo, gotHi = twosComplement(s.Min()), twosComplement(s.Max())
		default:
			t.Errorf("column %s: statistics %T", name, st)
			continue
		}
		if gotLo.Cmp(lo[i]) != 0 || gotHi.Cmp(hi[i]) != 0 {
			t.Errorf("column %s: statistics [%s, %s], values span [%s, %s]", name, gotLo, gotHi, lo[i], hi[i])
		}
		if st.NullCount() != 2 {
			t.Errorf("column %s: statistics count %d NULLs, want 2", name, st.NullCount())
		}
	}
}

// twosComplement reads a big-endian two's complement integer.
func twosComplement(b []byte) *big.Int {
	n := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return n
}
