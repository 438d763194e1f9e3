package sourcepostgres

import (
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wharf-data/wharf/internal/lake/parquettest"
)

// TestColumnsValidityAcrossBatches decodes, into poisoned buffers, columns
// whose first batches have no NULL (a varColumn or fixedColumn hands over
// no bitmap and keeps its own for the next batch), then a batch with NULLs
// (the kept bitmap goes with it) and one after it (a new bitmap): every
// value and every NULL must land where it was.
func TestColumnsValidityAcrossBatches(t *testing.T) {
	t.Parallel()
	_, db := openTestSchema(t, DefaultOptions())
	mustExec(t, db, `CREATE TABLE valid AS SELECT g AS id,
		CASE WHEN g > 2500 AND g % 3 = 0 THEN NULL ELSE g END::bigint AS n,
		CASE WHEN g > 2500 AND g % 3 = 0 THEN NULL ELSE 't' || g END AS t
		FROM generate_series(1, 4000) g`)
	live, stream, schema := copyStream(t, db, "valid")
	var withNulls []bool
	dec, err := newCopyDecoder(parquettest.Poisoned(), "valid", live.cols, schema, 1000, func(r arrow.RecordBatch) error {
		defer r.Release()
		ids, n, s := r.Column(0).(*array.Int32), r.Column(1).(*array.Int64), r.Column(2).(*array.String)
		withNulls = append(withNulls, n.NullN() > 0)
		for row := 0; row < int(r.NumRows()); row++ {
			g := int(ids.Value(row))
			if null := g > 2500 && g%3 == 0; n.IsNull(row) != null || s.IsNull(row) != null {
				t.Fatalf("id %d: NULL %v and %v, want %v", g, n.IsNull(row), s.IsNull(row), null)
			} else if !null && (n.Value(row) != int64(g) || s.Value(row) != "t"+strconv.Itoa(g)) {
				t.Fatalf("id %d: %d and %q", g, n.Value(row), s.Value(row))
			}
		}
		return nil
	})
	decodeAll(t, dec, err, stream)
	if len(withNulls) != 4 || withNulls[0] || withNulls[1] || !withNulls[2] || !withNulls[3] {
		t.Errorf("batches with NULLs: %v, want the last two of four", withNulls)
	}
}
