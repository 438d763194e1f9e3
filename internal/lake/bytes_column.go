package lake

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// bytesColumn writes one flat BYTE_ARRAY column chunk without a dictionary
// (PLAIN, DELTA_LENGTH_BYTE_ARRAY or DELTA_BYTE_ARRAY) straight from the
// offsets and bytes of Arrow string or binary arrays, into data pages (v1)
// that arrow-go's page writer compresses and frames, and whose statistics
// arrow-go's ByteArrayStatistics encode. It is what arrow-go's column
// writer does for such columns, without its per-value detours: on the
// benchmark table arrow-go spent ~2 of wharf's ~7.4 CPU-seconds on three
// text columns outside zstd (see docs/design-notes.md, "Text columns
// written by wharf").
type bytesColumn struct {
	meta     *metadata.ColumnChunkMetaDataBuilder
	pager    file.PageWriter
	enc      parquet.Encoding
	nullable bool
	pageSize int
	batch    int
	maxStats int
	signed   bool
	stats    *metadata.ByteArrayStatistics // the chunk's; nil without statistics
	page     *metadata.ByteArrayStatistics // the page's, merged into stats

	// The page being built, in buffers the column's writers of later row
	// groups take over.
	*bytesScratch
	nLevels int // levels in the page: its rows
	nNulls  int // of which null
	hasMin  bool

	rows            int64 // rows in flushed pages
	compressedBytes int64
}

// bytesScratch holds a bytesColumn's page buffers.
type bytesScratch struct {
	levels     []byte  // definition levels, one bit each (1 = value), LSB first
	lengths    []int32 // value (DELTA_LENGTH) or suffix (DELTA_BYTE) lengths
	prefix     []int32 // DELTA_BYTE: bytes shared with the previous value
	data       []byte  // PLAIN: length-prefixed values; else values or suffixes
	prev       []byte  // DELTA_BYTE: the page's last value
	prevOwned  []byte  // a copy of it past the array it came from
	min        []byte  // the page's least and greatest value, owned
	max        []byte
	out        []byte       // the page, uncompressed
	compressed bytes.Buffer // the page, compressed
}

// newBytesColumn returns the writer of a column chunk that ownsColumn
// gives to bytesColumn, building pages in scratch's buffers (nil: new
// ones), which it returns for the next row group's column.
func newBytesColumn(meta *metadata.ColumnChunkMetaDataBuilder, pager file.PageWriter, props *parquet.WriterProperties, mem memory.Allocator, scratch *bytesScratch) *bytesColumn {
	if scratch == nil {
		// min and max never nil: arrow-go's statistics take a nil bound
		// for none, and an empty string can be a column's least value.
		scratch = &bytesScratch{min: []byte{}, max: []byte{}}
	}
	descr := meta.Descr()
	path := descr.Path()
	c := &bytesColumn{
		meta:     meta,
		pager:    pager,
		enc:      props.EncodingFor(path),
		nullable: descr.MaxDefinitionLevel() > 0,
		pageSize: int(props.DataPageSize()),
		batch:    int(props.WriteBatchSize()),
		maxStats: int(props.MaxStatsSizeFor(path)),
		signed:   descr.SortOrder() == schema.SortSIGNED,

		bytesScratch: scratch,
	}
	if props.StatisticsEnabledFor(path) && descr.SortOrder() != schema.SortUNKNOWN {
		c.stats = metadata.NewStatistics(descr, mem).(*metadata.ByteArrayStatistics)
		c.page = metadata.NewStatistics(descr, mem).(*metadata.ByteArrayStatistics)
	}
	return c
}

// ownsColumn is true for the columns bytesColumn writes: flat BYTE_ARRAY
// leaves of Arrow string or binary arrays (an extension type's storage
// counts: JSON), without a dictionary, in one of the three encodings,
// in version 1 data pages, with neither page index nor bloom filter.
// arrow-go's column writers write every other column of the file.
func ownsColumn(descr *schema.Column, field arrow.Field, props *parquet.WriterProperties) bool {
	t := field.Type
	if ext, ok := t.(arrow.ExtensionType); ok {
		t = ext.StorageType()
	}
	path := descr.Path()
	switch {
	case t.ID() != arrow.STRING && t.ID() != arrow.BINARY,
		descr.PhysicalType() != parquet.Types.ByteArray,
		descr.MaxRepetitionLevel() != 0, descr.MaxDefinitionLevel() > 1,
		props.DictionaryEnabledFor(path),
		props.DataPageVersion() != parquet.DataPageV1,
		props.PageIndexEnabledFor(path),
		props.BloomFilterEnabledFor(path),
		props.FileEncryptionProperties() != nil:
		return false
	}
	switch props.EncodingFor(path) {
	case parquet.Encodings.Plain, parquet.Encodings.DeltaLengthByteArray, parquet.Encodings.DeltaByteArray:
		return true
	}
	return false
}

// write appends arr's values (a string or binary array, or an extension
// array of one) to the chunk, cutting a page whenever the one being built
// reaches the page size, checked every write batch as arrow-go does.
func (c *bytesColumn) write(arr arrow.Array) error {
	if ext, ok := arr.(array.ExtensionArray); ok {
		arr = ext.Storage()
	}
	var offsets []int32
	switch a := arr.(type) {
	case *array.String:
		offsets = a.ValueOffsets()
	case *array.Binary:
		offsets = a.ValueOffsets()
	default:
		return fmt.Errorf("column %s: %s array, want string or binary", c.meta.Descr().Path(), arr.DataType())
	}
	var values []byte
	if b := arr.Data().Buffers()[2]; b != nil {
		values = b.Bytes()
	}
	if !c.nullable && arr.NullN() > 0 {
		return fmt.Errorf("column %s: %d nulls in a required column", c.meta.Descr().Path(), arr.NullN())
	}
	bitmap, off := arr.NullBitmapBytes(), arr.Data().Offset()
	if arr.NullN() == 0 {
		bitmap = nil
	}
	for i, n := 0, arr.Len(); i < n; {
		j := min(n, i+c.batch)
		c.add(offsets, values, bitmap, off, i, j)
		i = j
		if c.estimatedSize() >= c.pageSize {
			if err := c.flush(); err != nil {
				return err
			}
		}
	}
	// The page's last value outlives arr.
	if c.enc == parquet.Encodings.DeltaByteArray {
		c.prevOwned = append(c.prevOwned[:0], c.prev...)
		c.prev = c.prevOwned
	}
	return nil
}

