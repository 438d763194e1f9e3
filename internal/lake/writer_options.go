package lake

import (
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// WriterOptions tune a RunWriter. The zero value means every default.
type WriterOptions struct {
	// Compression is the Parquet codec: zstd (default), snappy, gzip, lz4
	// (written as LZ4_RAW) or none.
	Compression string
	// RowGroupRows caps the rows of a row group (default 262,144).
	RowGroupRows int
	// RowGroupBytes starts a new row group once the current one holds about
	// this many compressed bytes in memory (default 64 MiB), so that wide
	// rows keep memory bounded too: a row group is held whole until it is
	// written, once per stream.
	RowGroupBytes int64
	// FileBytes rolls to a new file once the current one reaches about this
	// size: bytes already written to the object plus the compressed bytes of
	// the row group being built (default 256 MiB).
	FileBytes int64
	// PartBytes is the part size of an object store's multipart upload
	// (GCS: the resumable upload chunk; Azure: the block size). A part is
	// sent while the next is filled: memory per open file is bounded by
	// (UploadConcurrency+1) * PartBytes whatever the file size. Default
	// 8 MiB; S3 needs at least 5 MiB and at most 10,000 parts per object.
	PartBytes int64
	// UploadConcurrency is how many parts of one object are sent at once
	// (default 2).
	UploadConcurrency int
	// MaxOpenFiles caps the files open at once when a Partitioner spreads a
	// run over many directories (default 64). Each open file buffers up to
	// one row group in memory. Rows of other partitions are held in memory
	// (see BufferBytes) until their partition gets a file or the run closes.
	MaxOpenFiles int
	// BufferBytes caps the records kept for rows of partitions without an
	// open file (their Arrow buffers, default 64 MiB; a record is kept
	// whole while any of its rows wait). Beyond it the partitions waiting
	// longest (with rows in the oldest record kept) are written, each
	// closing the least recently written open file, until half of it is
	// kept; a partition whose file was closed continues in a new file. So
	// a run over more partitions than MaxOpenFiles, in any row order,
	// writes one file per partition when what it keeps stays under
	// BufferBytes, and otherwise about one per BufferBytes of records read
	// (records with rows of most partitions: writing the oldest one's
	// partitions lets go of nearly all), not one per row.
	BufferBytes int64
}

// dataPageSize is the size at which a column's data page is cut (arrow-go's
// default is 1 MiB). Each column of each open file keeps about three buffers
// of a page (values being encoded, the page before and after compression),
// so page size times columns is memory per stream: with 512 KiB (and
// zstdWindow) peak RSS on the 5M-row benchmark table fell from 582 to 485 MB
// at parallel: 4 and 255 to 218 MB at 1, for a file 0.3% larger and no CPU
// change measurable (docs/design-notes.md, "Page and row-group sizes").
// 256 KiB saved more memory, but see WithBatchSize below.
const dataPageSize = 512 << 10

// writeBatch is how many values arrow-go's column writers take at a time
// (WithBatchSize in parquetProperties says why a 64th of a page).
const writeBatch = dataPageSize / 64

// Defaults of WriterOptions.
const (
	DefaultCompression   = "zstd"
	DefaultRowGroupRows  = 262144
	DefaultRowGroupBytes = 64 << 20
	DefaultFileBytes     = 256 << 20
	DefaultMaxOpenFiles  = 64
	DefaultBufferBytes   = 64 << 20

	DefaultPartBytes         = 8 << 20
	MinPartBytes             = 5 << 20
	DefaultUploadConcurrency = 2
)

var codecs = map[string]compress.Compression{
	"zstd":   compress.Codecs.Zstd,
	"snappy": compress.Codecs.Snappy,
	"gzip":   compress.Codecs.Gzip,
	"lz4":    compress.Codecs.Lz4Raw,
	"none":   compress.Codecs.Uncompressed,
}

// WithDefaults returns o with zero fields set to their defaults.
func (o WriterOptions) WithDefaults() WriterOptions {
	if o.Compression == "" {
		o.Compression = DefaultCompression
	}
	if o.RowGroupRows == 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	if o.RowGroupBytes == 0 {
		o.RowGroupBytes = DefaultRowGroupBytes
	}
	if o.FileBytes == 0 {
		o.FileBytes = DefaultFileBytes
	}
	if o.MaxOpenFiles == 0 {
		o.MaxOpenFiles = DefaultMaxOpenFiles
	}
	if o.BufferBytes == 0 {
		o.BufferBytes = DefaultBufferBytes
	}
	if o.PartBytes == 0 {
		o.PartBytes = DefaultPartBytes
	}
	if o.UploadConcurrency == 0 {
		o.UploadConcurrency = DefaultUploadConcurrency
	}
	return o
}

// Validate checks options that already have their defaults. Every error
// names the field at fault.
func (o WriterOptions) Validate() error {
	if _, ok := codecs[strings.ToLower(o.Compression)]; !ok {
		return fmt.Errorf("compression %q: want zstd, snappy, gzip, lz4 or none", o.Compression)
	}
	if o.RowGroupRows < 1 {
		return fmt.Errorf("row group rows %d: must be positive", o.RowGroupRows)
	}
	if o.RowGroupBytes < 1 {
		return fmt.Errorf("row group bytes %d: must be positive", o.RowGroupBytes)
	}
	if o.FileBytes < 1 {
		return fmt.Errorf("file bytes %d: must be positive", o.FileBytes)
	}
	if o.MaxOpenFiles < 1 {
		return fmt.Errorf("max open files %d: must be positive", o.MaxOpenFiles)
	}
	if o.BufferBytes < 1 {
		return fmt.Errorf("buffer bytes %d: must be positive", o.BufferBytes)
	}
	if o.PartBytes < MinPartBytes {
		return fmt.Errorf("part bytes %d: must be at least %d (5 MiB, the S3 minimum)", o.PartBytes, MinPartBytes)
	}
	if o.UploadConcurrency < 1 {
		return fmt.Errorf("upload concurrency %d: must be positive", o.UploadConcurrency)
	}
	return nil
}

// parquetProperties builds the Parquet and pqarrow writer properties for
// files of schema whose first record is first (nil: no data yet, as when
// NewRunWriter checks that schema can be written). o must be valid.
//
// Dictionary encoding: each column (but UUID, JSON and bytes, see
// dictionaryCandidate) starts with a dictionary and drops it, before its
// first data page, when dictionary plus indices are not smaller than the
// plain values: the cost-based fallback, which arrow-go only runs for
// uncompressed columns unless asked. Low-cardinality columns keep the
// dictionary; high-cardinality ones lose it. BenchmarkWriteParquet (1M rows,
// 12 mixed columns, zstd, 2 shared cores) measured, input MB/s and output:
//
//	dictionary on everywhere (arrow-go default)    ~100 MB/s   61.7 MB
//	on for fixed-width types, off for the rest     ~125 MB/s   59.8 MB
//	off everywhere                                 ~170 MB/s   56.3 MB
//	cost fallback, off for UUID/JSON/bytes         ~170 MB/s   55.5 MB
//	the same, checked on batches of 8,192 values   same speed  54.6 MB (chosen)
//
// arrow-go falls back to PLAIN, which for text puts a 4-byte length before
// every value; text columns that the same check, run on the file's first
// record, says would lose their dictionary are written DELTA_BYTE_ARRAY
// instead (see dictionaryLoses), or DELTA_LENGTH_BYTE_ARRAY where
// neighbouring values share no prefix (see prefixesShared). Decimals of up to 18 digits are stored as
// INT32 or INT64 (the Parquet and Iceberg specs' preferred form; readers get
// the same decimal type), those of 10 to 18 digits delta-packed like other
// 64-bit integers (see deltaEncoded); 32-bit columns are delta-packed when
// their first record says that takes no more bits than the dictionary
// (see deltaBeatsDictionary). Column statistics are kept but for
// JSON (see minMaxUseful).
func (o WriterOptions) parquetProperties(schema *arrow.Schema, first arrow.RecordBatch, mem memory.Allocator) (*parquet.WriterProperties, pqarrow.ArrowWriterProperties, error) {
	arrowProps := pqarrow.NewArrowWriterProperties(
		pqarrow.WithAllocator(mem),
		pqarrow.WithStoreSchema(), // keeps extension types and time zones on read
	)
	props := []parquet.WriterProperty{
		parquet.WithAllocator(mem),
		parquet.WithCompression(codecs[strings.ToLower(o.Compression)]),
		// Level 1 (zstd "fastest"): on the mixed 5M-row benchmark it halves
		// zstd's CPU against the default level for a file within 1% of the size,
		// which keeps one stream at the raw COPY rate on 2 cores.
		parquet.WithCompressionLevel(1),
		parquet.WithMaxRowGroupLength(int64(o.RowGroupRows)),
		parquet.WithDictionaryDefault(true),
		// The cost check runs after every batch until the first page is
		// cut: 1,024 values (the default) is too few to judge a column of
		// a thousand distinct values, which the dictionary still shrinks.
		// But a batch that fills a page cuts it before the check, and the
		// dictionary then stays until it reaches its size limit: a batch
		// of values up to 64 bytes fits in a page, and longer values lose
		// their dictionary at a page's worth, as arrow-go's defaults have
		// it (limit = page size). (256 KiB pages with batches of 4,096
		// judged a date column of 3,650 values too early: +1.8% file.)
		parquet.WithBatchSize(writeBatch),
		parquet.WithDataPageSize(dataPageSize),
		parquet.WithDictionaryPageSizeLimit(dataPageSize),
	}
	props = append(props, storageProperties...)

	// The leaf column paths come from the Parquet schema.
	pqSchema, err := pqarrow.ToParquet(schema, parquet.NewWriterProperties(props...), arrowProps)
	if err != nil {
		return nil, arrowProps, err
	}
	for i := 0; i < pqSchema.NumColumns(); i++ {
		path := pqSchema.Column(i).Path()
		props = append(props, parquet.WithDictionaryCostFallbackFor(path, true))
	}
	for i, f := range schema.Fields() {
		switch {
		case deltaEncoded(f.Type), first != nil && deltaBeatsDictionary(first.Column(i)):
			props = append(props, parquet.WithDictionaryFor(f.Name, false),
				parquet.WithEncodingFor(f.Name, parquet.Encodings.DeltaBinaryPacked))
		case !dictionaryCandidate(f.Type):
			props = append(props, parquet.WithDictionaryFor(f.Name, false))
		case first != nil && dictionaryLoses(first.Column(i)):
			enc := parquet.Encodings.DeltaLengthByteArray
			if prefixesShared(first.Column(i)) {
				enc = parquet.Encodings.DeltaByteArray
			}
			props = append(props, parquet.WithDictionaryFor(f.Name, false), parquet.WithEncodingFor(f.Name, enc))
		}
		if !minMaxUseful(f.Type) {
			props = append(props, parquet.WithStatsFor(f.Name, false))
		}
	}
	return parquet.NewWriterProperties(props...), arrowProps, nil
}

// storageProperties are the writer properties that decide a column's
// physical type in the files (not its encoding): the files' writer and
// SchemaSummary, which tells manifest readers how the files store each
// column, both take them from here.
var storageProperties = []parquet.WriterProperty{
	parquet.WithStoreDecimalAsInteger(true), // decimals of up to 18 digits: INT32/INT64
}

// deltaEncoded is true for 64-bit integers, timestamps and times, and
// decimals stored as INT64 (10 to 18 digits): they are
// written DELTA_BINARY_PACKED instead of dictionary-or-plain. Keys and event
// times mostly grow row by row, so their deltas pack into a few bits and zstd
// is left almost nothing to do; values in no order pack no worse than plain.
// On the 1M-row benchmark table (ids, two timestamp columns) this took zstd's
// input from 131 to 107 MB and the file from 48.7 to 42.5 MB (see
// docs/design-notes.md). It is a standard Parquet encoding that arrow-go,
// arrow-rs, parquet-java (Spark, Trino), pyarrow and DuckDB read.
// A 64-bit column of few distinct values loses its dictionary; its deltas
// are as few bits wide as the dictionary indices would be. A numeric(12,2)
// of random amounts packed to 26 bits a value: 16% smaller than the 6-byte
// FIXED_LEN_BYTE_ARRAY it replaced, after zstd.
func deltaEncoded(t arrow.DataType) bool {
	physical, ok := integerStorage(t)
	return ok && physical == parquet.Types.Int64
}

// deltaBeatsDictionary is true for a column stored as 32-bit integers
// (int8/16/32, dates, 32-bit times, decimals of up to 9 digits) whose first
// dictionarySample values would take no more bits a value delta-packed than
// as dictionary indices (or as PLAIN values, where the dictionary would
// lose): such a column is written DELTA_BINARY_PACKED, as 64-bit integers
// always are (see deltaEncoded). A serial int4 key or a date that steps by
// days packs into a bit or two a value where a dictionary takes 10 to 16
// bits, or PLAIN 32; a column of few values in no order (a status code, a
// random quantity) keeps its dictionary. Delta packing also costs about a
// third of the dictionary's hashing: on the benchmark table (an int4 and a
// date, both cycling) the two columns went from 57 to 17 ns a row and from
// 133 KB to 3.6 KB per million rows.
func deltaBeatsDictionary(col arrow.Array) bool {
	vals := int32Sample(col, dictionarySample)
	if len(vals) < 2 {
		return false
	}
	seen := make(map[int32]struct{}, 256)
	for _, v := range vals {
		seen[v] = struct{}{}
	}
	n := len(vals)
	if costCheckDrops(n, len(seen), 4*n, 4*len(seen)) {
		// The dictionary would be dropped: PLAIN, 32 bits.
		return deltaBits(vals) <= 32
	}
	indexBits := bits.Len(uint(len(seen) - 1))
	// Half a bit for what the estimates leave out: the dictionary page
	// (4 bytes a distinct value, per row group) and the indices' run
	// headers; a constant column, 0-bit indices against 0.3 bits of block
	// headers, is delta-packed.
	return deltaBits(vals) <= float64(indexBits)+0.5
}

// deltaBits estimates the bits a value DELTA_BINARY_PACKED takes for vals
// (the Parquet spec's layout, as arrow-go writes it): blocks of 128 deltas,
// each with its minimum delta (a zigzag varint) and a byte of bit width for
// each of its four miniblocks of 32 deltas, which are packed at the width of
// their largest delta less the block's minimum. Deltas wrap in 32 bits, as
// the spec has them, so no miniblock is wider than 32 bits.
func deltaBits(vals []int32) float64 {
	const block, miniblock = 128, 32
	delta := func(i int) int64 { return int64(vals[i] - vals[i-1]) }
	total := 0
	for b := 1; b < len(vals); b += block {
		end := min(b+block, len(vals))
		minDelta := int64(math.MaxInt64)
		for i := b; i < end; i++ {
			minDelta = min(minDelta, delta(i))
		}
		zigzag := uint64(minDelta<<1) ^ uint64(minDelta>>63)
		total += 8*(bits.Len64(zigzag)/7+1) + 8*block/miniblock
		for m := b; m < end; m += miniblock {
			var widest uint64
			for i := m; i < min(m+miniblock, end); i++ {
				widest = max(widest, uint64(delta(i)-minDelta))
			}
			total += bits.Len64(widest) * miniblock
		}
	}
	return float64(total) / float64(len(vals))
}

// int32Sample returns up to n non-null values of col as Parquet stores them
// in an INT32 column (integerStorage), or nil for a column of another
// physical type or a decimal that does not fit its precision.
func int32Sample(col arrow.Array, n int) []int32 {
	if physical, ok := integerStorage(col.DataType()); !ok || physical != parquet.Types.Int32 {
		return nil
	}
	v := newIntValues[int32](col.DataType(), false)
	if err := v.load(col); err != nil {
		return nil
	}
	vals := make([]int32, 0, min(n, col.Len()))
	for i := 0; i < col.Len() && len(vals) < n; i++ {
		if col.IsValid(i) {
			vals = append(vals, v.src[i])
		}
	}
	return vals
}

// dictionarySample is how many values of a file's first record
// dictionaryLoses looks at: one write batch, the values arrow-go's own cost
// check first judges a column on.
const dictionarySample = writeBatch

// dictionaryLoses is true for a text column whose first dictionarySample
// values would not be smaller as dictionary plus indices than as plain
// values: arrow-go's cost check (which would drop the dictionary there and
// write PLAIN), run before the file is started so that the column is
// written DELTA_BYTE_ARRAY instead. PLAIN puts a 4-byte length before each
// value, and zstd then finds a short false match at almost every value:
// 32-character hex values cost zstd 64 instructions a byte, against 20 once
// the lengths are packed apart. On the benchmark table (200k rows) its two
// high-cardinality text columns took 280 M fewer instructions (12% of
// wharf's per-row work) for a 2.5% smaller file. A column that keeps its
// dictionary here still gets arrow-go's check in every row group.
func dictionaryLoses(col arrow.Array) bool {
	value := textValue(col)
	if value == nil {
		return false
	}
	seen := make(map[string]struct{}, 256)
	plain, dict, n := 0, 0, 0
	for i := 0; i < col.Len() && n < dictionarySample; i++ {
		if col.IsNull(i) {
			continue
		}
		v := value(i)
		n++
		plain += 4 + len(v)
		if _, ok := seen[v]; !ok {
			seen[v] = struct{}{}
			dict += 4 + len(v)
		}
	}
	return n > 0 && costCheckDrops(n, len(seen), plain, dict)
}

// costCheckDrops is arrow-go's dictionary cost check on a sample of n values
// taking plain bytes PLAIN, distinct of them dict bytes in the dictionary
// page: the dictionary is dropped when the page and the bit-packed indices
// are not smaller than the plain values.
func costCheckDrops(n, distinct, plain, dict int) bool {
	return dict+(n*bits.Len(uint(distinct-1))+7)/8 >= plain
}

// prefixesShared is true for a text column whose first dictionarySample
// values share at least a byte a value on average with the value before
// them: DELTA_BYTE_ARRAY then stores only what follows the shared prefix
// ("customer 1", "customer 2", ...: 10 bytes of 11 are shared). Values that
// share nothing (hashes, random tokens) are written DELTA_LENGTH_BYTE_ARRAY,
// the same lengths-apart layout without the prefix lengths to compute and
// store: the benchmark's `note` (md5 hex, 1M rows written alone on one
// core, 15 interleaved runs each) 145 -> 128 ns a row at best, 204 -> 182 at
// the median, and 13.11 -> 12.84 MB.
func prefixesShared(col arrow.Array) bool {
	value := textValue(col)
	if value == nil {
		return false
	}
	shared, n, prev := 0, 0, ""
	for i := 0; i < col.Len() && n < dictionarySample; i++ {
		if col.IsNull(i) {
			continue
		}
		v := value(i)
		k := 0
		for k < len(v) && k < len(prev) && v[k] == prev[k] {
			k++
		}
		shared += k
		prev = v
		n++
	}
	return shared >= n
}

// textValue returns the value accessor of a text column, nil for another.
func textValue(col arrow.Array) func(int) string {
	switch c := col.(type) {
	case *array.String:
		return c.Value
	case *array.LargeString:
		return c.Value
	}
	return nil
}

// minMaxUseful is false for JSON: readers prune row groups and pages on the
// minimum and maximum of a column they filter on, and the text order of JSON
// documents says nothing to a filter on their content. The statistics of a
// text column cost about 200 instructions a value (the benchmark's JSON
// column: 43 M of 200k rows, 1.8% of wharf's per-row work). Every other
// column keeps them, UUIDs included (equality filters, and time-ordered
// UUIDs prune well; Iceberg records their bounds).
func minMaxUseful(t arrow.DataType) bool {
	_, isJSON := t.(*extensions.JSONType)
	return !isJSON
}

// dictionaryCandidate is false for types whose values are almost never
// repeated (UUIDs, JSON documents, raw bytes): their dictionary would be
// built only to be dropped, at one allocation per value.
func dictionaryCandidate(t arrow.DataType) bool {
	switch t.(type) {
	case *extensions.UUIDType, *extensions.JSONType:
		return false
	}
	switch t.ID() {
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
		return false
	}
	return true
}
