package lake_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/lake/parquettest"
)

// nestedKinds are the nested columns the sources land (arrays, composites,
// hstore, interval), NULL at every level.
func nestedKinds() []coltype.Column {
	i32 := coltype.Column{Name: "element", Kind: coltype.Int32, Nullable: true}
	str := coltype.Column{Name: "value", Kind: coltype.String, Nullable: true}
	return []coltype.Column{
		{Name: "id", Kind: coltype.Int64},
		{Name: "ints", Kind: coltype.List, Nullable: true, Elem: &i32},
		{Name: "texts", Kind: coltype.List, Nullable: true, Elem: &coltype.Column{Name: "element", Kind: coltype.String, Nullable: true}},
		{Name: "pair", Kind: coltype.Struct, Nullable: true, Fields: []coltype.Column{
			{Name: "a", Kind: coltype.Int64, Nullable: true}, {Name: "b", Kind: coltype.String, Nullable: true}}},
		{Name: "tags", Kind: coltype.Map, Nullable: true, Elem: &str},
	}
}

// nestedRecord makes n rows of nestedKinds, deterministic for seed.
func nestedRecord(t testing.TB, mem memory.Allocator, n, seed int) arrow.RecordBatch {
	t.Helper()
	var js strings.Builder
	js.WriteString("[")
	for r := 0; r < n; r++ {
		v := r*7 + seed
		if r > 0 {
			js.WriteString(",")
		}
		fmt.Fprintf(&js, `{"id": %d`, v)
		switch v % 4 {
		case 0:
			js.WriteString(`, "ints": null, "texts": [], "pair": null, "tags": null`)
		case 1:
			fmt.Fprintf(&js, `, "ints": [%d, null, %d], "texts": ["x%d", null], "pair": {"a": null, "b": "b%d"}, "tags": [{"key": "k", "value": null}]`, v, -v, v%13, v)
		case 2:
			fmt.Fprintf(&js, `, "ints": [], "texts": null, "pair": {"a": %d, "b": null}, "tags": []`, v)
		default:
			fmt.Fprintf(&js, `, "ints": [null], "texts": ["%d", "", "y"], "pair": {"a": %d, "b": "c"}, "tags": [{"key": "a", "value": "%d"}, {"key": "b", "value": "v"}]`, v%5, -v, v%3)
		}
		js.WriteString("}")
	}
	js.WriteString("]")
	rec, _, err := array.RecordFromJSON(mem, coltype.ArrowSchema(nestedKinds()), strings.NewReader(js.String()))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// The writer encodes in buffers from lake's allocator, which recycles
// them unzeroed. With every buffer poisoned where Go's heap would give
// zeroes, the files must be the same bytes as with Go's heap: no part of
// the Parquet writer may rely on fresh memory being zero.
func TestWriterNeedsNoZeroedBuffers(t *testing.T) {
	write := func(mem memory.Allocator) [][]byte {
		restore := lake.UseAllocator(mem)
		defer restore()
		l, root := openLake(t)
		flat := []arrow.RecordBatch{buildRecord(t, everyKind(), 3000, 1), buildRecord(t, everyKind(), 1, 2), buildRecord(t, everyKind(), 2500, 3)}
		nested := []arrow.RecordBatch{nestedRecord(t, memory.DefaultAllocator, 3000, 1), nestedRecord(t, memory.DefaultAllocator, 1, 2), nestedRecord(t, memory.DefaultAllocator, 2500, 3)}
		var out [][]byte
		for _, run := range []struct {
			name string
			recs []arrow.RecordBatch
		}{{"flat", flat}, {"nested", nested}} {
			name, recs := run.name, run.recs
			files := writeRun(t, l, name, "r", nil, lake.WriterOptions{RowGroupRows: 2000}, recs...)
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(root, f.Path))
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, b)
			}
			for _, r := range recs {
				r.Release()
			}
		}
		return out
	}
	want := write(memory.DefaultAllocator)
	got := write(parquettest.Poisoned())
	if len(got) != len(want) {
		t.Fatalf("%d files with poisoned buffers, %d with Go's heap", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("file %d: %d bytes with poisoned buffers differ from the %d bytes written with Go's heap", i, len(got[i]), len(want[i]))
		}
	}
}