// add appends rows [i, j) of an array with these offsets (relative to
// the array's first row), value bytes and validity bitmap (nil: no nulls,
// else starting at bit off) to the page.
func (c *bytesColumn) add(offsets []int32, values, bitmap []byte, off, i, j int) {
	if c.nullable {
		need := bitutil.BytesForBits(int64(c.nLevels + j - i))
		for len(c.levels) < int(need) {
			c.levels = append(c.levels, 0)
		}
		if bitmap == nil {
			bitutil.SetBitsTo(c.levels, int64(c.nLevels), int64(j-i), true)
		} else {
			bitutil.CopyBitmap(bitmap, off+i, j-i, c.levels, c.nLevels)
		}
	}
	c.nLevels += j - i
	for k := i; k < j; k++ {
		if bitmap != nil && !bitutil.BitIsSet(bitmap, off+k) {
			c.nNulls++
			continue
		}
		v := values[offsets[k]:offsets[k+1]]
		switch c.enc {
		case parquet.Encodings.Plain:
			c.data = binary.LittleEndian.AppendUint32(c.data, uint32(len(v)))
			c.data = append(c.data, v...)
		case parquet.Encodings.DeltaLengthByteArray:
			c.lengths = append(c.lengths, int32(len(v)))
			c.data = append(c.data, v...)
		default: // DeltaByteArray
			p := commonPrefix(c.prev, v)
			c.prefix = append(c.prefix, int32(p))
			c.lengths = append(c.lengths, int32(len(v)-p))
			c.data = append(c.data, v[p:]...)
			c.prev = v
		}
		if c.stats != nil {
			c.bound(v)
		}
	}
}

// bound widens the page's [min, max] to v, in the byte order Parquet sorts
// BYTE_ARRAY by (unsigned, as bytes.Compare).
func (c *bytesColumn) bound(v []byte) {
	// Most values of a page lie strictly between its bounds by their first
	// byte already.
	if c.hasMin && len(v) > 0 && len(c.min) > 0 && len(c.max) > 0 && v[0] > c.min[0] && v[0] < c.max[0] {
		return
	}
	switch {
	case !c.hasMin:
		c.min = append(c.min[:0], v...)
		c.max = append(c.max[:0], v...)
		c.hasMin = true
	case bytes.Compare(v, c.min) < 0:
		c.min = append(c.min[:0], v...)
	case bytes.Compare(v, c.max) > 0:
		c.max = append(c.max[:0], v...)
	}
}

// commonPrefix is the number of leading bytes a and b share, compared
// eight at a time.
func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for ; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

// estimatedSize is about the page's size so far, before compression:
// its value bytes, about 4 bits a delta-packed length (text of lengths
// that vary by a few bytes; constant lengths take none) and a bit a level.
func (c *bytesColumn) estimatedSize() int {
	return len(c.data) + (len(c.lengths)+len(c.prefix))/2 + c.nLevels/8
}

// flush writes the page being built, if it has rows, through the pager:
// definition levels (a nullable column's, as one RLE run when there is no
// null, else one bit-packed run of the validity bits, after their 4-byte
// length), then the values in the column's encoding.
func (c *bytesColumn) flush() error {
	if c.nLevels == 0 {
		return nil
	}
	out := c.out[:0]
	if c.nullable {
		at := len(out)
		out = append(out, 0, 0, 0, 0)
		if c.nNulls == 0 {
			out = binary.AppendUvarint(out, uint64(c.nLevels)<<1)
			out = append(out, 1)
		} else {
			// Bits past nLevels are zero: flush clears levels.
			groups := (c.nLevels + 7) / 8
			out = binary.AppendUvarint(out, uint64(groups)<<1|1)
			out = append(out, c.levels[:groups]...)
		}
		binary.LittleEndian.PutUint32(out[at:], uint32(len(out)-at-4))
	}
	switch c.enc {
	case parquet.Encodings.DeltaLengthByteArray:
		out = appendDeltaPacked(out, c.lengths)
	case parquet.Encodings.DeltaByteArray:
		out = appendDeltaPacked(out, c.prefix)
		out = appendDeltaPacked(out, c.lengths)
	}
	out = append(out, c.data...)
	c.out = out

	var pageStats metadata.EncodedStatistics
	if c.stats != nil {
		if c.hasMin {
			c.page.SetMinMax(c.min, c.max)
		}
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
	c.lengths, c.prefix, c.data = c.lengths[:0], c.prefix[:0], c.data[:0]
	c.prev = c.prev[:0] // DELTA_BYTE_ARRAY starts over in every page
	c.hasMin = false
	return nil
}

// totalCompressedBytes is the compressed size of the pages written so far.
func (c *bytesColumn) totalCompressedBytes() int64 { return c.compressedBytes }

// close writes the last page, the chunk's statistics and its metadata
// (arrow-go's pager appends the buffered pages to the file).
func (c *bytesColumn) close() error {
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
