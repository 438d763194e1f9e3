package sourcemysql

import (
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"

	"github.com/wharf-data/wharf/internal/source"
)

// recordDecoder appends the driver's text-protocol values (nil, int64,
// uint64, float64 or []byte, the bytes valid only until the next row) to
// Arrow builders and emits a record every batchRows rows or source.BatchBytes
// bytes of values, whichever comes first.
type recordDecoder struct {
	table     string
	bld       *array.RecordBuilder
	cols      []colDecoder
	batchRows int
	n         int   // rows in the current batch
	bytes     int   // their values' size as the driver gave them
	rows      int64 // rows decoded
	emit      func(arrow.RecordBatch) error
}

// colDecoder is one column's decoder and its typed builder.
type colDecoder struct {
	c   *myColumn
	i16 *array.Int16Builder
	i32 *array.Int32Builder
	i64 *array.Int64Builder
	f32 *array.Float32Builder
	f64 *array.Float64Builder
	bl  *array.BooleanBuilder
	dec *array.Decimal128Builder
	bin *array.BinaryBuilder // string, json and bytes
	d32 *array.Date32Builder
	t64 *array.Time64Builder
	ts  *array.TimestampBuilder
	fsb *array.FixedSizeBinaryBuilder
}

func newRecordDecoder(mem memory.Allocator, table string, cols []myColumn, schema *arrow.Schema, batchRows int, emit func(arrow.RecordBatch) error) (*recordDecoder, error) {
	d := &recordDecoder{table: table, bld: array.NewRecordBuilder(mem, schema), batchRows: batchRows, emit: emit}
	d.cols = make([]colDecoder, len(cols))
	for i := range cols {
		cd := &d.cols[i]
		cd.c = &cols[i]
		b := d.bld.Field(i)
		var ok bool
		switch b := b.(type) {
		case *array.Int16Builder:
			cd.i16, ok = b, true
		case *array.Int32Builder:
			cd.i32, ok = b, true
		case *array.Int64Builder:
			cd.i64, ok = b, true
		case *array.Float32Builder:
			cd.f32, ok = b, true
		case *array.Float64Builder:
			cd.f64, ok = b, true
		case *array.BooleanBuilder:
			cd.bl, ok = b, true
		case *array.Decimal128Builder:
			cd.dec, ok = b, true
		case *array.StringBuilder:
			cd.bin, ok = b.BinaryBuilder, true
		case *array.BinaryBuilder:
			cd.bin, ok = b, true
		case *array.Date32Builder:
			cd.d32, ok = b, true
		case *array.Time64Builder:
			cd.t64, ok = b, true
		case *array.TimestampBuilder:
			cd.ts, ok = b, true
		case *extensions.UUIDBuilder:
			cd.fsb, ok = b.ExtensionBuilder.Builder.(*array.FixedSizeBinaryBuilder)
		case *array.ExtensionBuilder: // JSON over utf8
			var sb *array.StringBuilder
			if sb, ok = b.Builder.(*array.StringBuilder); ok {
				cd.bin = sb.BinaryBuilder
			}
		}
		if !ok {
			d.bld.Release()
			return nil, fmt.Errorf("extract table %s column %q: no decoder from %s to %T", table, cols[i].col.Name, cols[i].col.SourceType, b)
		}
	}
	source.ReserveLike(d.bld.Fields(), batchRows, nil)
	return d, nil
}

func (d *recordDecoder) Release() { d.bld.Release() }

// row appends one row and emits a full batch.
func (d *recordDecoder) row(vals []driver.Value) error {
	for i := range d.cols {
		if err := d.cols[i].append(vals[i]); err != nil {
			return fmt.Errorf("extract table %s column %q (%s), row %d of the window: %w",
				d.table, d.cols[i].c.col.Name, d.cols[i].c.col.SourceType, d.rows+1, err)
		}
		d.bytes += source.ValueBytes(vals[i])
	}
	d.rows++
	d.n++
	if d.n >= d.batchRows || d.bytes >= source.BatchBytes {
		return d.flush()
	}
	return nil
}

