package lake

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// ownColumn writes one flat column chunk without a dictionary straight
// from Arrow arrays, into data pages (v1) that arrow-go's page writer
// compresses and frames, with statistics arrow-go's statistics types
// encode. It is what arrow-go's column writer does for such columns,
// without its per-value detours: on the benchmark table arrow-go spent
// ~2 of wharf's ~7.4 CPU-seconds on three text columns outside zstd (see
// docs/design-notes.md, "Columns written by wharf"). ownColumn keeps the
// page (definition levels, cutting, statistics, framing); its
// columnValues, one per kind of column, encode the values:
//   - bytesValues: text and binary (also JSON) in PLAIN,
//     DELTA_LENGTH_BYTE_ARRAY or DELTA_BYTE_ARRAY;
//   - fixedValues: fixed-size binary (UUIDs) in PLAIN;
//   - intValues: integers, dates, times, timestamps and decimals stored
//     as INT32 or INT64, in DELTA_BINARY_PACKED.
type ownColumn struct {
	meta     *metadata.ColumnChunkMetaDataBuilder
	pager    file.PageWriter
	enc      parquet.Encoding
	nullable bool
	pageSize int
	batch    int
	maxStats int
	signed   bool
	stats    metadata.TypedStatistics // the chunk's; nil without statistics
	page     metadata.TypedStatistics // the page's, merged into stats

	// The page being built, in buffers the column's writers of later row
	// groups take over.
	*ownScratch
	nLevels int // levels in the page: its rows
	nNulls  int // of which null

	rows            int64 // rows in flushed pages
	compressedBytes int64
}

// ownScratch holds an ownColumn's page buffers and values.
type ownScratch struct {
	vals       columnValues
	levels     []byte       // definition levels, one bit each (1 = value), LSB first
	out        []byte       // the page, uncompressed
	compressed bytes.Buffer // the page, compressed
}

// columnValues is the part of an ownColumn that knows its values.
type columnValues interface {
	// load takes arr (of the column's Arrow type) as the array that add
	// reads from.
	load(arr arrow.Array) error
	// add appends to the page the values of rows [i, j) of the loaded
	// array that are not null (bitmap, from bit off: nil when none is).
	add(bitmap []byte, off, i, j int)
	// unload is called once the array is written: what the page keeps of
	// it must outlive it.
	unload()
	// size is about the page's encoded values so far.
	size() int
	// appendTo appends the page's encoded values to dst.
	appendTo(dst []byte) []byte
	// bound sets the page's least and greatest value on stats, if the
	// page has values.
	bound(stats metadata.TypedStatistics)
	// reset empties the page, letting go of buffers over keep bytes.
	reset(keep int)
}

// newColumnValues returns the values of a column ownColumn writes, or
// nil for a column arrow-go's column writer writes: ownColumn takes flat
// leaves (required or optional) without a dictionary, in version 1 data
// pages, of the kinds of values it has (see bytesValuesFor,
// fixedValuesFor and intValuesFor). flatWriter, its only user, writes no
// page index, bloom filter or encryption (see flatWriterFits).
func newColumnValues(descr *schema.Column, field arrow.Field, props *parquet.WriterProperties) columnValues {
	path := descr.Path()
	switch {
	case descr.MaxRepetitionLevel() != 0, descr.MaxDefinitionLevel() > 1,
		props.DictionaryEnabledFor(path),
		props.DataPageVersion() != parquet.DataPageV1:
		return nil
	}
	t := field.Type
	if ext, ok := t.(arrow.ExtensionType); ok {
		t = ext.StorageType()
	}
	stats := statsKept(descr, props)
	if v := bytesValuesFor(descr, t, props.EncodingFor(path), stats); v != nil {
		return v
	}
	if v := fixedValuesFor(descr, t, props.EncodingFor(path), stats); v != nil {
		return v
	}
	if props.EncodingFor(path) == parquet.Encodings.DeltaBinaryPacked {
		return intValuesFor(descr, t, stats)
	}
	return nil
}

