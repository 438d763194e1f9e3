package lake_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wharf-data/wharf/internal/lake"
)

// openLake opens a lake in a fresh temporary directory.
func openLake(t testing.TB) (*lake.Lake, string) {
	t.Helper()
	root := t.TempDir()
	l, err := lake.Open(context.Background(), "file://"+root)
	if err != nil {
		t.Fatalf("open lake: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close lake: %v", err)
		}
	})
	return l, root
}

// cityPartition partitions by the city column of buildMixed's records.
func cityPartition(t testing.TB) lake.Partitioner {
	t.Helper()
	part, err := lake.ColumnPartition("city")
	if err != nil {
		t.Fatal(err)
	}
	return part
}

// filesUnder lists every regular file under root, "/"-separated and
// relative, sorted: temporary files included.
func filesUnder(t testing.TB, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	slices.Sort(out)
	return out
}

// writeRun writes recs as one run and returns its files.
func writeRun(t testing.TB, l *lake.Lake, prefix, runID string, part lake.Partitioner, opts lake.WriterOptions, recs ...arrow.RecordBatch) []lake.FileInfo {
	t.Helper()
	w, err := l.NewRunWriter(context.Background(), prefix, runID, recs[0].Schema(), part, opts)
	if err != nil {
		t.Fatalf("new run writer: %v", err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	files, err := w.Close()
	if err != nil {
		t.Fatalf("close: %v", err)
	}
	return files
}

func TestOpenPaths(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	cases := []struct{ in, wantDir string }{
		{"file://" + dir + "/a", dir + "/a"},
		{"file://localhost" + dir + "/b", dir + "/b"},
		{dir + "/c/d", dir + "/c/d"},
		{"rel/lake", dir + "/rel/lake"},
	}
	for _, c := range cases {
		l, err := lake.Open(ctx, c.in)
		if err != nil {
			t.Fatalf("Open(%q): %v", c.in, err)
		}
		if got, want := l.URL(), "file://"+c.wantDir; got != want {
			t.Errorf("Open(%q).URL() = %q, want %q", c.in, got, want)
		}
		if st, err := os.Stat(c.wantDir); err != nil || !st.IsDir() {
			t.Errorf("Open(%q) did not create directory %s: %v", c.in, c.wantDir, err)
		}
		l.Close()
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ in, want string }{
		{"", "lake URL is empty"},
		{"s3://user:hunter2@bucket/path", `lake URL s3://user:xxxxx@bucket/path: credentials never go in the URL`},
		{"azblob://c/p?sig=hunter2&x=1", `lake URL azblob://c/p?sig=xxxxx&x=1: `},
		{"ftp://host/path", `lake URL ftp://host/path: scheme "ftp" is not supported (supported: file, s3, gs, azblob)`},
		{"file:///tmp/x?create_dir=1", `lake URL file:///tmp/x?create_dir=1: file URLs take no query parameters (got create_dir)`},
		{"file://otherhost/tmp/x", "file URLs take no host"},
		{"file://", "no directory"},
		{"file://" + file, "is not a directory"},
	}
	for _, c := range cases {
		_, err := lake.Open(ctx, c.in)
		if err == nil {
			t.Errorf("Open(%q) succeeded, want error %q", c.in, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%q) error = %q, want it to contain %q", c.in, err, c.want)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) error leaks the secret: %q", c.in, err)
		}
	}
}

func TestListAndDeleteRunFiles(t *testing.T) {
	ctx := context.Background()
	l, root := openLake(t)
	rec := buildMixed(t, 0, 300)
	defer rec.Release()
	part := cityPartition(t)
	filesA := writeRun(t, l, "hr/public.regions", "runA", part, lake.WriterOptions{}, rec)
	filesB := writeRun(t, l, "hr/public.regions", "runB", part, lake.WriterOptions{}, rec)
	filesA2 := writeRun(t, l, "hr/public.regions", "runA2", nil, lake.WriterOptions{}, rec)
	other := writeRun(t, l, "hr/public.other", "runA", nil, lake.WriterOptions{}, rec)
	if len(filesA) < 5 {
		t.Fatalf("run A wrote %d files, want one per city (10) plus NULL", len(filesA))
	}
	// A crashed writer's temporary file and a foreign file.
	leftover := "hr/public.regions/city=Faro/part-runA-00001.parquet.18a2b3c4d5.tmp"
	for _, p := range []string{leftover, "hr/public.regions/notes.txt"} {
		if err := os.WriteFile(filepath.Join(root, p), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	all, err := l.List(ctx, "hr/public.regions")
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	want := append(append(append([]lake.FileInfo{}, filesA...), filesB...), filesA2...)
	slices.SortFunc(want, func(a, b lake.FileInfo) int { return strings.Compare(a.Path, b.Path) })
	if len(all) != len(want) {
		t.Fatalf("List = %d files, want %d: %v", len(all), len(want), all)
	}
	for i := range all {
		if all[i].Path != want[i].Path || all[i].Bytes != want[i].Bytes || all[i].Rows != 0 {
			t.Errorf("List[%d] = %+v, want path %s bytes %d rows 0", i, all[i], want[i].Path, want[i].Bytes)
		}
	}

	n, err := l.DeleteRunFiles(ctx, "hr/public.regions", "runA")
	if err != nil {
		t.Fatalf("DeleteRunFiles: %v", err)
	}
	if n != len(filesA)+1 {
		t.Errorf("DeleteRunFiles removed %d objects, want %d (run A's files and its temporary file)", n, len(filesA)+1)
	}
	var wantLeft []string
	for _, f := range append(append(append([]lake.FileInfo{}, filesB...), filesA2...), other...) {
		wantLeft = append(wantLeft, f.Path)
	}
	wantLeft = append(wantLeft, "hr/public.regions/notes.txt")
	slices.Sort(wantLeft)
	if got := filesUnder(t, root); !slices.Equal(got, wantLeft) {
		t.Errorf("after DeleteRunFiles the lake holds\n%v\nwant\n%v", got, wantLeft)
	}
	if n, err := l.DeleteRunFiles(ctx, "hr/public.regions", "runA"); err != nil || n != 0 {
		t.Errorf("second DeleteRunFiles = %d, %v; want 0, nil", n, err)
	}
	if _, err := l.DeleteRunFiles(ctx, "hr/public.regions", "run/../x"); err == nil || !strings.Contains(err.Error(), `run ID "run/../x"`) {
		t.Errorf("DeleteRunFiles with a bad run ID: error %v, want one naming the run ID", err)
	}
	if _, err := l.List(ctx, "../escape"); err == nil || !strings.Contains(err.Error(), `prefix "../escape"`) {
		t.Errorf("List(../escape): error %v, want one naming the prefix", err)
	}
}

// TestChunkFiles: a chunk's writer names its files after the chunk, in
// every partition directory; DeleteChunkFiles removes exactly one chunk's
// files, and DeleteRunFiles every chunk's of the run.
func TestChunkFiles(t *testing.T) {
	ctx := context.Background()
	l, root := openLake(t)
	rec := buildMixed(t, 0, 300)
	defer rec.Release()
	part := cityPartition(t)
	w, err := l.NewRunWriter(ctx, "hr/t", "runA", rec.Schema(), part, lake.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var chunks [][]lake.FileInfo
	for k := range 3 {
		cw := w.Chunk(k, 2)
		if err := cw.Write(rec); err != nil {
			t.Fatal(err)
		}
		files, err := cw.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if want := fmt.Sprintf("/part-runA-c%04da2-", k); !strings.Contains(f.Path, want) {
				t.Fatalf("chunk %d wrote %s, want a name with %s", k, f.Path, want)
			}
		}
		chunks = append(chunks, files)
	}
	other := writeRun(t, l, "hr/t", "runB", part, lake.WriterOptions{}, rec)
	n, err := l.DeleteChunkFiles(ctx, "hr/t", "runA", 1)
	if err != nil || n != len(chunks[1]) {
		t.Fatalf("DeleteChunkFiles = %d, %v; want %d", n, err, len(chunks[1]))
	}
	var left []string
	for _, f := range append(append(append([]lake.FileInfo{}, chunks[0]...), chunks[2]...), other...) {
		left = append(left, f.Path)
	}
	slices.Sort(left)
	if got := filesUnder(t, root); !slices.Equal(got, left) {
		t.Fatalf("after DeleteChunkFiles(1) the lake holds\n%v\nwant\n%v", got, left)
	}
	if n, err := l.DeleteRunFiles(ctx, "hr/t", "runA"); err != nil || n != len(chunks[0])+len(chunks[2]) {
		t.Fatalf("DeleteRunFiles = %d, %v; want every remaining chunk file", n, err)
	}
	if got := filesUnder(t, root); len(got) != len(other) {
		t.Fatalf("after DeleteRunFiles(runA) the lake holds %v, want only run B's", got)
	}
}
