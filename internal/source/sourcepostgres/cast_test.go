package sourcepostgres

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wharf-data/wharf/internal/source"
)

func TestCatalogCasts(t *testing.T) {
	src, db := openTestSchema(t, DefaultOptions())
	ctx := context.Background()
	mustExec(t, db, "CREATE TABLE casts (id int PRIMARY KEY, n numeric, ia int[], ip inet, r real, b bytea)")
	mustExec(t, db, `INSERT INTO casts VALUES (1, 1.123456789012, '{{1,2},{3,4}}', '10.0.0.1', 1.5, '\x00ff'), (2, NULL, NULL, NULL, NULL, NULL)`)
	described, err := src.Describe(ctx, source.TableRef{Name: "casts"})
	if err != nil {
		t.Fatal(err)
	}
	tbl, _, err := source.Choose(described, source.Choices{Cast: map[string]string{
		"n": "string", "ia": "json", "ip": "string", "r": "decimal(5,1)", "b": "string"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	_, err = src.Extract(ctx, source.Request{Table: tbl}, func(r arrow.RecordBatch) error {
		for i := range int(r.NumRows()) {
			var row []string
			for c := range int(r.NumCols()) {
				v := r.Column(c).ValueStr(i)
				if r.Column(c).IsNull(i) {
					v = "NULL"
				}
				row = append(row, v)
			}
			got = append(got, strings.Join(row, "|"))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `1|1.123456789012|[[1,2],[3,4]]|10.0.0.1|1.5|\x00ff,2|NULL|NULL|NULL|NULL|NULL`
	if strings.Join(got, ",") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, ","), want)
	}

	// A decimal cast lands exactly or fails naming the value.
	mustExec(t, db, "INSERT INTO casts (id, r) VALUES (3, 1.25)")
	_, err = src.Extract(ctx, source.Request{Table: tbl}, discard)
	want = `table casts column "r" at key id=3: value 1.25 cannot land as decimal(5,1): more than 1 fractional digits`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v\nwant it to contain %s", err, want)
	}
}
