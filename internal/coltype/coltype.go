// Package coltype is wharf's neutral column type model: the contract between
// sources (which map their native types to a Kind) and writers (which map a
// Kind to Arrow and Parquet). docs/types.md documents the mapping as a table.
package coltype

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/extensions"
)

// Kind is a neutral column type.
type Kind int

const (
	Invalid Kind = iota
	Bool
	Int16
	Int32
	Int64
	Float32
	Float64
	Decimal     // exact decimal with Precision (1..38) and Scale; Arrow decimal128
	String      // UTF-8 text
	Bytes       // raw bytes
	Date        // calendar date; Arrow date32
	Time        // time of day, microseconds; Arrow time64[us]
	Timestamp   // wall-clock timestamp without zone, microseconds; Arrow timestamp[us]
	TimestampTZ // instant, microseconds, UTC-adjusted; Arrow timestamp[us, UTC]
	UUID        // Arrow UUID extension (16 fixed bytes) -> Parquet UUID
	JSON        // Arrow JSON extension over utf8 -> Parquet JSON
	List        // list of Elem; Arrow list<element> -> Parquet LIST
	Struct      // Fields in order; Arrow struct -> Parquet group
	Map         // string keys to Elem values; Arrow map<utf8, ...> -> Parquet MAP
)

var kindNames = map[Kind]string{
	Invalid: "invalid", Bool: "bool", Int16: "int16", Int32: "int32", Int64: "int64",
	Float32: "float32", Float64: "float64", Decimal: "decimal", String: "string",
	Bytes: "bytes", Date: "date", Time: "time", Timestamp: "timestamp",
	TimestampTZ: "timestamptz", UUID: "uuid", JSON: "json",
	List: "list", Struct: "struct", Map: "map",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	for k, n := range kindNames {
		if n == s && k != Invalid {
			return k, nil
		}
	}
	return Invalid, fmt.Errorf("unknown column kind %q", s)
}

// Column describes one source column in neutral terms.
type Column struct {
	Name       string
	Kind       Kind
	Precision  int      // Decimal only
	Scale      int      // Decimal only
	Nullable   bool     // false only when the source declares NOT NULL
	SourceType string   // the source's own type name, e.g. "numeric(12,2)", for messages and docs
	Elem       *Column  // List: the element (named "element"); Map: the value (keys are strings)
	Fields     []Column // Struct: the fields, in order
	// Cast asks the source to convert the value before it lands (the
	// catalog's `cast:`); Kind is then the landed kind. CastNone for the
	// column's own mapping.
	Cast Cast
}

// ArrowType maps the column to its Arrow data type.
func (c Column) ArrowType() arrow.DataType {
	switch c.Kind {
	case Bool:
		return arrow.FixedWidthTypes.Boolean
	case Int16:
		return arrow.PrimitiveTypes.Int16
	case Int32:
		return arrow.PrimitiveTypes.Int32
	case Int64:
		return arrow.PrimitiveTypes.Int64
	case Float32:
		return arrow.PrimitiveTypes.Float32
	case Float64:
		return arrow.PrimitiveTypes.Float64
	case Decimal:
		return &arrow.Decimal128Type{Precision: int32(c.Precision), Scale: int32(c.Scale)}
	case String:
		return arrow.BinaryTypes.String
	case Bytes:
		return arrow.BinaryTypes.Binary
	case Date:
		return arrow.FixedWidthTypes.Date32
	case Time:
		return arrow.FixedWidthTypes.Time64us
	case Timestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case TimestampTZ:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case UUID:
		return extensions.NewUUIDType()
	case JSON:
		t, err := extensions.NewJSONType(arrow.BinaryTypes.String)
		if err != nil {
			panic(err) // cannot happen: utf8 is a valid storage type
		}
		return t
	case List:
		return arrow.ListOfField(arrow.Field{Name: "element", Type: c.Elem.ArrowType(), Nullable: c.Elem.Nullable})
	case Struct:
		fs := make([]arrow.Field, len(c.Fields))
		for i, f := range c.Fields {
			fs[i] = f.ArrowField()
		}
		return arrow.StructOf(fs...)
	case Map:
		return arrow.MapOfFields(arrow.Field{Name: "key", Type: arrow.BinaryTypes.String},
			arrow.Field{Name: "value", Type: c.Elem.ArrowType(), Nullable: c.Elem.Nullable})
	}
	panic(fmt.Sprintf("coltype: no Arrow type for %v", c.Kind))
}

// ArrowField maps the column to an Arrow field.
func (c Column) ArrowField() arrow.Field {
	return arrow.Field{Name: c.Name, Type: c.ArrowType(), Nullable: c.Nullable}
}

// ArrowSchema builds the Arrow schema of a list of columns, in order.
func ArrowSchema(cols []Column) *arrow.Schema {
	fs := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fs[i] = c.ArrowField()
	}
	return arrow.NewSchema(fs, nil)
}

// UnsupportedError reports a source column whose type wharf cannot land
// faithfully. Runs fail with it rather than land wrong data.
type UnsupportedError struct {
	Table, Column, SourceType, Reason string
}

func (e *UnsupportedError) Error() string {
	msg := fmt.Sprintf("table %s column %q: type %s is not supported", e.Table, e.Column, e.SourceType)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Cast is a conversion the catalog asks a source to apply to a column before
// it lands (`cast: {COL: string|json|float64|"decimal(P,S)"}`).
type Cast int

const (
	CastNone    Cast = iota
	CastString       // the source's own text form of the value
	CastJSON         // JSON text of the value
	CastFloat64      // double precision
	CastDecimal      // exact decimal(Precision, Scale); a value that does not fit fails the run
)

// IntervalFields are the fields of an interval landed as a struct: the
// months, days and microseconds PostgreSQL itself keeps, each exact.
func IntervalFields() []Column {
	return []Column{
		{Name: "months", Kind: Int32},
		{Name: "days", Kind: Int32},
		{Name: "microseconds", Kind: Int64},
	}
}

// TypeString renders the landed type: "int32", "decimal(12,2)",
// "list<int32>", "struct<a: int32, b: string>", "map<string, string>". It is
// what docs/types.md and the recorded run schemas show.
func (c Column) TypeString() string {
	switch c.Kind {
	case Decimal:
		return fmt.Sprintf("decimal(%d,%d)", c.Precision, c.Scale)
	case List:
		return "list<" + c.Elem.TypeString() + ">"
	case Map:
		return "map<string, " + c.Elem.TypeString() + ">"
	case Struct:
		s := "struct<"
		for i, f := range c.Fields {
			if i > 0 {
				s += ", "
			}
			s += f.Name + ": " + f.TypeString()
		}
		return s + ">"
	}
	return c.Kind.String()
}

// SameType reports whether a and b land as the same type (names of nested
// fields included, nullability and source types ignored).
func SameType(a, b Column) bool {
	return a.TypeString() == b.TypeString()
}
