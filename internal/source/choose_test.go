package source

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wharf-data/wharf/internal/coltype"
)

func zooTable() *Table {
	return &Table{Ref: TableRef{Schema: "hr", Name: "type_zoo"}, Columns: []coltype.Column{
		{Name: "id", Kind: coltype.Int64, SourceType: "bigint"},
		{Name: "amount", Kind: coltype.Decimal, Precision: 38, Scale: 9, Nullable: true, SourceType: "numeric"},
		{Name: "email", Kind: coltype.String, Nullable: true, SourceType: "text"},
		{Name: "ssn", Kind: coltype.String, SourceType: "text"},
		{Name: "ia", Kind: coltype.List, Elem: &coltype.Column{Name: "element", Kind: coltype.Int32, Nullable: true}, Nullable: true, SourceType: "integer[]"},
	}}
}

func TestChooseErrors(t *testing.T) {
	for _, tc := range []struct {
		ch   Choices
		want string
	}{
		{Choices{Columns: []string{"id", "emial"}}, `columns: table hr.type_zoo has no column "emial" (did you mean "email"?)`},
		{Choices{ExcludeColumns: []string{"SSN "}}, `exclude_columns: table hr.type_zoo has no column "SSN " (did you mean "ssn"?)`},
		{Choices{Cast: map[string]string{"amunt": "string"}}, `cast: table hr.type_zoo has no column "amunt" (did you mean "amount"?)`},
		{Choices{Mask: map[string]string{"phone": "redact"}}, `mask: table hr.type_zoo has no column "phone"`},
		{Choices{Cast: map[string]string{"amount": "decimal(40,2)"}}, `cast: table hr.type_zoo column "amount": "decimal(40,2)" is not a cast: want string, json, float64 or decimal(P,S)`},
		{Choices{ExcludeColumns: []string{"id", "amount", "email", "ssn", "ia"}}, `columns: no column of table hr.type_zoo is left to land`},
	} {
		_, _, err := Choose(zooTable(), tc.ch)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Choose(%+v) = %v\nwant %s", tc.ch, err, tc.want)
		}
	}
	// A name from the defaults that the table lacks is no error.
	if _, _, err := Choose(zooTable(), Choices{Mask: map[string]string{"phone": "redact"}, Optional: []string{"phone"}}); err != nil {
		t.Errorf("optional column: %v", err)
	}
}

func TestChooseColumns(t *testing.T) {
	got, m, err := Choose(zooTable(), Choices{
		Columns: []string{"ia", "email", "id", "amount"},
		Cast:    map[string]string{"amount": "decimal(12, 2)", "ia": "json"},
		Mask:    map[string]string{"email": "sha256"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, c := range got.Columns {
		types = append(types, c.Name+" "+c.TypeString())
	}
	want := []string{"id int64", "amount decimal(12,2)", "email string", "ia json"}
	if len(types) != len(want) {
		t.Fatalf("columns %v, want %v (table order)", types, want)
	}
	for i := range want {
		if types[i] != want[i] {
			t.Errorf("column %d: %s, want %s", i, types[i], want[i])
		}
	}
	if got.Columns[2].Cast != coltype.CastString || got.Columns[1].Cast != coltype.CastDecimal || got.Columns[3].Cast != coltype.CastJSON {
		t.Errorf("casts %+v", got.Columns)
	}
	if !m.NeedsSalt() || m.Empty() {
		t.Error("a sha256 mask needs a salt")
	}
}

func TestMasker(t *testing.T) {
	tbl := &Table{Ref: TableRef{Name: "people"}, Columns: []coltype.Column{
		{Name: "id", Kind: coltype.Int64}, {Name: "email", Kind: coltype.String, Nullable: true},
		{Name: "phone", Kind: coltype.String, Nullable: true}, {Name: "notes", Kind: coltype.String, Nullable: true},
	}}
	chosen, chose, err := Choose(tbl, Choices{Mask: map[string]string{"email": "sha256", "phone": "redact", "notes": "null"}})
	if err != nil {
		t.Fatal(err)
	}
	// A process reading a chunk of the run gets the masker as JSON
	// (without its salt) and masks the same.
	js, err := json.Marshal(chose)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), "pepper") {
		t.Fatalf("masker JSON %s holds the salt", js)
	}
	m := &Masker{}
	if err := json.Unmarshal(js, m); err != nil {
		t.Fatal(err)
	}
	if !m.NeedsSalt() {
		t.Fatalf("masker from %s needs no salt", js)
	}
	if err := json.Unmarshal([]byte(`[{"index": 1, "kind": "rot13"}]`), &Masker{}); err == nil || !strings.Contains(err.Error(), `unknown mask "rot13"`) {
		t.Errorf("masker JSON with an unknown mask: %v", err)
	}
	m = m.WithSalt([]byte("pepper"))
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := array.NewRecordBuilder(mem, coltype.ArrowSchema(chosen.Columns))
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"ann@example.com", ""}, []bool{true, false})
	b.Field(2).(*array.StringBuilder).AppendValues([]string{"+33 1 23", ""}, []bool{true, false})
	b.Field(3).(*array.StringBuilder).AppendValues([]string{"secret", "x"}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	cols, err := m.Apply(mem, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	sum := sha256.Sum256([]byte("pepperann@example.com"))
	str := func(a arrow.Array, i int) string { return a.ValueStr(i) }
	for _, c := range []struct {
		col, row int
		want     string
	}{
		{0, 0, "1"}, {1, 0, hex.EncodeToString(sum[:])}, {1, 1, "(null)"},
		{2, 0, Redacted}, {2, 1, "(null)"}, {3, 0, "(null)"}, {3, 1, "(null)"},
	} {
		if got := str(cols[c.col], c.row); got != c.want {
			t.Errorf("column %d row %d = %q, want %q", c.col, c.row, got, c.want)
		}
	}
}
