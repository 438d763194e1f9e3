package icetable

import (
	"encoding/json"

	"github.com/apache/arrow-go/v18/arrow"
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
// has no type for (JSON) replaced by their storage type (string); UUIDs
// stay uuid.
func plainFields(schema *arrow.Schema) []arrow.Field {
	fields := schema.Fields()
	for i, f := range fields {
		if ext, ok := f.Type.(arrow.ExtensionType); ok && ext.ExtensionName() != "arrow.uuid" {
			fields[i].Type = ext.StorageType()
		}
	}
	return fields
}

func jsonOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
