package lake_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wharf-data/wharf/internal/arrowmem"
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

// writeEveryKind writes every flat and nested kind, with NULLs, in three
// records each, and returns the files' bytes.
func writeEveryKind(t *testing.T) [][]byte {
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

// sameFiles fails t unless got and want are the same files' bytes.
func sameFiles(t *testing.T, got, want [][]byte, gotFrom, wantFrom string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d files %s, %d %s", len(got), gotFrom, len(want), wantFrom)
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("file %d: %d bytes %s differ from the %d bytes %s", i, len(got[i]), gotFrom, len(want[i]), wantFrom)
		}
	}
}

// The writer encodes in buffers from lake's allocator, which recycles
// them unzeroed. With every buffer poisoned where Go's heap would give
// zeroes, the files must be the same bytes as with Go's heap: no part of
// the Parquet writer may rely on fresh memory being zero.
func TestWriterNeedsNoZeroedBuffers(t *testing.T) {
	write := func(mem memory.Allocator) [][]byte {
		restore := lake.UseAllocator(mem)
		defer restore()
		return writeEveryKind(t)
	}
	want := write(memory.NewGoAllocator())
	got := write(parquettest.Poisoned())
	sameFiles(t, got, want, "with poisoned buffers", "written with Go's heap")
}

// arrow-go's encoders take their output buffers from a pool of their own
// over memory.DefaultAllocator, which lake makes a zeroing recycler for the
// whole process. Recycled buffers that held anything must come out as Go's
// heap would (the encoders rely on zeroes), and nothing in arrow-go may
// read a buffer after giving it back: the files must be the same bytes as
// with Go's heap.
func TestDefaultAllocatorRecyclesSafely(t *testing.T) {
	recycler := memory.DefaultAllocator
	if _, ok := recycler.(*arrowmem.Recycler); !ok {
		t.Fatalf("memory.DefaultAllocator is a %T, want lake's zeroing *arrowmem.Recycler", recycler)
	}
	defer func() { memory.DefaultAllocator = recycler }()
	write := func(mem memory.Allocator, poisonPool bool) [][]byte {
		memory.DefaultAllocator = mem
		// Two collections empty the encoders' pool, whose buffers keep the
		// allocator they were made with, and mem's own pools.
		runtime.GC()
		runtime.GC()
		if poisonPool {
			poisonFreed(mem)
		}
		return writeEveryKind(t)
	}
	want := write(memory.NewGoAllocator(), false)
	sameFiles(t, write(recycler, true), want, "with recycled poisoned buffers", "written with Go's heap")
	sameFiles(t, write(parquettest.FreePoisoned(), false), want, "with buffers poisoned once given back", "written with Go's heap")
	// Unzeroed, arrow-go's DELTA_BINARY_PACKED encoder leaves the width
	// bytes of a last block's unused miniblocks as it found them (readers
	// must take any value there, but the file is then not the same bytes
	// twice); this test caught that in the flat file until wharf's own
	// column writer took over every column wharf delta-packs (see
	// own_column.go). The zeroing stays for the arrow-go paths left.
}

// poisonFreed gives mem, a recycler, poisoned buffers of every size class
// up to 2 MiB, for its next Allocates to hand out again.
func poisonFreed(mem memory.Allocator) {
	var bufs [][]byte
	for shift := 8; shift <= 20; shift++ {
		for step := 1; step <= 4; step++ {
			for range 4 {
				b := mem.Allocate(1<<shift + step<<(shift-2))
				b = b[:cap(b)]
				for i := range b {
					b[i] = 0xa5
				}
				bufs = append(bufs, b)
			}
		}
	}
	for _, b := range bufs {
		mem.Free(b)
	}
}
