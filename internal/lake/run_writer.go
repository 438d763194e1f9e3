package lake

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/wharf-data/wharf/internal/arrowmem"
)

// RunWriter writes one run's records as Parquet objects under a prefix.
// It is not safe for concurrent use; Stream gives another writer of the
// same run for another goroutine.
type RunWriter struct {
	lake       *Lake
	ctx        context.Context
	prefix     string
	runID      string
	stem       string        // what its files are named after: the run ID, or a chunk's
	schema     *arrow.Schema // of the records written
	fileSchema *arrow.Schema // of the files (less partition columns)
	keep       []int         // columns of schema kept in the files
	part       Partitioner
	opts       WriterOptions
	arrowProps pqarrow.ArrowWriterProperties

	open    map[string]*partFile // by partition directory
	nums    *fileNumbers         // next file number per directory, shared by the run's streams
	closes  *closing             // files finished, closed in the background
	created []string             // keys of every object started
	spans   []Span               // scratch for Split
	groups  []dirSpans           // scratch: spans by directory
	groupOf map[string]int       // scratch: index in groups by directory
	tick    uint64               // LRU clock
	err     error                // sticky: after a failure only Abort helps
	closed  bool

	// held keeps the rows of partitions that had no open file while
	// MaxOpenFiles were open, until their partition gets a file (its rows
	// come back when fewer are open), the run holds records of more than
	// BufferBytes, or it closes.
	held held
}

// dirSpans is the spans of one record bound for one directory, in row order.
type dirSpans struct {
	dir   string
	spans []Span
}

// concatRecords copies recs (of schema) into one record.
func concatRecords(schema *arrow.Schema, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, schema.NumFields())
	parts := make([]arrow.Array, len(recs))
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	for i := range cols {
		for j, r := range recs {
			parts[j] = r.Column(i)
		}
		col, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			releaseArrays(cols[:i])
			return nil, fmt.Errorf("gather rows of column %q: %w", schema.Field(i).Name, err)
		}
		cols[i] = col
	}
	defer releaseArrays(cols)
	return array.NewRecordBatch(schema, cols, n), nil
}

func releaseArrays(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

// errClosed is returned by Write and Close after Close or Abort.
var errClosed = errors.New("run writer is closed")

// NewRunWriter starts writing one run's output under prefix (e.g.
// "hr/public.regions"). Records must have exactly schema. Files are named
// part-<runID>-<n>.parquet, n counting from 00000 in each partition
// directory. A nil part means no partition directory. No object is created
// before the first row arrives.
func (l *Lake) NewRunWriter(ctx context.Context, prefix, runID string, schema *arrow.Schema, part Partitioner, opts WriterOptions) (*RunWriter, error) {
	where := fmt.Sprintf("lake %s: run %s under %q", l.url, runID, prefix)
	if err := checkRunID(runID); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if err := checkDir("prefix", prefix); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if schema == nil || schema.NumFields() == 0 {
		return nil, fmt.Errorf("%s: schema has no columns", where)
	}
	if part == nil {
		part = StaticPartition("")
	}
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("%s: writer options: %w", where, err)
	}
	fileSchema, err := part.FileSchema(schema)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	keep, err := projection(schema, fileSchema)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	// Fails now, not at the first row, on a schema Parquet cannot hold.
	// Each file gets its own properties from its first record (fileFor).
	_, arrowProps, err := opts.parquetProperties(fileSchema, nil, writerMem)
	if err != nil {
		return nil, fmt.Errorf("%s: schema cannot be written as Parquet: %w", where, err)
	}
	return &RunWriter{
		lake:       l,
		ctx:        ctx,
		prefix:     prefix,
		runID:      runID,
		stem:       runID,
		schema:     schema,
		fileSchema: fileSchema,
		keep:       keep,
		part:       part,
		opts:       opts,
		arrowProps: arrowProps,
		open:       map[string]*partFile{},
		nums:       &fileNumbers{next: map[string]int{}},
		closes:     newClosing(),
	}, nil
}

// fileNumbers hands out file numbers per partition directory to every
// stream of a run, so that their files never share a name.
type fileNumbers struct {
	mu   sync.Mutex
	next map[string]int
}

func (n *fileNumbers) take(dir string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := n.next[dir]
	n.next[dir] = k + 1
	return k
}

