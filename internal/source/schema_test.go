package source

import (
	"encoding/json"
	"testing"

	"github.com/wharf-data/wharf/internal/coltype"
)

func TestDiffSchemas(t *testing.T) {
	prev := SchemaOf([]coltype.Column{
		{Name: "id", Kind: coltype.Int32, SourceType: "integer"},
		{Name: "v", Kind: coltype.Int32, SourceType: "integer"},
		{Name: "gone", Kind: coltype.String, SourceType: "text"},
	})
	cur := SchemaOf([]coltype.Column{
		{Name: "id", Kind: coltype.Int32, SourceType: "integer"},
		{Name: "v", Kind: coltype.Int64, SourceType: "bigint"},
		{Name: "extra", Kind: coltype.String, SourceType: "text"},
	})
	if DiffSchemas(prev, prev) != nil {
		t.Error("a schema differs from itself")
	}
	c := DiffSchemas(prev, cur)
	b, _ := json.Marshal(c)
	if want := `{"added":["extra"],"dropped":["gone"],"changed":[{"column":"v","from":"integer","to":"bigint"}]}`; string(b) != want {
		t.Errorf("change %s\nwant %s", b, want)
	}
	if want := "added extra; dropped gone; changed v integer → bigint"; c.String() != want {
		t.Errorf("String() = %q, want %q", c, want)
	}
	back, err := ParseSchema(cur.JSON())
	if err != nil || back.Hash != cur.Hash || len(back.Columns) != 3 || back.Columns[1].Type != "int64" {
		t.Errorf("ParseSchema(JSON()) = %+v, %v", back, err)
	}
	if prev.Hash == cur.Hash || len(cur.Hash) != 64 {
		t.Errorf("hashes %s %s", prev.Hash, cur.Hash)
	}
}
