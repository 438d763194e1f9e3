package sourcetest

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/google/uuid"

	"github.com/wharf-data/wharf/internal/source"
)

// Zoo is an engine's type zoo: one column per native type it lands, with
// values (NULLs and extremes included) and, per column, an SQL expression
// the engine itself evaluates to the JSON of the value wharf must land.
// The suite lands the table and compares every value with the engine's own
// answer, so the mapping is checked against the database, not against
// values the test wrote down.
type Zoo struct {
	// Setup runs before the table is created (types, extensions, domains).
	Setup []string
	// Columns of the zoo table, after an "id" integer key.
	Columns []ZooColumn
	// Rows is the number of rows: every Values slice has this length.
	Rows int
	// QueryJSON runs sql (one text column) and returns its values, nil for
	// NULL, in row order.
	QueryJSON func(ctx context.Context, db DB, sql string) ([]*string, error)
}

// ZooColumn is one native type of the zoo.
type ZooColumn struct {
	Name string
	DDL  string // the column's type in the engine's DDL
	// Lands is the landed type, as coltype.Column.TypeString renders it.
	Lands string
	// Values are SQL literals, one per row; "" is NULL.
	Values []string
	// Expect is an SQL expression over the quoted column name (written %s)
	// giving the JSON text of the landed value; see ZooJSON for how landed
	// values render.
	Expect string
}

func testZoo(t *testing.T, h Harness) {
	if h.Zoo == nil {
		t.Skip("the engine has no type zoo")
	}
	z := h.Zoo
	ctx := testContext(t)
	src, db := h.Open(t)
	for _, s := range z.Setup {
		if err := db.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	defs := []string{db.Quote("id") + " bigint NOT NULL"}
	for _, c := range z.Columns {
		defs = append(defs, db.Quote(c.Name)+" "+c.DDL)
	}
	if err := db.Exec(ctx, "CREATE TABLE zoo ("+strings.Join(defs, ", ")+")"); err != nil {
		t.Fatalf("create zoo: %v", err)
	}
	for r := range z.Rows {
		vals := []string{strconv.Itoa(r + 1)}
		names := []string{db.Quote("id")}
		for _, c := range z.Columns {
			if len(c.Values) != z.Rows {
				t.Fatalf("zoo column %s has %d values, want %d", c.Name, len(c.Values), z.Rows)
			}
			if c.Values[r] == "" {
				continue
			}
			names = append(names, db.Quote(c.Name))
			vals = append(vals, c.Values[r])
		}
		sql := "INSERT INTO zoo (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")"
		if err := db.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	tbl := describe(ctx, t, src, "zoo")
	for i, c := range z.Columns {
		if got := tbl.Columns[i+1].TypeString(); got != c.Lands {
			t.Errorf("column %s (%s) lands as %s, want %s", c.Name, c.DDL, got, c.Lands)
		}
	}
	got, _ := extract(ctx, t, src, source.Request{Table: tbl})
	byID := got.byID(t, "id")
	for i, c := range z.Columns {
		want, err := z.QueryJSON(ctx, db, "SELECT "+fmt.Sprintf(c.Expect, db.Quote(c.Name))+" FROM zoo ORDER BY id")
		if err != nil {
			t.Fatalf("expected values of %s: %v", c.Name, err)
		}
		for r := range z.Rows {
			ref, ok := byID[int64(r+1)]
			if !ok {
				t.Fatalf("row %d missing", r+1)
			}
			g := ZooJSON(ref.rec.Column(i+1), ref.i)
			var w any
			if want[r] != nil {
				if w, err = ParseJSON(*want[r]); err != nil {
					t.Fatalf("column %s row %d: %s gave invalid JSON %q: %v", c.Name, r+1, c.Expect, *want[r], err)
				}
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("column %s (%s) row %d (%s): landed %s, the database says %s",
					c.Name, c.DDL, r+1, c.Values[r], show(g), show(w))
			}
		}
	}
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// ParseJSON parses JSON text into the comparable form ZooJSON returns
// (numbers as exact decimal strings in lowest terms).
func ParseJSON(text string) (any, error) {
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return normalize(v), nil
}

// number is a JSON number in canonical form, so 1.50 equals 1.5.
type number string

func (n number) MarshalJSON() ([]byte, error) { return []byte(n), nil }

func canonicalNumber(s string) any {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return s
	}
	return number(r.RatString())
}

func normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		return canonicalNumber(string(x))
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalize(x[k])
		}
	}
	return v
}

// ZooJSON renders row i of a landed Arrow array in the comparable form of
// ParseJSON: NULL is nil, numbers exact, lists []any, structs and maps
// map[string]any, dates "YYYY-MM-DD", timestamps RFC 3339 with
// microseconds, bytes PostgreSQL's hex text ("\x..."), UUIDs their text,
// JSON parsed.
func ZooJSON(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int16, *array.Int32, *array.Int64, *array.Float32, *array.Float64:
		return canonicalNumber(a.ValueStr(i))
	case *array.Decimal128:
		return canonicalNumber(a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale))
	case *array.String:
		return a.Value(i)
	case *array.Binary:
		return `\x` + hex.EncodeToString(a.Value(i))
	case *array.Date32:
		return a.Value(i).ToTime().Format("2006-01-02")
	case *array.Time64:
		return time.UnixMicro(int64(a.Value(i))).UTC().Format("15:04:05.999999")
	case *array.Timestamp:
		t := time.UnixMicro(int64(a.Value(i))).UTC()
		if a.DataType().(*arrow.TimestampType).TimeZone != "" {
			return t.Format("2006-01-02T15:04:05.999999-07:00")
		}
		return t.Format("2006-01-02T15:04:05.999999")
	case *array.List:
		start, end := a.ValueOffsets(i)
		out := []any{}
		for j := start; j < end; j++ {
			out = append(out, ZooJSON(a.ListValues(), int(j)))
		}
		return out
	case *array.Map:
		start, end := a.ValueOffsets(i)
		keys, items := a.Keys(), a.Items()
		out := map[string]any{}
		for j := start; j < end; j++ {
			out[fmt.Sprint(ZooJSON(keys, int(j)))] = ZooJSON(items, int(j))
		}
		return out
	case *array.Struct:
		out := map[string]any{}
		st := a.DataType().(*arrow.StructType)
		for f := range st.NumFields() {
			out[st.Field(f).Name] = ZooJSON(a.Field(f), i)
		}
		return out
	case array.ExtensionArray:
		switch s := a.Storage().(type) {
		case *array.FixedSizeBinary:
			u, err := uuid.FromBytes(s.Value(i))
			if err != nil {
				return fmt.Sprintf("(bad uuid %x)", s.Value(i))
			}
			return u.String()
		case *array.String:
			v, err := ParseJSON(s.Value(i))
			if err != nil {
				return fmt.Sprintf("(invalid JSON %q)", s.Value(i))
			}
			return v
		}
	}
	return fmt.Sprintf("(unexpected %T)", arr)
}