// Stream returns another writer of the same run, with the same schema and
// options, for records written concurrently with w's (a run read in
// parallel streams): its files are numbered on from the run's, so no two
// streams write the same name. Each writer is closed or aborted on its own.
func (w *RunWriter) Stream() *RunWriter { return w.another(w.stem, w.nums) }

// Chunk returns a writer of attempt a at chunk k of the same run (a run
// read in chunks, possibly by several processes): its files are named
// part-<runID>-c<k>a<a>-<n>.parquet, numbered on their own, so that a
// chunk read again removes what earlier attempts wrote
// (Lake.DeleteChunkFiles), and an attempt that lost its chunk removes its
// own (Abort) and never another attempt's.
func (w *RunWriter) Chunk(k, a int) *RunWriter {
	return w.another(chunkStem(w.runID, k, a), &fileNumbers{next: map[string]int{}})
}

func (w *RunWriter) another(stem string, nums *fileNumbers) *RunWriter {
	return &RunWriter{
		lake: w.lake, ctx: w.ctx, prefix: w.prefix, runID: w.runID, stem: stem, schema: w.schema, fileSchema: w.fileSchema,
		keep: w.keep, part: w.part, opts: w.opts, arrowProps: w.arrowProps,
		open: map[string]*partFile{}, nums: nums, closes: newClosing(),
	}
}

// FileSchema is the schema of the run's files: the records' schema less
// the columns the partitioner moves into directory names.
func (w *RunWriter) FileSchema() *arrow.Schema { return w.fileSchema }

// projection finds the columns of schema that make up fileSchema, in order.
func projection(schema, fileSchema *arrow.Schema) ([]int, error) {
	keep := make([]int, 0, fileSchema.NumFields())
	j := 0
	for i, f := range schema.Fields() {
		if j < fileSchema.NumFields() && f.Equal(fileSchema.Field(j)) {
			keep = append(keep, i)
			j++
		}
	}
	if j != fileSchema.NumFields() {
		return nil, fmt.Errorf("partitioner's file schema is not a subset of the run's schema")
	}
	return keep, nil
}

// Write adds rec's rows to the run. The caller keeps ownership of rec.
// After an error the writer is unusable: call Abort.
func (w *RunWriter) Write(rec arrow.RecordBatch) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return w.errorf("write: %w", errClosed)
	}
	if err := w.closes.failed(); err != nil {
		return w.fail(err)
	}
	if !rec.Schema().Equal(w.schema) {
		return w.fail(fmt.Errorf("record schema %s does not match the run's schema %s", rec.Schema(), w.schema))
	}
	if rec.NumRows() == 0 {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		return w.fail(err)
	}
	var err error
	w.spans, err = w.part.Split(rec, w.spans[:0])
	if err != nil {
		return w.fail(err)
	}
	var p *pin // rec, once rows of it are held
	for _, g := range w.byDir() {
		if err := checkDir("partition directory", g.dir); err != nil {
			return w.fail(err)
		}
		if _, ok := w.open[g.dir]; !ok && len(w.open) >= w.opts.MaxOpenFiles {
			// Held until the run closes, holds more than BufferBytes, or
			// a file can be opened for g.dir: a partition gets one file,
			// not one each time it comes back after its file was closed.
			if p == nil {
				p = w.held.pinRecord(rec)
			}
			w.held.add(p, g.dir, g.spans)
			continue
		}
		if err := w.writeDir(g.dir, rec, g.spans); err != nil {
			return w.fail(err)
		}
	}
	if w.held.bytes > w.opts.BufferBytes {
		if err := w.release(w.opts.BufferBytes / 2); err != nil {
			return w.fail(err)
		}
	}
	return nil
}

// byDir groups w.spans by directory, in the order the directories first
// appear: rows of a partition column that is not clustered (a day column
// of a table in id order) come as many one-row spans, which are written
// together rather than one by one.
func (w *RunWriter) byDir() []dirSpans {
	w.groups = w.groups[:0]
	if len(w.spans) == 1 {
		return append(w.groups, dirSpans{dir: w.spans[0].Dir, spans: w.spans})
	}
	// Reused: made per Write with a slot per span, it was 3.5 MB for a
	// record of 65,536 rows of a day column in id order.
	if w.groupOf == nil {
		w.groupOf = map[string]int{}
	}
	clear(w.groupOf)
	for i, s := range w.spans {
		g, ok := w.groupOf[s.Dir]
		if !ok {
			g = len(w.groups)
			w.groupOf[s.Dir] = g
			w.groups = append(w.groups, dirSpans{dir: s.Dir})
		}
		w.groups[g].spans = append(w.groups[g].spans, w.spans[i])
	}
	return w.groups
}

