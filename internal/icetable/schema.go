package icetable

import (
	"encoding/json"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// icebergSchema converts the schema a run lands to an Iceberg schema.
// Every column is optional: a column that is NOT NULL at the source today
// may be dropped tomorrow, and Iceberg cannot add a required column.
func icebergSchema(schema *arrow.Schema) (*iceberg.Schema, error) {
	fields := plainFields(schema)
	for i := range fields {
		fields[i].Nullable = true
	}
	return table.ArrowSchemaToIcebergWithFreshIDs(arrow.NewSchema(fields, nil), false)
}

// plainFields are schema's fields with the Arrow extension types Iceberg
// has no type for (JSON) replaced by their storage type (string), at every
// level (a jsonb[] is a list<string>, a composite's json field a string);
// UUIDs stay uuid.
func plainFields(schema *arrow.Schema) []arrow.Field {
	fields := schema.Fields()
	for i := range fields {
		fields[i] = plainField(fields[i])
	}
	return fields
}

func plainField(f arrow.Field) arrow.Field {
	f.Type = plainType(f.Type)
	return f
}

func plainType(t arrow.DataType) arrow.DataType {
	switch t := t.(type) {
	case arrow.ExtensionType:
		if t.ExtensionName() == "arrow.uuid" {
			return t
		}
		return plainType(t.StorageType())
	case *arrow.ListType:
		return arrow.ListOfField(plainField(t.ElemField()))
	case *arrow.StructType:
		fs := t.Fields()
		for i := range fs {
			fs[i] = plainField(fs[i])
		}
		return arrow.StructOf(fs...)
	case *arrow.MapType:
		return arrow.MapOfFields(plainField(t.KeyField()), plainField(t.ItemField()))
	}
	return t // the types coltype.ArrowType makes hold no other nesting
}

// PlainArray returns arr as type t, which is arr's type with extension
// types replaced by their storage (plainFields): the same buffers, at
// every level. The caller releases the array returned.
func PlainArray(arr arrow.Array, t arrow.DataType) arrow.Array {
	d := plainData(arr.Data(), t)
	defer d.Release()
	return array.MakeFromData(d)
}

func plainData(d arrow.ArrayData, t arrow.DataType) arrow.ArrayData {
	var fields []arrow.Field
	if nt, ok := t.(arrow.NestedType); ok {
		fields = nt.Fields()
	}
	children := make([]arrow.ArrayData, len(d.Children()))
	for i, c := range d.Children() {
		ct := c.DataType()
		if i < len(fields) {
			ct = fields[i].Type
		}
		children[i] = plainData(c, ct)
	}
	out := array.NewData(t, d.Len(), d.Buffers(), children, d.NullN(), d.Offset())
	for _, c := range children {
		c.Release() // NewData retains them
	}
	return out
}

func jsonOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
