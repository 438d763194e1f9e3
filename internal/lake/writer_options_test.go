package lake

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// JSON columns are written without statistics, every other column with.
func TestStatisticsNotForJSON(t *testing.T) {
	jsonType, err := extensions.NewJSONType(arrow.BinaryTypes.String)
	if err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "doc", Type: jsonType, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "ref", Type: extensions.NewUUIDType()},
		{Name: "amount", Type: &arrow.Decimal128Type{Precision: 12, Scale: 2}},
	}, nil)
	props, _, err := WriterOptions{}.WithDefaults().parquetProperties(schema, nil, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range schema.Fields() {
		if got, want := props.StatisticsEnabledFor(f.Name), f.Name != "doc"; got != want {
			t.Errorf("column %s: statistics %v, want %v", f.Name, got, want)
		}
	}
}