// writeDir writes to dir's file, opening it if need be, the rows dir
// holds and then those of rec in spans (rec nil: only the held rows).
// Held rows go in the same write as the rows that opened their file, so
// that the file's properties come from its first rows and a file they
// fill is closed before anything else is written to it.
func (w *RunWriter) writeDir(dir string, rec arrow.RecordBatch, spans []Span) error {
	pieces := w.held.take(dir)
	if len(pieces) == 0 && len(spans) == 0 {
		return nil
	}
	defer w.held.done(pieces)
	rows, err := w.gather(pieces, rec, spans)
	if err != nil {
		return err
	}
	defer rows.Release()
	return w.writeTo(dir, rows)
}

// gather returns the rows of pieces, then those of rec in spans, with the
// files' columns: a slice of rec for one span alone, a copy otherwise.
func (w *RunWriter) gather(pieces []piece, rec arrow.RecordBatch, spans []Span) (arrow.RecordBatch, error) {
	if len(pieces) == 0 && len(spans) == 1 {
		return w.slice(rec, spans[0]), nil
	}
	var parts []arrow.RecordBatch
	for _, pc := range pieces {
		for _, s := range pc.spans {
			parts = append(parts, w.slice(pc.pin.rec, s))
		}
	}
	for _, s := range spans {
		parts = append(parts, w.slice(rec, s))
	}
	defer releaseAll(parts)
	return concatRecords(w.fileSchema, parts)
}

// slice returns the rows of rec in s with the files' columns.
func (w *RunWriter) slice(rec arrow.RecordBatch, s Span) arrow.RecordBatch {
	cols := make([]arrow.Array, len(w.keep))
	for i, c := range w.keep {
		cols[i] = array.NewSlice(rec.Column(c), s.Offset, s.Offset+s.Rows)
	}
	defer releaseArrays(cols)
	return array.NewRecordBatch(w.fileSchema, cols, s.Rows)
}

// writeTo writes rows to dir's file, opening it if it is not open.
func (w *RunWriter) writeTo(dir string, rows arrow.RecordBatch) error {
	f, err := w.fileFor(dir, rows)
	if err != nil {
		return err
	}
	w.tick++
	f.lastUse = w.tick
	full, err := f.write(rows, w.opts.RowGroupBytes, w.opts.FileBytes)
	if err != nil {
		return err
	}
	if full {
		return w.finish(f)
	}
	return nil
}

