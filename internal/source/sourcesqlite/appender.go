package sourcesqlite

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"

	"github.com/wharf-data/wharf/internal/coltype"
)

// appender converts one non-NULL value and appends it to a column builder.
type appender func(v any) error

// newAppender returns the appender of column c writing into b, a builder
// of c.ArrowType().
func newAppender(c coltype.Column, b array.Builder) (appender, error) {
	switch c.Kind {
	case coltype.Bool:
		bb := b.(*array.BooleanBuilder)
		return func(v any) error {
			x, err := toBool(v)
			if err == nil {
				bb.Append(x)
			}
			return err
		}, nil
	case coltype.Int16:
		bb := b.(*array.Int16Builder)
		return func(v any) error {
			x, err := toIntRange(v, 16)
			if err == nil {
				bb.Append(int16(x))
			}
			return err
		}, nil
	case coltype.Int32:
		bb := b.(*array.Int32Builder)
		return func(v any) error {
			x, err := toIntRange(v, 32)
			if err == nil {
				bb.Append(int32(x))
			}
			return err
		}, nil
	case coltype.Int64:
		bb := b.(*array.Int64Builder)
		return func(v any) error {
			x, err := toInt64(v)
			if err == nil {
				bb.Append(x)
			}
			return err
		}, nil
	case coltype.Float32:
		bb := b.(*array.Float32Builder)
		return func(v any) error {
			x, err := toFloat64(v)
			if err == nil && float64(float32(x)) != x {
				err = fmt.Errorf("%s value is not exact as a 32-bit float", storageClass(v))
			}
			if err == nil {
				bb.Append(float32(x))
			}
			return err
		}, nil
	case coltype.Float64:
		bb := b.(*array.Float64Builder)
		return func(v any) error {
			x, err := toFloat64(v)
			if err == nil {
				bb.Append(x)
			}
			return err
		}, nil
	case coltype.Decimal:
		bb := b.(*array.Decimal128Builder)
		return func(v any) error {
			x, err := toDecimal(v, c.Precision, c.Scale)
			if err == nil {
				bb.Append(x)
			}
			return err
		}, nil
	case coltype.String:
		bb := b.(*array.StringBuilder)
		return func(v any) error {
			x, err := toText(v)
			if err == nil {
				bb.Append(x)
			}
			return err
		}, nil
	case coltype.Bytes:
		bb := b.(*array.BinaryBuilder)
		return func(v any) error {
			x, err := toBytes(v)
			if err == nil {
				bb.Append(x)
			}
			return err
		}, nil
	case coltype.Date:
		bb := b.(*array.Date32Builder)
		return func(v any) error {
			x, err := toDate(v)
			if err == nil {
				bb.Append(arrow.Date32(x))
			}
			return err
		}, nil
	case coltype.Time:
		bb := b.(*array.Time64Builder)
		return func(v any) error {
			x, err := toClock(v)
			if err == nil {
				bb.Append(arrow.Time64(x))
			}
			return err
		}, nil
	case coltype.Timestamp, coltype.TimestampTZ:
		bb := b.(*array.TimestampBuilder)
		tz := c.Kind == coltype.TimestampTZ
		return func(v any) error {
			x, err := toMicros(v, tz)
			if err == nil {
				bb.Append(arrow.Timestamp(x))
			}
			return err
		}, nil
	case coltype.UUID:
		bb := b.(*extensions.UUIDBuilder)
		return func(v any) error {
			x, err := toUUID(v)
			if err == nil {
				bb.AppendBytes(x)
			}
			return err
		}, nil
	case coltype.JSON:
		bb := b.(*array.ExtensionBuilder).StorageBuilder().(*array.StringBuilder)
		return func(v any) error {
			x, err := toJSON(v)
			if err == nil {
				bb.Append(x)
			}
			return err
		}, nil
	}
	return nil, fmt.Errorf("column %q: kind %v cannot be read from SQLite", c.Name, c.Kind)
}
