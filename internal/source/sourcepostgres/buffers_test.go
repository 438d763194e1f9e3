package sourcepostgres

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/lake/parquettest"
	"github.com/wharf-data/wharf/internal/source"
)

// TestRecycledBuffersLandTheSameBytes lands a table of NULL-heavy columns of
// every kind, in many small records, from Go's zeroed heap, from buffers
// poisoned where Go's heap has zeroes and overwritten when freed, and from
// source.Buffers: the Parquet files must be the same bytes. A builder that
// relied on zeroed memory (validity bitmaps, offsets, value bytes) or a
// writer that kept a reference into a released record would land the
// poison.
func TestRecycledBuffersLandTheSameBytes(t *testing.T) {
	t.Parallel()
	src, db := openTestSchema(t, DefaultOptions())
	mustExec(t, db, `CREATE TABLE sparse AS SELECT g AS id,
		CASE WHEN g % 2 = 0 THEN g % 300 END::smallint AS i2,
		CASE WHEN g % 3 = 0 THEN g * 7 END::int AS i4,
		CASE WHEN g % 5 <> 0 THEN g::bigint * 1000003 END AS i8,
		CASE WHEN g % 7 < 3 THEN g / 3.0 END::real AS f4,
		CASE WHEN g % 4 = 1 THEN g / 7.0 END::double precision AS f8,
		CASE WHEN g % 3 <> 1 THEN g / 9.0 END::numeric(14,3) AS n,
		CASE WHEN g % 6 = 0 THEN round(g / 11.0, 5) END::numeric AS nu,
		CASE WHEN g % 5 = 2 THEN g % 2 = 0 END AS b,
		CASE WHEN g % 2 = 1 THEN repeat(chr(97 + g % 26), g % 40) END AS t,
		CASE WHEN g % 9 > 2 THEN decode(lpad(to_hex(g), 8, '0'), 'hex') END AS by,
		CASE WHEN g % 4 <> 3 THEN date '2020-01-01' + g END AS d,
		CASE WHEN g % 8 < 5 THEN timestamp '2024-01-01' + g * interval '1 minute' END AS ts,
		CASE WHEN g % 10 > 6 THEN timestamptz '2024-01-01 00:00Z' + g * interval '1 second' END AS tz,
		CASE WHEN g % 3 = 2 THEN time '00:00' + g * interval '1 second' END AS tm,
		CASE WHEN g % 5 > 1 THEN md5(g::text)::uuid END AS u,
		CASE WHEN g % 2 = 0 THEN jsonb_build_object('k', g, 'v', repeat('x', g % 17)) END AS j,
		CASE WHEN g % 7 = 0 THEN ARRAY[g, NULL, g + 1] END AS arr,
		CASE WHEN g BETWEEN 1000 AND 1400 THEN g END AS mostly_null
		FROM generate_series(1, 3000) g`)
	ctx := context.Background()
	tbl, err := src.Describe(ctx, source.TableRef{Name: "sparse"})
	if err != nil {
		t.Fatal(err)
	}
	land := func(mem memory.Allocator) map[string][]byte {
		src.mem = mem
		dir := t.TempDir()
		l, err := lake.Open(ctx, "file://"+dir)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var w *lake.RunWriter
		_, err = src.Extract(ctx, source.Request{Table: tbl, BatchRows: 256}, func(rec arrow.RecordBatch) error {
			if w == nil {
				if w, err = l.NewRunWriter(ctx, "sparse", "run", rec.Schema(), nil, lake.WriterOptions{}); err != nil {
					return err
				}
			}
			return w.Write(rec)
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		err = filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				files[path[len(dir):]], err = os.ReadFile(path)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return files
	}
	want := land(memory.NewGoAllocator())
	if len(want) == 0 {
		t.Fatal("no file landed")
	}
	for what, mem := range map[string]memory.Allocator{"poisoned buffers": parquettest.Poisoned(), "source.Buffers": source.Buffers} {
		got := land(mem)
		if len(got) != len(want) {
			t.Fatalf("%d files from %s, %d from Go's heap", len(got), what, len(want))
		}
		for name, b := range want {
			if !bytes.Equal(got[name], b) {
				t.Errorf("%s: %d bytes from %s differ from the %d bytes landed from Go's heap", name, len(got[name]), what, len(b))
			}
		}
	}
}