// release writes held rows to files until the records pinned for them
// take at most keep bytes: the directories holding rows of the oldest
// pinned record first, in order, so that memory goes in the order it came.
func (w *RunWriter) release(keep int64) error {
	for w.held.bytes > keep && len(w.held.pins) > 0 {
		for _, dir := range slices.Sorted(slices.Values(w.held.pins[0].dirs)) {
			if err := w.writeDir(dir, nil, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// fileFor returns the open file of dir, opening one (and closing the least
// recently written file when MaxOpenFiles are open) if needed, with
// properties chosen from first, the file's first record.
func (w *RunWriter) fileFor(dir string, first arrow.RecordBatch) (*partFile, error) {
	if f, ok := w.open[dir]; ok {
		return f, nil
	}
	props, _, err := w.opts.parquetProperties(w.fileSchema, first, writerMem)
	if err != nil {
		return nil, err // NewRunWriter built them for the same schema already
	}
	if len(w.open) >= w.opts.MaxOpenFiles {
		var lru *partFile
		for _, f := range w.open {
			if lru == nil || f.lastUse < lru.lastUse {
				lru = f
			}
		}
		if err := w.finish(lru); err != nil {
			return nil, err
		}
	}
	n := w.nums.take(dir)
	key := joinKey(w.prefix, dir, fileName(w.stem, n))
	w.created = append(w.created, key)
	f, err := openPartFile(w.ctx, w.lake, key, dir, w.fileSchema, props, w.arrowProps, w.opts)
	if err != nil {
		return nil, err
	}
	w.open[dir] = f
	return f, nil
}

// finish starts closing f in the background (see closeAhead). It returns
// the first close of w's that failed so far, if any.
func (w *RunWriter) finish(f *partFile) error {
	delete(w.open, f.dir)
	w.closes.start(f)
	return w.closes.failed()
}

// Close flushes and closes every open file and returns every file the run
// wrote, sorted by path. It fails if a Write failed; call Abort then.
func (w *RunWriter) Close() ([]FileInfo, error) {
	if w.err != nil {
		return nil, w.err
	}
	if w.closed {
		return nil, w.errorf("close: %w", errClosed)
	}
	if err := w.closes.failed(); err != nil {
		return nil, w.fail(err) // Abort waits for the other closes
	}
	for _, d := range slices.Sorted(maps.Keys(w.held.dirs)) {
		if err := w.writeDir(d, nil, nil); err != nil {
			return nil, w.fail(err)
		}
	}
	w.closed = true
	for _, d := range slices.Sorted(maps.Keys(w.open)) {
		_ = w.finish(w.open[d]) // a failure is in wait's answer
	}
	out, err := w.closes.wait()
	if err != nil {
		return nil, w.fail(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// abortTimeout bounds the clean-up of Abort, which runs even when the run's
// context is cancelled.
const abortTimeout = 2 * time.Minute

// Abort stops the run and deletes every object it created: finished files,
// files being written (a partial upload is cancelled, a local temporary
// file removed) and files already returned by Close. It works in any state
// and may be called more than once.
func (w *RunWriter) Abort() error {
	w.closed = true
	if w.err == nil {
		w.err = w.errorf("aborted")
	}
	for _, f := range w.open {
		f.abort()
	}
	clear(w.open)
	w.held.drop()
	// A close under way is cancelled, but may have committed its object
	// already: wait, then delete it with the rest.
	w.closes.forget()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), abortTimeout)
	defer cancel()
	var errs []error
	remaining := w.created[:0]
	for _, key := range w.created {
		if err := w.lake.bucket.Delete(ctx, key); err != nil && !notFound(err) {
			errs = append(errs, w.lake.storeError("delete", key, err))
			remaining = append(remaining, key)
		}
	}
	w.created = remaining
	// Each StoreError names the lake and the object (whose name holds the
	// run ID): the caller says it was removing the run's files.
	return errors.Join(errs...)
}

// fail makes err sticky, with the run's context (a StoreError names the
// lake and the object already).
func (w *RunWriter) fail(err error) error {
	var se *StoreError
	if errors.As(err, &se) {
		w.err = err
	} else {
		w.err = w.errorf("%w", err)
	}
	return w.err
}

func (w *RunWriter) errorf(format string, args ...any) error {
	return fmt.Errorf("lake %s: run %s under %q: "+format, append([]any{w.lake.url, w.runID, w.prefix}, args...)...)
}

// writerMem allocates what the Parquet column writers build pages in
// (values, levels, pages before and after compression, the buffered row
// group). From Go's heap that was about 600 bytes of new, zeroed memory a
// row (1M rows of bench/extract.sh's table: 560 of 840 MB allocated), half
// of it buffers regrown by doubling; recycled, the same few megabytes a
// stream serve every page (docs/design-notes.md).
var writerMem memory.Allocator = new(arrowmem.Recycler)

// The encoders inside arrow-go's column writers (DELTA_BYTE_ARRAY, PLAIN
// byte arrays, DELTA_BINARY_PACKED, dictionary indices) write into buffers
// of a package pool of their own over memory.DefaultAllocator, not the
// writer properties' allocator: each grown by doubling and zeroed whole
// when pooled again. From Go's heap every growth was new zeroed memory (the
// largest share of a run's allocation after writerMem), and a collection
// empties the pool. They rely on zeroed memory (DELTA_BINARY_PACKED's last
// miniblocks), so the process default is a recycler that zeroes what Go's
// heap would (TestDefaultAllocatorRecyclesSafely). Nothing else in the
// process leans on memory.GoAllocator's specifics: arrow-go's readers and
// builders given the default Free what they are done with, and reading a
// freed buffer would be a bug with any allocator but Go's heap.
func init() { memory.DefaultAllocator = arrowmem.NewZeroing() }
