package sourcepostgres

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// fieldDecoder appends one column's binary COPY values to its column (see
// column and newField) or, in a list or record, to its Arrow builder.
// Value bytes are only valid during the call.
type fieldDecoder interface {
	decode(v []byte) error
	appendNull()
}

// PostgreSQL's binary dates and timestamps count from 2000-01-01.
const (
	pgEpochDays   = 10957            // days from 1970-01-01 to 2000-01-01
	pgEpochMicros = 946684800000000  // microseconds from 1970-01-01 to 2000-01-01
	microsPerDay  = 86400 * 1000000  // time 24:00:00 is this many microseconds
	maxTimeMicros = microsPerDay - 1 // 23:59:59.999999
)

// Clamp bounds for ±infinity (see the package comment).
var (
	minDate32  = arrow.Date32(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	maxDate32  = arrow.Date32(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	minTSMicro = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxTSMicro = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
)

// newFieldDecoder binds a decoder to the builder of column c.
func newFieldDecoder(c pgColumn, b array.Builder) (fieldDecoder, error) {
	var d fieldDecoder
	ok := true
	switch c.wire {
	case wireBool:
		var bb *array.BooleanBuilder
		bb, ok = b.(*array.BooleanBuilder)
		d = boolDecoder{bb}
	case wireInt2:
		var bb *array.Int16Builder
		bb, ok = b.(*array.Int16Builder)
		d = int16Decoder{bb}
	case wireInt4:
		var bb *array.Int32Builder
		bb, ok = b.(*array.Int32Builder)
		d = int32Decoder{bb}
	case wireInt8:
		var bb *array.Int64Builder
		bb, ok = b.(*array.Int64Builder)
		d = int64Decoder{bb}
	case wireFloat4:
		var bb *array.Float32Builder
		bb, ok = b.(*array.Float32Builder)
		d = float32Decoder{bb}
	case wireFloat8:
		var bb *array.Float64Builder
		bb, ok = b.(*array.Float64Builder)
		d = float64Decoder{bb}
	case wireNumeric:
		var bb *array.Decimal128Builder
		bb, ok = b.(*array.Decimal128Builder)
		d = newNumericDecoder(bb, c.col.Precision, c.col.Scale)
	case wireText:
		var bb *array.StringBuilder
		bb, ok = b.(*array.StringBuilder)
		if ok {
			d = bytesDecoder{bb.BinaryBuilder}
		}
	case wireBytea:
		var bb *array.BinaryBuilder
		bb, ok = b.(*array.BinaryBuilder)
		d = bytesDecoder{bb}
	case wireDate:
		var bb *array.Date32Builder
		bb, ok = b.(*array.Date32Builder)
		d = dateDecoder{bb}
	case wireTime:
		var bb *array.Time64Builder
		bb, ok = b.(*array.Time64Builder)
		d = timeDecoder{bb}
	case wireTimestamp, wireTimestamptz:
		var bb *array.TimestampBuilder
		bb, ok = b.(*array.TimestampBuilder)
		d = timestampDecoder{bb}
	case wireUUID:
		var ub *extensions.UUIDBuilder
		if ub, ok = b.(*extensions.UUIDBuilder); ok {
			var fb *array.FixedSizeBinaryBuilder
			fb, ok = ub.ExtensionBuilder.Builder.(*array.FixedSizeBinaryBuilder)
			d = uuidDecoder{uuidBuilder{fb}}
		}
	case wireJSON, wireJSONB:
		var eb *array.ExtensionBuilder
		if eb, ok = b.(*array.ExtensionBuilder); ok {
			var sb *array.StringBuilder
			if sb, ok = eb.Builder.(*array.StringBuilder); ok {
				d = jsonDecoder{sb.BinaryBuilder, c.wire == wireJSONB}
			}
		}
	case wireMoney:
		var bb *array.Decimal128Builder
		bb, ok = b.(*array.Decimal128Builder)
		d = moneyDecoder{bb}
	case wireInterval:
		var sb *array.StructBuilder
		if sb, ok = b.(*array.StructBuilder); ok {
			d, ok = newIntervalDecoder(sb)
		}
	case wireHstore:
		var mb *array.MapBuilder
		if mb, ok = b.(*array.MapBuilder); ok {
			d, ok = newHstoreDecoder(mb)
		}
	case wireArray:
		lb, isList := b.(*array.ListBuilder)
		if !isList {
			ok = false
			break
		}
		return newArrayDecoder(c, lb)
	case wireRecord:
		sb, isStruct := b.(*array.StructBuilder)
		if !isStruct {
			ok = false
			break
		}
		return newRecordDecoder(c, sb)
	default:
		ok = false
	}
	if !ok {
		return nil, fmt.Errorf("no decoder for %s into Arrow builder %T", c.col.SourceType, b)
	}
	return d, nil
}

// field is one column of the COPY row: its decoder, the column it fills,
// and for the common flat types the column copyDecoder.decodeRow appends
// an ordinary value to itself, without an interface call or a capacity
// check.
type field struct {
	dec      fieldDecoder
	col      column
	nullable bool
	kind     fastKind
	// The column decodeRow appends to, by kind.
	boolean *array.BooleanBuilder
	i16     *fixedColumn[int16]
	i32     *fixedColumn[int32]
	i64     *fixedColumn[int64]
	f32     *fixedColumn[float32]
	f64     *fixedColumn[float64]
	date    *fixedColumn[arrow.Date32]
	ts      *fixedColumn[arrow.Timestamp]
	bin     *varColumn
	uuid    *fixedColumn[[16]byte]
	num     *numericDecoder // num.fast converts an ordinary value for d128
	d128    *fixedColumn[decimal128.Num]
}

type fastKind uint8

const (
	fastNone fastKind = iota // every value goes through dec
	fastBool
	fastInt16
	fastInt32
	fastInt64
	fastFloat32
	fastFloat64
	fastDate
	fastTimestamp
	fastBytes
	fastJSONB
	fastUUID
	fastNumeric
)

// newField makes the field of a top-level column whose decoder dec appends
// to b, a builder of mem. Columns of the types decodeRow appends itself
// fill a varColumn or fixedColumn of mem instead (bool excepted):
// b is released and dec appends there.
func newField(dec fieldDecoder, nullable bool, b array.Builder, mem memory.Allocator) field {
	f := field{dec: dec, col: b, nullable: nullable}
	t := b.Type()
	switch d := dec.(type) {
	case boolDecoder:
		f.kind, f.boolean = fastBool, d.b
	case int16Decoder:
		f.i16 = newFixedColumn[int16](mem, t)
		f.kind, f.dec, f.col = fastInt16, int16Decoder{f.i16}, f.i16
	case int32Decoder:
		f.i32 = newFixedColumn[int32](mem, t)
		f.kind, f.dec, f.col = fastInt32, int32Decoder{f.i32}, f.i32
	case int64Decoder:
		f.i64 = newFixedColumn[int64](mem, t)
		f.kind, f.dec, f.col = fastInt64, int64Decoder{f.i64}, f.i64
	case float32Decoder:
		f.f32 = newFixedColumn[float32](mem, t)
		f.kind, f.dec, f.col = fastFloat32, float32Decoder{f.f32}, f.f32
	case float64Decoder:
		f.f64 = newFixedColumn[float64](mem, t)
		f.kind, f.dec, f.col = fastFloat64, float64Decoder{f.f64}, f.f64
	case dateDecoder:
		f.date = newFixedColumn[arrow.Date32](mem, t)
		f.kind, f.dec, f.col = fastDate, dateDecoder{f.date}, f.date
	case timestampDecoder:
		f.ts = newFixedColumn[arrow.Timestamp](mem, t)
		f.kind, f.dec, f.col = fastTimestamp, timestampDecoder{f.ts}, f.ts
	case bytesDecoder:
		f.bin = newVarColumn(mem, t)
		f.kind, f.dec, f.col = fastBytes, bytesDecoder{f.bin}, f.bin
	case jsonDecoder:
		f.bin = newVarColumn(mem, t)
		f.kind, f.dec, f.col = fastBytes, jsonDecoder{f.bin, d.jsonb}, f.bin
		if d.jsonb {
			f.kind = fastJSONB
		}
	case uuidDecoder:
		f.uuid = newFixedColumn[[16]byte](mem, t)
		f.kind, f.dec, f.col = fastUUID, uuidDecoder{f.uuid}, f.uuid
	case *numericDecoder:
		f.d128 = newFixedColumn[decimal128.Num](mem, t)
		d.b = f.d128
		f.kind, f.num, f.col = fastNumeric, d, f.d128
	}
	if f.col != b {
		b.Release()
	}
	return f
}

// castHint marks a value that cannot land as its column's type but would
// land with the catalog's cast: the message then says how, naming the column.
type castHint struct {
	cast string // string | json
	err  error
}

func (h castHint) Error() string { return h.err.Error() }
func (h castHint) Unwrap() error { return h.err }

func wantLen(v []byte, n int) error {
	if len(v) != n {
		return fmt.Errorf("binary value has %d bytes, want %d (did the column type change?)", len(v), n)
	}
	return nil
}

type boolDecoder struct{ b *array.BooleanBuilder }

func (d boolDecoder) appendNull() { d.b.AppendNull() }
func (d boolDecoder) decode(v []byte) error {
	if err := wantLen(v, 1); err != nil {
		return err
	}
	d.b.Append(v[0] != 0)
	return nil
}

type int16Decoder struct{ b appender[int16] }

func (d int16Decoder) appendNull() { d.b.AppendNull() }
func (d int16Decoder) decode(v []byte) error {
	if err := wantLen(v, 2); err != nil {
		return err
	}
	d.b.Append(int16(binary.BigEndian.Uint16(v)))
	return nil
}

type int32Decoder struct{ b appender[int32] }

func (d int32Decoder) appendNull() { d.b.AppendNull() }
func (d int32Decoder) decode(v []byte) error {
	if err := wantLen(v, 4); err != nil {
		return err
	}
	d.b.Append(int32(binary.BigEndian.Uint32(v)))
	return nil
}

type int64Decoder struct{ b appender[int64] }

func (d int64Decoder) appendNull() { d.b.AppendNull() }
func (d int64Decoder) decode(v []byte) error {
	if err := wantLen(v, 8); err != nil {
		return err
	}
	d.b.Append(int64(binary.BigEndian.Uint64(v)))
	return nil
}

type float32Decoder struct{ b appender[float32] }

func (d float32Decoder) appendNull() { d.b.AppendNull() }
func (d float32Decoder) decode(v []byte) error {
	if err := wantLen(v, 4); err != nil {
		return err
	}
	d.b.Append(math.Float32frombits(binary.BigEndian.Uint32(v)))
	return nil
}

type float64Decoder struct{ b appender[float64] }

func (d float64Decoder) appendNull() { d.b.AppendNull() }
func (d float64Decoder) decode(v []byte) error {
	if err := wantLen(v, 8); err != nil {
		return err
	}
	d.b.Append(math.Float64frombits(binary.BigEndian.Uint64(v)))
	return nil
}

// bytesDecoder serves text-like types (whose binary form is the UTF-8 text)
// and bytea. Append copies without allocating.
type bytesDecoder struct{ b bytesAppender }

func (d bytesDecoder) appendNull() { d.b.AppendNull() }
func (d bytesDecoder) decode(v []byte) error {
	d.b.Append(v)
	return nil
}

// jsonDecoder appends json text; jsonb starts with a format version byte (1).
type jsonDecoder struct {
	b     bytesAppender
	jsonb bool
}

func (d jsonDecoder) appendNull() { d.b.AppendNull() }
func (d jsonDecoder) decode(v []byte) error {
	if d.jsonb {
		if len(v) == 0 || v[0] != 1 {
			return fmt.Errorf("jsonb value does not start with format version 1")
		}
		v = v[1:]
	}
	d.b.Append(v)
	return nil
}

type uuidDecoder struct{ b appender[[16]byte] }

func (d uuidDecoder) appendNull() { d.b.AppendNull() }
func (d uuidDecoder) decode(v []byte) error {
	if err := wantLen(v, 16); err != nil {
		return err
	}
	d.b.Append([16]byte(v))
	return nil
}

// uuidBuilder is a nested uuid's builder as uuidDecoder appends to it.
type uuidBuilder struct{ *array.FixedSizeBinaryBuilder }

func (b uuidBuilder) Append(v [16]byte) { b.FixedSizeBinaryBuilder.Append(v[:]) }

type dateDecoder struct{ b appender[arrow.Date32] }

func (d dateDecoder) appendNull() { d.b.AppendNull() }
func (d dateDecoder) decode(v []byte) error {
	if err := wantLen(v, 4); err != nil {
		return err
	}
	switch days := int32(binary.BigEndian.Uint32(v)); days {
	case math.MaxInt32: // infinity
		d.b.Append(maxDate32)
	case math.MinInt32: // -infinity
		d.b.Append(minDate32)
	default:
		d.b.Append(pgDate(days))
	}
	return nil
}

type timeDecoder struct{ b *array.Time64Builder }

func (d timeDecoder) appendNull() { d.b.AppendNull() }
func (d timeDecoder) decode(v []byte) error {
	if err := wantLen(v, 8); err != nil {
		return err
	}
	us := int64(binary.BigEndian.Uint64(v))
	if us > maxTimeMicros { // 24:00:00
		us = maxTimeMicros
	}
	d.b.Append(arrow.Time64(us))
	return nil
}

// timestampDecoder serves timestamp and timestamptz: both are microseconds
// since 2000-01-01 (UTC for timestamptz).
type timestampDecoder struct{ b appender[arrow.Timestamp] }

func (d timestampDecoder) appendNull() { d.b.AppendNull() }
func (d timestampDecoder) decode(v []byte) error {
	if err := wantLen(v, 8); err != nil {
		return err
	}
	switch us := int64(binary.BigEndian.Uint64(v)); us {
	case math.MaxInt64: // infinity
		d.b.Append(arrow.Timestamp(maxTSMicro))
	case math.MinInt64: // -infinity
		d.b.Append(arrow.Timestamp(minTSMicro))
	default:
		if us > math.MaxInt64-pgEpochMicros {
			// Only years after 294246 get here; PostgreSQL allows up to 294276.
			return fmt.Errorf("timestamp %d µs after 2000-01-01 is beyond the microsecond range since 1970", us)
		}
		d.b.Append(pgTimestamp(us))
	}
	return nil
}

// pgDate and pgTimestamp move a finite date or timestamp from PostgreSQL's
// epoch to Arrow's.
func pgDate(days int32) arrow.Date32       { return arrow.Date32(days + pgEpochDays) }
func pgTimestamp(us int64) arrow.Timestamp { return arrow.Timestamp(us + pgEpochMicros) }