// flush emits the rows decoded so far, if any.
func (d *recordDecoder) flush() error {
	if d.n == 0 {
		return nil
	}
	d.n, d.bytes = 0, 0
	rec := d.bld.NewRecordBatch()
	source.ReserveLike(d.bld.Fields(), d.batchRows, rec)
	return d.emit(rec)
}

func (cd *colDecoder) append(v driver.Value) error {
	if v == nil {
		cd.appendNull()
		return nil
	}
	switch cd.c.dec {
	case decInt:
		n, err := asInt(v)
		if err != nil {
			return err
		}
		switch {
		case cd.i16 != nil:
			cd.i16.Append(int16(n))
		case cd.i32 != nil:
			cd.i32.Append(int32(n))
		default:
			cd.i64.Append(n)
		}
	case decBool:
		n, err := asInt(v)
		if err != nil {
			return err
		}
		if n != 0 && n != 1 {
			return fmt.Errorf("value %d: a tinyint(1) column lands as bool and holds only 0 and 1 (change the column to tinyint(4) to land it as an integer)", n)
		}
		cd.bl.Append(n == 1)
	case decUint64:
		var u uint64
		switch x := v.(type) {
		case uint64:
			u = x
		case int64:
			u = uint64(x)
		case []byte:
			var err error
			if u, err = strconv.ParseUint(string(x), 10, 64); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected driver value %T", v)
		}
		cd.dec.Append(decimal128.FromU64(u))
	case decDecimal:
		b, err := asBytes(v)
		if err != nil {
			return err
		}
		n, err := parseDecimal(b, int32(cd.c.col.Precision), int32(cd.c.col.Scale))
		if err != nil {
			return err
		}
		cd.dec.Append(n)
	case decText, decJSON, decBytes:
		switch x := v.(type) {
		case []byte:
			cd.bin.Append(x)
		default: // a decimal(p > 38) or enum never arrives as a number, but be safe
			cd.bin.AppendString(fmt.Sprint(x))
		}
	case decFloat32, decFloat64:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case float32:
			f = float64(x)
		case []byte:
			var err error
			if f, err = strconv.ParseFloat(string(x), 64); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected driver value %T", v)
		}
		if cd.f32 != nil {
			cd.f32.Append(float32(f))
		} else {
			cd.f64.Append(f)
		}
	case decDate:
		b, err := asBytes(v)
		if err != nil {
			return err
		}
		days, err := parseDate(b)
		if err != nil {
			return err
		}
		cd.d32.Append(arrow.Date32(days))
	case decDatetime, decTimestamp:
		b, err := asBytes(v)
		if err != nil {
			return err
		}
		us, err := parseDatetime(b)
		if err != nil {
			return err
		}
		cd.ts.Append(arrow.Timestamp(us))
	case decTime:
		b, err := asBytes(v)
		if err != nil {
			return err
		}
		us, err := parseTimeOfDay(b)
		if err != nil {
			return err
		}
		cd.t64.Append(arrow.Time64(us))
	case decBit:
		b, err := asBytes(v)
		if err != nil {
			return err
		}
		if len(b) > 8 {
			return fmt.Errorf("bit value of %d bytes", len(b))
		}
		var buf [8]byte
		copy(buf[8-len(b):], b)
		u := binary.BigEndian.Uint64(buf[:])
		switch {
		case cd.bl != nil:
			cd.bl.Append(u != 0)
		case cd.i64 != nil:
			cd.i64.Append(int64(u))
		default:
			cd.dec.Append(decimal128.FromU64(u))
		}
	case decGeometry:
		b, err := asBytes(v)
		if err != nil {
			return err
		}
		if len(b) < 4 {
			return fmt.Errorf("geometry value of %d bytes: want a 4-byte SRID and WKB", len(b))
		}
		cd.bin.Append(b[4:]) // drop the SRID: the rest is WKB
	case decCastDecimal:
		b, err := asBytes(v)
		if err != nil {
			return err
		}
		n, err := exactDecimal(b, int32(cd.c.col.Precision), int32(cd.c.col.Scale))
		if err != nil {
			return err
		}
		cd.dec.Append(n)
	case decUUID:
		b, err := asBytes(v)
		if err != nil {
			return err
		}
		u, err := uuid.ParseBytes(b)
		if err != nil {
			return fmt.Errorf("uuid %q: %w", b, err)
		}
		cd.fsb.Append(u[:])
	default:
		return fmt.Errorf("no decoder %d", cd.c.dec)
	}
	return nil
}

