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
	wireText // text, varchar, bpchar, name, citext, enum, and every type selected as ::text
	wireBytea
	wireDate
	wireTime
	wireTimestamp
	wireTimestamptz
	wireUUID
	wireJSON
	wireJSONB
	wireMoney    // int64 cents -> decimal(19,2)
	wireInterval // int64 µs, int32 days, int32 months -> struct
	wireArray    // array_send -> (nested) list of elem
	wireRecord   // record_send -> struct of fields
	wireHstore   // hstore_send -> map<string, string>
)

const (
	oidMoney    = 790
	oidInterval = 1186
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
	elemOID   uint32 // typelem (arrays)
	relOID    uint32 // typrelid (composites)
	ndims     int32  // typndims (domains over arrays)
	output    string // typoutput: the output function, as regproc prints it
}

// pgColumn is a described column (or a value nested in one) plus what
// decoding and SQL rendering need.
type pgColumn struct {
	col  coltype.Column
	wire wire
	// castType is the column's own type, schema-qualified and quoted, without
	// a type modifier: the cast of rendered window bounds.
	castType string
	// textCast is the cast the COPY select list applies so that PostgreSQL
	// sends the value's text form: "text" for types landed as strings
	// through their text output, "text[]" for arrays of them; "" for none.
	textCast string
	// selectFmt, when set, renders the column's select-list expression from
	// its quoted name (a cast the catalog asked for).
	selectFmt string
	// output is the output function of the column's (base) type.
	output string
	// dims is the declared number of dimensions of an array (wireArray).
	dims int
	// elem is an array's element (wireArray) or nil.
	elem *pgColumn
	// fields are a composite's fields (wireRecord).
	fields []pgColumn
}

// mapBase maps a base type with a fixed binary decoding. ok=false for types
// that need the catalog (arrays, composites, enums, extensions) or that land
// through their text output.
func mapBase(t pgType, typmod int32, numericScale int) (c coltype.Column, w wire, ok bool) {
	simple := func(k coltype.Kind, w wire) (coltype.Column, wire, bool) {
		return coltype.Column{Kind: k}, w, true
	}
	switch t.oid {
	case oidBool:
		return simple(coltype.Bool, wireBool)
	case oidInt2:
		return simple(coltype.Int16, wireInt2)
	case oidInt4:
		return simple(coltype.Int32, wireInt4)
	case oidInt8:
		return simple(coltype.Int64, wireInt8)
	case oidFloat4:
		return simple(coltype.Float32, wireFloat4)
	case oidFloat8:
		return simple(coltype.Float64, wireFloat8)
	case oidNumeric:
		p, s, fits := numericShape(typmod, numericScale)
		if !fits {
			return c, wireInvalid, false // wider than decimal128: its text form
		}
		return coltype.Column{Kind: coltype.Decimal, Precision: p, Scale: s}, wireNumeric, true
	case oidText, oidVarchar, oidBPChar, oidName:
		return simple(coltype.String, wireText)
	case oidBytea:
		return simple(coltype.Bytes, wireBytea)
	case oidDate:
		return simple(coltype.Date, wireDate)
	case oidTime:
		return simple(coltype.Time, wireTime)
	case oidTimestamp:
		return simple(coltype.Timestamp, wireTimestamp)
	case oidTimestamptz:
		return simple(coltype.TimestampTZ, wireTimestamptz)
	case oidUUID:
		return simple(coltype.UUID, wireUUID)
	case oidJSON:
		return simple(coltype.JSON, wireJSON)
	case oidJSONB:
		return simple(coltype.JSON, wireJSONB)
	case oidMoney:
		return coltype.Column{Kind: coltype.Decimal, Precision: 19, Scale: 2}, wireMoney, true
	case oidInterval:
		return coltype.Column{Kind: coltype.Struct, Fields: coltype.IntervalFields()}, wireInterval, true
	}
	switch {
	case t.typtype == "e":
		return simple(coltype.String, wireText) // enum_send sends the label as text
	case t.typtype == "b" && t.name == "citext":
		return simple(coltype.String, wireText) // citext's send function is textsend
	case t.typtype == "b" && t.name == "hstore":
		return coltype.Column{Kind: coltype.Map, Elem: &coltype.Column{Name: "value", Kind: coltype.String, Nullable: true}}, wireHstore, true
	}
	return c, wireInvalid, false
}

// castPlan is how column c is read when the catalog casts it to want
// (want.Cast is set): PostgreSQL converts the value in the COPY's select
// list, so the cast is its own (text form, to_json, float8); a decimal cast
// reads unconstrained numeric and lands it exactly or fails.
func castPlan(c pgColumn, want coltype.Column) pgColumn {
	out := pgColumn{col: want, castType: c.castType, output: c.output}
	switch want.Cast {
	case coltype.CastString:
		out.wire, out.selectFmt = wireText, textForm(c.output)
	case coltype.CastJSON:
		// to_json(NULL) is JSON null; num_nulls tells a NULL apart from a
		// composite whose fields are all NULL (which IS NULL calls NULL).
		out.wire, out.selectFmt = wireJSON, "CASE WHEN num_nulls(%[1]s) = 0 THEN to_json(%[1]s) END"
	case coltype.CastFloat64:
		out.wire, out.selectFmt = wireFloat8, "%s::float8"
	case coltype.CastDecimal:
		out.wire, out.selectFmt = wireNumeric, "%s::numeric"
	}
	return out
}

// selectExpr is the column's expression in the COPY select list.
func (c pgColumn) selectExpr() string {
	name := quoteIdent(c.col.Name)
	switch {
	case c.selectFmt != "":
		return fmt.Sprintf(c.selectFmt, name)
	case c.textCast == "text":
		return fmt.Sprintf(textForm(c.output), name)
	case c.textCast != "":
		return name + "::" + c.textCast
	}
	return name
}

// textForm is the select-list format that renders a value through its
// type's output function.
func textForm(output string) string {
	if output == "" || output == "-" {
		return "%s::text"
	}
	return output + "(%s)::text"
}

// numericShape derives Decimal precision and scale from a numeric typmod.
// PostgreSQL 15+ allows a negative scale (rounding to tens, hundreds, ...)
// and a scale larger than the precision; both fit a wider Decimal exactly.
// fits is false when the precision needs more than MaxPrecision digits.
func numericShape(typmod int32, unconstrainedScale int) (precision, scale int, fits bool) {
	if typmod < 4 {
		return MaxPrecision, unconstrainedScale, true
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
		return 0, 0, false
	}
	return p, s, true
}

// castName renders a type as a quoted, schema-qualified name.
func castName(namespace, name string) string {
	return pgx.Identifier{namespace, name}.Sanitize()
}
