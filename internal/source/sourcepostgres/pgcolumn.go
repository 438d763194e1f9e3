package sourcepostgres

import (
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/coltype"
)

// Built-in type OIDs (fixed in PostgreSQL's catalog, pg_type.dat).
const (
	oidBool        = 16
	oidBytea       = 17
	oidName        = 19
	oidInt8        = 20
	oidInt2        = 21
	oidInt4        = 23
	oidText        = 25
	oidJSON        = 114
	oidFloat4      = 700
	oidFloat8      = 701
	oidBPChar      = 1042
	oidVarchar     = 1043
	oidDate        = 1082
	oidTime        = 1083
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidNumeric     = 1700
	oidUUID        = 2950
	oidJSONB       = 3802
)

// wire says how a column's binary COPY value is decoded.
type wire int

const (
	wireInvalid wire = iota
	wireBool
	wireInt2
	wireInt4
	wireInt8
	wireFloat4
	wireFloat8
	wireNumeric
	wireText // text, varchar, bpchar, name, citext, enum: UTF-8 bytes
	wireBytea
	wireDate
	wireTime
	wireTimestamp
	wireTimestamptz
	wireUUID
	wireJSON
	wireJSONB
)

// pgType is one row of pg_type, as much as the mapping needs.
type pgType struct {
	oid       uint32
	typtype   string // b base, d domain, e enum, c composite, r range, m multirange, p pseudo
	name      string // typname
	namespace string // nspname of the type
	category  string // typcategory
	baseOID   uint32 // typbasetype (domains)
	baseMod   int32  // typtypmod (domains)
}

// pgColumn is a described column plus what decoding and SQL rendering need.
type pgColumn struct {
	col  coltype.Column
	wire wire
	// castType is the column's own type, schema-qualified and quoted, without
	// a type modifier: the cast of rendered window bounds.
	castType string
}

// mapType maps a column of (resolved) base type t and type modifier typmod.
// It returns ok=false with a reason for unsupported types.
func mapType(t pgType, typmod int32, numericScale int) (kind coltype.Kind, w wire, precision, scale int, reason string) {
	switch t.oid {
	case oidBool:
		return coltype.Bool, wireBool, 0, 0, ""
	case oidInt2:
		return coltype.Int16, wireInt2, 0, 0, ""
	case oidInt4:
		return coltype.Int32, wireInt4, 0, 0, ""
	case oidInt8:
		return coltype.Int64, wireInt8, 0, 0, ""
	case oidFloat4:
		return coltype.Float32, wireFloat4, 0, 0, ""
	case oidFloat8:
		return coltype.Float64, wireFloat8, 0, 0, ""
	case oidNumeric:
		p, s, reason := numericShape(typmod, numericScale)
		if reason != "" {
			return coltype.Invalid, wireInvalid, 0, 0, reason
		}
		return coltype.Decimal, wireNumeric, p, s, ""
	case oidText, oidVarchar, oidBPChar, oidName:
		return coltype.String, wireText, 0, 0, ""
	case oidBytea:
		return coltype.Bytes, wireBytea, 0, 0, ""
	case oidDate:
		return coltype.Date, wireDate, 0, 0, ""
	case oidTime:
		return coltype.Time, wireTime, 0, 0, ""
	case oidTimestamp:
		return coltype.Timestamp, wireTimestamp, 0, 0, ""
	case oidTimestamptz:
		return coltype.TimestampTZ, wireTimestamptz, 0, 0, ""
	case oidUUID:
		return coltype.UUID, wireUUID, 0, 0, ""
	case oidJSON:
		return coltype.JSON, wireJSON, 0, 0, ""
	case oidJSONB:
		return coltype.JSON, wireJSONB, 0, 0, ""
	}
	switch {
	case t.typtype == "e":
		return coltype.String, wireText, 0, 0, "" // enum_send sends the label as text
	case t.typtype == "b" && t.name == "citext":
		return coltype.String, wireText, 0, 0, "" // citext's send function is textsend
	case t.category == "A":
		return coltype.Invalid, wireInvalid, 0, 0, "arrays are not supported; cast to text or json in a view"
	case t.typtype == "c":
		return coltype.Invalid, wireInvalid, 0, 0, "composite types are not supported; cast to json in a view"
	case t.typtype == "r" || t.typtype == "m":
		return coltype.Invalid, wireInvalid, 0, 0, "range types are not supported; cast to text in a view"
	}
	return coltype.Invalid, wireInvalid, 0, 0, ""
}

// numericShape derives Decimal precision and scale from a numeric typmod.
// PostgreSQL 15+ allows a negative scale (rounding to tens, hundreds, ...)
// and a scale larger than the precision; both fit a wider Decimal exactly.
func numericShape(typmod int32, unconstrainedScale int) (precision, scale int, reason string) {
	if typmod < 4 {
		return MaxPrecision, unconstrainedScale, ""
	}
	m := typmod - 4
	p := int((m >> 16) & 0xffff)
	s := int(((m & 0x7ff) ^ 1024) - 1024) // 11-bit signed scale
	switch {
	case s < 0:
		p, s = p-s, 0
	case s > p:
		p = s
	}
	if p > MaxPrecision {
		return 0, 0, fmt.Sprintf("precision %d is above the %d digits wharf lands exactly", p, MaxPrecision)
	}
	return p, s, ""
}

// castName renders a type as a quoted, schema-qualified name.
func castName(namespace, name string) string {
	return pgx.Identifier{namespace, name}.Sanitize()
}