func (cd *colDecoder) appendNull() {
	switch {
	case cd.i16 != nil:
		cd.i16.AppendNull()
	case cd.i32 != nil:
		cd.i32.AppendNull()
	case cd.i64 != nil:
		cd.i64.AppendNull()
	case cd.f32 != nil:
		cd.f32.AppendNull()
	case cd.f64 != nil:
		cd.f64.AppendNull()
	case cd.bl != nil:
		cd.bl.AppendNull()
	case cd.dec != nil:
		cd.dec.AppendNull()
	case cd.bin != nil:
		cd.bin.AppendNull()
	case cd.d32 != nil:
		cd.d32.AppendNull()
	case cd.t64 != nil:
		cd.t64.AppendNull()
	case cd.ts != nil:
		cd.ts.AppendNull()
	case cd.fsb != nil:
		cd.fsb.AppendNull()
	}
}

func asInt(v driver.Value) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("value %d out of range", x)
		}
		return int64(x), nil
	case []byte:
		return strconv.ParseInt(string(x), 10, 64)
	}
	return 0, fmt.Errorf("unexpected driver value %T", v)
}

func asBytes(v driver.Value) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	return nil, fmt.Errorf("unexpected driver value %T", v)
}

// parseDecimal reads MySQL's decimal text ("-123.45", always with exactly
// scale digits after the point). Precisions up to 18 take an int64 path.
func parseDecimal(b []byte, prec, scale int32) (decimal128.Num, error) {
	if prec <= 18 {
		var n int64
		neg, digits, frac, dot := false, 0, 0, false
		for i, c := range b {
			switch {
			case c == '-' && i == 0:
				neg = true
			case c == '.' && !dot:
				dot = true
			case c >= '0' && c <= '9':
				n = n*10 + int64(c-'0')
				digits++
				if dot {
					frac++
				}
			default:
				digits = 99 // not plain: take the general path
			}
		}
		if digits <= 18 && int32(frac) == scale {
			if neg {
				n = -n
			}
			return decimal128.FromI64(n), nil
		}
	}
	n, err := decimal128.FromString(string(b), prec, scale)
	if err != nil {
		return n, fmt.Errorf("decimal %q does not fit decimal(%d,%d): %w", b, prec, scale, err)
	}
	return n, nil
}

// exactDecimal reads any number's text (exponents included) as
// decimal(prec, scale), failing when that would round or overflow.
func exactDecimal(b []byte, prec, scale int32) (decimal128.Num, error) {
	r, ok := new(big.Rat).SetString(string(b))
	if !ok {
		return decimal128.Num{}, fmt.Errorf("value %q is not a number: cast: decimal(%d,%d) needs one", b, prec, scale)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(prec)), nil)
	if !r.IsInt() || new(big.Int).Abs(r.Num()).Cmp(limit) >= 0 {
		return decimal128.Num{}, fmt.Errorf("value %s does not fit decimal(%d,%d) exactly: cast it to a wider decimal or to string", b, prec, scale)
	}
	return decimal128.FromBigInt(r.Num()), nil
}