// newOwnColumn returns the writer of a column chunk whose values
// newColumnValues gave, in scratch.
func newOwnColumn(meta *metadata.ColumnChunkMetaDataBuilder, pager file.PageWriter, props *parquet.WriterProperties, mem memory.Allocator, scratch *ownScratch) *ownColumn {
	descr := meta.Descr()
	path := descr.Path()
	c := &ownColumn{
		meta:     meta,
		pager:    pager,
		enc:      props.EncodingFor(path),
		nullable: descr.MaxDefinitionLevel() > 0,
		pageSize: int(props.DataPageSize()),
		batch:    max(1, int(props.WriteBatchSize())),
		maxStats: int(props.MaxStatsSizeFor(path)),
		signed:   descr.SortOrder() == schema.SortSIGNED,

		ownScratch: scratch,
	}
	if statsKept(descr, props) {
		c.stats = metadata.NewStatistics(descr, mem)
		c.page = metadata.NewStatistics(descr, mem)
	}
	return c
}

// write appends arr's values (an array of the column's Arrow type) to the
// chunk, cutting a page whenever the one being built reaches the page
// size, checked every write batch as arrow-go does.
func (c *ownColumn) write(arr arrow.Array) error {
	if ext, ok := arr.(array.ExtensionArray); ok {
		arr = ext.Storage()
	}
	if !c.nullable && arr.NullN() > 0 {
		return fmt.Errorf("column %s: %d nulls in a required column", c.meta.Descr().Path(), arr.NullN())
	}
	if err := c.vals.load(arr); err != nil {
		return fmt.Errorf("column %s: %w", c.meta.Descr().Path(), err)
	}
	defer c.vals.unload()
	bitmap, off := arr.NullBitmapBytes(), arr.Data().Offset()
	if arr.NullN() == 0 {
		bitmap = nil
	}
	for i, n := 0, arr.Len(); i < n; {
		j := min(n, i+c.batch)
		c.addLevels(bitmap, off, i, j)
		c.vals.add(bitmap, off, i, j)
		i = j
		if c.vals.size() >= c.pageSize {
			if err := c.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// addLevels appends the definition levels of rows [i, j) and counts
// their nulls.
func (c *ownColumn) addLevels(bitmap []byte, off, i, j int) {
	if c.nullable {
		need := int(bitutil.BytesForBits(int64(c.nLevels + j - i)))
		for len(c.levels) < need {
			c.levels = append(c.levels, 0)
		}
		if bitmap == nil {
			bitutil.SetBitsTo(c.levels, int64(c.nLevels), int64(j-i), true)
		} else {
			bitutil.CopyBitmap(bitmap, off+i, j-i, c.levels, c.nLevels)
			c.nNulls += j - i - bitutil.CountSetBits(bitmap, off+i, j-i)
		}
	}
	c.nLevels += j - i
}

// flush writes the page being built, if it has rows, through the pager:
// definition levels (a nullable column's, after their 4-byte length),
// then the values in the column's encoding.
func (c *ownColumn) flush() error {
	if c.nLevels == 0 {
		return nil
	}
	out := c.out[:0]
	if c.nullable {
		at := len(out)
		out = append(out, 0, 0, 0, 0)
		out = appendDefLevels(out, c.levels, c.nLevels)
		binary.LittleEndian.PutUint32(out[at:], uint32(len(out)-at-4))
	}
	out = c.vals.appendTo(out)
	c.out = out
	if len(out) > math.MaxInt32 {
		return fmt.Errorf("column %s: a page of %d bytes: Parquet pages hold up to 2 GiB", c.meta.Descr().Path(), len(out))
	}

	var pageStats metadata.EncodedStatistics
	if c.stats != nil {
		c.vals.bound(c.page)
		c.page.IncNulls(int64(c.nNulls))
		c.page.IncNumValues(int64(c.nLevels - c.nNulls))
		var err error
		if pageStats, err = c.page.Encode(); err != nil {
			return err
		}
		pageStats.ApplyStatSizeLimits(c.maxStats)
		pageStats.Signed = c.signed
		c.stats.Merge(c.page)
		c.page.Reset()
	}

	data := out
	if c.pager.HasCompressor() {
		c.compressed.Reset()
		data = c.pager.Compress(&c.compressed, out)
	}
	page := file.NewDataPageV1WithConfig(memory.NewBufferBytes(data), parquet.Encodings.RLE, parquet.Encodings.RLE, file.DataPageConfig{
		Num:              int32(c.nLevels),
		Encoding:         c.enc,
		UncompressedSize: int32(len(out)),
		Stats:            pageStats,
		FirstRowIndex:    c.rows,
	})
	defer page.Release()
	if _, err := c.pager.WriteDataPage(page); err != nil {
		return err
	}
	c.compressedBytes += int64(len(data))
	c.rows += int64(c.nLevels)

	clear(c.levels)
	c.levels = c.levels[:0]
	c.nLevels, c.nNulls = 0, 0
	// The buffers stay for the next page and row group, but not those a
	// page of huge values made huge.
	keep := 4 * c.pageSize
	c.vals.reset(keep)
	if cap(c.out) > keep {
		c.out = nil
	}
	if c.compressed.Cap() > keep {
		c.compressed = bytes.Buffer{}
	}
	return nil
}

// appendDefLevels appends the definition levels of a page of n rows
// (levels: one bit each, 1 = value, bits past n zero) as the RLE/bit-packed
// hybrid at bit width 1 (Encodings.md): a run of 64 or more equal levels
// that starts on a byte (NULLs in a row, values in a row: the whole page
// of a column without NULLs) as an RLE run, the rest bit-packed, 8 levels
// a byte, the last byte padded with zeros.
func appendDefLevels(dst, levels []byte, n int) []byte {
	const minRun = 64
	full, rem := n/8, n%8
	packed := 0     // the first byte not yet written
	tail := rem > 0 // the last, partial byte is still to write
	for i := 0; i < full; {
		b := levels[i]
		j := i + 1
		if b == 0 || b == 0xff {
			for j < full && levels[j] == b {
				j++
			}
		}
		count := (j - i) * 8
		withTail := j == full && rem > 0 && levels[full] == b&(1<<rem-1)
		if withTail {
			count += rem
		}
		if (b == 0 || b == 0xff) && count >= minRun {
			dst = appendBitPackedRun(dst, levels[packed:i])
			dst = binary.AppendUvarint(dst, uint64(count)<<1)
			dst = append(dst, b&1)
			packed = j
			tail = tail && !withTail
		}
		i = j
	}
	end := full
	if tail {
		end++
	}
	return appendBitPackedRun(dst, levels[packed:end])
}

// appendBitPackedRun appends groups (one byte: 8 levels of one bit) as a
// bit-packed run of the hybrid: its header, then the bytes.
func appendBitPackedRun(dst, groups []byte) []byte {
	if len(groups) == 0 {
		return dst
	}
	dst = binary.AppendUvarint(dst, uint64(len(groups))<<1|1)
	return append(dst, groups...)
}

// totalCompressedBytes is the compressed size of the pages written so far.
func (c *ownColumn) totalCompressedBytes() int64 { return c.compressedBytes }

// close writes the last page, the chunk's statistics and its metadata
// (arrow-go's pager appends the buffered pages to the file).
func (c *ownColumn) close() error {
	if err := c.flush(); err != nil {
		return err
	}
	if c.stats != nil {
		enc, err := c.stats.Encode()
		if err != nil {
			return err
		}
		enc.ApplyStatSizeLimits(c.maxStats)
		enc.Signed = c.signed
		if c.rows > 0 && enc.IsSet() {
			c.meta.SetStats(enc)
		}
	}
	return c.pager.Close(false, false)
}

// statsKept is whether a column chunk has statistics: arrow-go keeps none
// for a column whose sort order is unknown.
func statsKept(descr *schema.Column, props *parquet.WriterProperties) bool {
	return props.StatisticsEnabledFor(descr.Path()) && descr.SortOrder() != schema.SortUNKNOWN
}
