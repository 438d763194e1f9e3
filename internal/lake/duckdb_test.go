package lake_test

import (
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"

	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/testdb/duckread"
)

// Pages that do not compress (random UUIDs: 100,000 make 1.6 MB of pages of
// 512 KiB) are stored in raw zstd blocks; DuckDB reads every value back.
func TestStoredPagesReadByDuckDB(t *testing.T) {
	const n = 100_000
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "ref", Type: extensions.NewUUIDType()},
	}, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	r := rand.New(rand.NewPCG(5, 6))
	want := make([]string, n)
	for i := range n {
		var u uuid.UUID
		for j := range u {
			u[j] = byte(r.Uint32())
		}
		rb.Field(0).(*array.Int64Builder).Append(int64(i))
		rb.Field(1).(*extensions.UUIDBuilder).Append(u)
		want[i] = u.String()
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	l, root := openLake(t)
	files := writeRun(t, l, "stored", "r", nil, lake.WriterOptions{}, rec)
	path := filepath.Join(root, files[0].Path)
	if files[0].Bytes > n*16*102/100 {
		t.Errorf("file of %d bytes for %d bytes of UUIDs", files[0].Bytes, n*16)
	}
	rows := duckread.Strings(t, duckread.Open(t), `SELECT id::VARCHAR, ref::VARCHAR FROM read_parquet(?) ORDER BY id`, path)
	if len(rows) != n {
		t.Fatalf("DuckDB read %d rows, want %d", len(rows), n)
	}
	for i, row := range rows {
		if *row[0] != strconv.Itoa(i) || *row[1] != want[i] {
			t.Fatalf("row %d: DuckDB read id %s ref %s, want %d %s", i, *row[0], *row[1], i, want[i])
		}
	}
}
