package lake

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// intValues are the values of a column stored as INT32 or INT64 (T) for
// ownColumn, DELTA_BINARY_PACKED: integers, dates, times, timestamps and
// decimals of up to 18 digits, as pqarrow converts them (see
// intValuesFor). Keys and event times take most of the benchmark's
// columns; arrow-go spent ~0.6 CPU-seconds on 5M rows in its delta
// encoder alone, value by value through a bit writer.
type intValues[T int32 | int64] struct {
	kind      arrow.Type
	precision int32 // a decimal's
	src       []T   // the loaded array's values, row k at k
	conv      []T   // src, where the array's values are not T already

	packer deltaPacker[T]
	stats  bool // whether to keep min and max
	hasMin bool
	min    T
	max    T
}

// intValuesFor returns the values of an INT32 or INT64 column of Arrow
// arrays whose values pqarrow writes as they are or widened (int8 to
// int64, date32, times and timestamps in the unit the column declares) or
// as a decimal's integer (decimal128 of up to 18 digits, stored as an
// integer), else nil. A time or timestamp whose unit pqarrow converts
// (seconds to milliseconds always; nanoseconds to microseconds for older
// format versions or when asked to coerce) stays with arrow-go, as do
// unsigned integers.
func intValuesFor(descr *schema.Column, t arrow.DataType, stats bool) columnValues {
	physical, ok := integerStorage(t)
	if !ok || descr.PhysicalType() != physical || !sameTimeUnit(descr, t) {
		return nil
	}
	if physical == parquet.Types.Int32 {
		return newIntValues[int32](t, stats)
	}
	return newIntValues[int64](t, stats)
}

// integerStorage returns the Parquet integer type pqarrow stores values
// of Arrow type t in (with storeDecimalAsInteger), if it stores them in
// one: INT32 for int8/16/32, date32, time32 and decimals of up to 9
// digits, INT64 for int64, time64, timestamps and decimals of 10 to 18.
// (Unsigned integers are left out: they sort unsigned.)
func integerStorage(t arrow.DataType) (parquet.Type, bool) {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.DATE32, arrow.TIME32:
		return parquet.Types.Int32, true
	case arrow.INT64, arrow.TIME64, arrow.TIMESTAMP:
		return parquet.Types.Int64, true
	case arrow.DECIMAL128:
		switch p := t.(*arrow.Decimal128Type).Precision; {
		case p <= 9:
			return parquet.Types.Int32, true
		case p <= 18:
			return parquet.Types.Int64, true
		}
	}
	return 0, false
}

// newIntValues returns the values of type t (stored as T, see
// integerStorage).
func newIntValues[T int32 | int64](t arrow.DataType, stats bool) *intValues[T] {
	v := &intValues[T]{kind: t.ID(), stats: stats}
	if d, ok := t.(*arrow.Decimal128Type); ok {
		v.precision = d.Precision
	}
	return v
}

// sameTimeUnit is true unless t is a time or timestamp whose unit is not
// the one the Parquet column declares: then pqarrow converts the values.
func sameTimeUnit(descr *schema.Column, t arrow.DataType) bool {
	var unit arrow.TimeUnit
	switch t := t.(type) {
	case *arrow.Time32Type:
		unit = t.Unit
	case *arrow.Time64Type:
		unit = t.Unit
	case *arrow.TimestampType:
		unit = t.Unit
	default:
		return true
	}
	lt, ok := descr.LogicalType().(interface{ TimeUnit() schema.TimeUnitType })
	if !ok {
		return false
	}
	switch lt.TimeUnit() {
	case schema.TimeUnitMillis:
		return unit == arrow.Millisecond
	case schema.TimeUnitMicros:
		return unit == arrow.Microsecond
	case schema.TimeUnitNanos:
		return unit == arrow.Nanosecond
	}
	return false
}

func (v *intValues[T]) load(arr arrow.Array) error {
	n := arr.Len()
	switch a := arr.(type) {
	case *array.Int8:
		v.src = widen(v.conv, a.Int8Values())
	case *array.Int16:
		v.src = widen(v.conv, a.Int16Values())
	case *array.Decimal128:
		var err error
		if v.src, err = decimalInts(v.conv, a, v.precision); err != nil {
			return err
		}
	default:
		if arr.DataType().ID() != v.kind {
			return fmt.Errorf("%s array, want %s", arr.DataType(), v.kind)
		}
		// Values of T's width as they are.
		v.src = nil
		if buf := arr.Data().Buffers()[1]; buf != nil {
			off := arr.Data().Offset()
			v.src = arrow.GetData[T](buf.Bytes())[off : off+n]
		}
		return nil
	}
	v.conv = v.src
	return nil
}

// widen returns src as T, in dst's memory.
func widen[T int32 | int64, S int8 | int16](dst []T, src []S) []T {
	dst = dst[:0]
	for _, x := range src {
		dst = append(dst, T(x))
	}
	return dst
}

// decimalInts returns the unscaled values of a (in dst's memory), which
// must fit T and the precision, as pqarrow checks: a value does not
// (a NULL's slot is not looked at).
func decimalInts[T int32 | int64](dst []T, a *array.Decimal128, precision int32) ([]T, error) {
	dst = dst[:0]
	bound := int64(1)
	for range precision {
		bound *= 10
	}
	for k, x := range a.Values() {
		lo := int64(x.LowBits())
		if (x.HighBits() != lo>>63 || int64(T(lo)) != lo || lo <= -bound || lo >= bound) && a.IsValid(k) {
			return nil, fmt.Errorf("row %d: %s does not fit decimal(%d, %d)", k,
				x.ToString(a.DataType().(*arrow.Decimal128Type).Scale), precision, a.DataType().(*arrow.Decimal128Type).Scale)
		}
		dst = append(dst, T(lo))
	}
	return dst, nil
}

func (v *intValues[T]) unload() { v.src = nil }

func (v *intValues[T]) add(bitmap []byte, off, i, j int) {
	vals := v.src[i:j]
	if bitmap == nil {
		if len(vals) == 0 {
			return
		}
		v.packer.addAll(vals)
		if v.stats {
			mn, mx := vals[0], vals[0]
			if v.hasMin {
				mn, mx = v.min, v.max
			}
			for _, x := range vals {
				mn = min(mn, x)
				mx = max(mx, x)
			}
			v.min, v.max, v.hasMin = mn, mx, true
		}
		return
	}
	for k, x := range vals {
		if !bitutil.BitIsSet(bitmap, off+i+k) {
			continue
		}
		v.packer.add(x)
		if v.stats {
			if !v.hasMin {
				v.min, v.max, v.hasMin = x, x, true
			}
			v.min = min(v.min, x)
			v.max = max(v.max, x)
		}
	}
}

func (v *intValues[T]) size() int { return v.packer.size() }

func (v *intValues[T]) appendTo(dst []byte) []byte { return v.packer.appendTo(dst) }

func (v *intValues[T]) bound(stats metadata.TypedStatistics) {
	if !v.hasMin {
		return
	}
	switch s := stats.(type) {
	case *metadata.Int32Statistics:
		s.SetMinMax(int32(v.min), int32(v.max))
	case *metadata.Int64Statistics:
		s.SetMinMax(int64(v.min), int64(v.max))
	}
}

func (v *intValues[T]) reset(keep int) {
	if cap(v.conv)*int(unsafe.Sizeof(v.min)) > keep {
		v.conv = nil
	}
	v.packer.reset()
	v.hasMin = false
}
