package icetable

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/iceberg-go"
)

func TestTableName(t *testing.T) {
	for _, c := range []struct{ schema, table, want string }{
		{"public", "orders", "public_orders"},
		{"", "employees", "employees"},
		{"my schema", "t.able", "my schema_t.able"},
	} {
		if got := TableName(c.schema, c.table); got != c.want {
			t.Errorf("TableName(%q, %q) = %q, want %q", c.schema, c.table, got, c.want)
		}
	}
}

// The Iceberg schema of a run: every field optional, JSON a string, UUID
// a uuid.
func TestIcebergSchema(t *testing.T) {
	jsonType, err := extensions.NewJSONType(arrow.BinaryTypes.String)
	if err != nil {
		t.Fatal(err)
	}
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "doc", Type: jsonType, Nullable: true},
		{Name: "ref", Type: extensions.NewUUIDType(), Nullable: true},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	}, nil)
	got, err := icebergSchema(sc)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]iceberg.Type{
		"id": iceberg.PrimitiveTypes.Int64, "doc": iceberg.PrimitiveTypes.String,
		"ref": iceberg.PrimitiveTypes.UUID, "at": iceberg.PrimitiveTypes.TimestampTz,
	}
	for _, f := range got.Fields() {
		if !f.Type.Equals(want[f.Name]) || f.Required {
			t.Errorf("%s: %s required=%v, want optional %s", f.Name, f.Type, f.Required, want[f.Name])
		}
	}
	if plain := plainFields(sc); !arrow.TypeEqual(plain[1].Type, arrow.BinaryTypes.String) || !arrow.TypeEqual(plain[2].Type, extensions.NewUUIDType()) {
		t.Errorf("plainFields: %v", plain)
	}
}
