package sourcemysql

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

// TestCast: columns the catalog casts (cast:, and mask:, which reads the
// text form) are converted by the server as documented in castPlan.
func TestCast(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, db := openTest(t)
	exec(t, db, `CREATE TABLE c (id int PRIMARY KEY, f float, d decimal(12,3), ts timestamp(6) NULL, bl blob,
		g geometry, js json, b1 tinyint(1), name varchar(10), i int, bits bit(4))`)
	exec(t, db, `INSERT INTO c VALUES (1, 16777216, 1.500, '2038-01-19 03:14:07.5', x'00ff', ST_GeomFromText('POINT(1 2)'),
		'{"a":1}', 1, 'Zoë', 7, b'1010'), (2, NULL, 2.25, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
	tbl, err := src.Describe(ctx, source.TableRef{Name: "c"})
	if err != nil {
		t.Fatal(err)
	}
	cast := func(name string, k coltype.Kind, c coltype.Cast, p, s int) coltype.Column {
		return coltype.Column{Name: name, Kind: k, Cast: c, Precision: p, Scale: s, Nullable: true, SourceType: tbl.Column(name).SourceType}
	}
	req := source.Request{Table: &source.Table{Ref: tbl.Ref, Columns: []coltype.Column{
		*tbl.Column("id"),
		cast("f", coltype.String, coltype.CastString, 0, 0),
		cast("ts", coltype.String, coltype.CastString, 0, 0),
		cast("bl", coltype.String, coltype.CastString, 0, 0),
		cast("g", coltype.JSON, coltype.CastJSON, 0, 0),
		cast("js", coltype.String, coltype.CastString, 0, 0),
		cast("b1", coltype.JSON, coltype.CastJSON, 0, 0),
		cast("name", coltype.JSON, coltype.CastJSON, 0, 0),
		cast("i", coltype.Float64, coltype.CastFloat64, 0, 0),
		cast("bits", coltype.String, coltype.CastString, 0, 0),
		cast("d", coltype.Decimal, coltype.CastDecimal, 6, 2),
	}}}
	rows := extractAll(t, src, req)
	if len(rows) != 2 {
		t.Fatalf("got %d rows", len(rows))
	}
	want := []any{int64(1), "16777216", "2038-01-19 03:14:07.500000", "0x00FF", `{"type": "Point", "coordinates": [1, 2]}`,
		`{"a":1}`, "true", `"Zoë"`, 7.0, "10", "1.50"}
	for i, w := range want {
		g := rows[0][i]
		if req.Table.Columns[i].Kind == coltype.JSON {
			var gv, wv any
			if json.Unmarshal([]byte(g.(string)), &gv) != nil || json.Unmarshal([]byte(w.(string)), &wv) != nil || !reflect.DeepEqual(gv, wv) {
				t.Errorf("%s: got %#v, want JSON %s", req.Table.Columns[i].Name, g, w)
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: got %#v, want %#v", req.Table.Columns[i].Name, g, w)
		}
	}
	for i, g := range rows[1][1 : len(want)-1] {
		if g != nil {
			t.Errorf("%s of a NULL: got %#v, want nil", req.Table.Columns[i+1].Name, g)
		}
	}

	// A decimal cast that would round fails naming the value.
	req.Table.Columns[len(want)-1] = cast("d", coltype.Decimal, coltype.CastDecimal, 6, 1)
	_, err = src.Extract(ctx, req, func(arrow.RecordBatch) error { return nil })
	if err == nil || !strings.Contains(err.Error(), `column "d" (decimal(12,3)), row 2 of the window: value 2.250 does not fit decimal(6,1) exactly`) {
		t.Errorf("lossy decimal cast: %v", err)
	}
}

// TestSettle: cursor values newer than the server's clock minus settle wait
// for the next run, and the result says so.
func TestSettle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src, db := openTest(t)
	exec(t, db, "CREATE TABLE s (id int, ts timestamp(6) NULL, dt datetime(6))")
	exec(t, db, "INSERT INTO s VALUES (1, NOW(6) - INTERVAL 1 HOUR, NOW(6) - INTERVAL 1 HOUR), (2, NOW(6), NOW(6)), (3, NULL, NULL)")
	tbl, err := src.Describe(ctx, source.TableRef{Name: "s"})
	if err != nil {
		t.Fatal(err)
	}
	for _, cur := range []string{"ts", "dt"} {
		var n int64
		res, err := src.Extract(ctx, source.Request{Table: tbl, Cursor: cur, Settle: 10 * time.Minute}, func(r arrow.RecordBatch) error {
			n += r.NumRows()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 || res.Rows != 2 || !strings.HasPrefix(res.Bound, "settle 10m0s: cursor values from ") {
			t.Errorf("cursor %s: %d rows, bound %q; want rows 1 and 3 and the settle rule", cur, n, res.Bound)
		}
		// Everything newer than the watermark is held back: an empty window.
		res, err = src.Extract(ctx, source.Request{Table: tbl, Cursor: cur, After: res.High, Settle: 10 * time.Minute}, func(arrow.RecordBatch) error {
			t.Error("rows delivered from a held-back window")
			return nil
		})
		if err != nil || res.Rows != 0 || res.High != nil {
			t.Errorf("cursor %s after the settled high: %+v, %v", cur, res, err)
		}
	}
}
