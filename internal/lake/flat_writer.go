package lake

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// parquetWriter is what a partFile needs of its Parquet writer:
// pqarrow.FileWriter, or flatWriter for files of flat columns only.
type parquetWriter interface {
	NewBufferedRowGroupChecked() error
	WriteBuffered(rec arrow.RecordBatch) error
	RowGroupTotalCompressedBytes() int64
	Close() error
}

// newParquetWriter returns a flatWriter for a schema of flat columns only
// without page index, bloom filter or encryption (see flatWriterFits),
// else a pqarrow.FileWriter.
func newParquetWriter(schema *arrow.Schema, w io.Writer, props *parquet.WriterProperties, arrowProps pqarrow.ArrowWriterProperties) (parquetWriter, error) {
	// No typed nil in the interface when a constructor fails.
	if flatWriterFits(schema, props) {
		fw, err := newFlatWriter(schema, w, props, arrowProps)
		if err != nil {
			return nil, err
		}
		return fw, nil
	}
	fw, err := pqarrow.NewFileWriter(schema, w, props, arrowProps)
	if err != nil {
		return nil, err
	}
	return fw, nil
}

// flatWriterFits is true when every column of schema is one Parquet leaf
// at the top level (no list, struct, map, union or dictionary; an
// extension type counts as its storage) and the properties ask for
// nothing flatWriter does not write: no page index, bloom filter or
// encryption, for the file or any column.
func flatWriterFits(schema *arrow.Schema, props *parquet.WriterProperties) bool {
	if props.FileEncryptionProperties() != nil {
		return false
	}
	for _, f := range schema.Fields() {
		if props.PageIndexEnabledFor(f.Name) || props.BloomFilterEnabledFor(f.Name) {
			return false
		}
		t := f.Type
		if ext, ok := t.(arrow.ExtensionType); ok {
			t = ext.StorageType()
		}
		if _, nested := t.(arrow.NestedType); nested || t.ID() == arrow.DICTIONARY || t.ID() == arrow.EXTENSION {
			return false
		}
	}
	return true
}

// flatWriter writes records of flat columns into buffered row groups, as
// pqarrow.FileWriter.WriteBuffered does, with arrow-go's file metadata,
// page writers and column writers, but it assembles the row groups itself
// so that each column can be written by one of two writers:
//   - ownColumn (wharf's) for text, binary and integer columns without
//     a dictionary (see newColumnValues), straight from the Arrow
//     buffers;
//   - arrow-go's column writer for every other column, through
//     pqarrow.WriteArrowToColumn with definition levels of its own instead
//     of pqarrow's level builder: a flat column's levels are its validity,
//     and the builder takes two buffers from arrow-go's encoder pool per
//     column per record and gives one back (docs/design-notes.md,
//     "arrow-go's encoder buffer pool leaks"), so the encoders' page
//     buffers regrow by copying.
//
// The file has the schema and key/value metadata pqarrow writes, and the
// same values, statistics and encodings (TestFlatWriterMatchesPqarrow).
type flatWriter struct {
	sink    *countingWriter // where the file is: arrow-go's page writers ask (Tell)
	meta    *metadata.FileMetaDataBuilder
	props   *parquet.WriterProperties
	schema  *arrow.Schema
	ctx     context.Context
	maxRows int64
	rg      *flatRowGroup // nil before the first row group
	groups  int           // row groups started
	levels  [][]int16     // per nullable column, reused
	scratch []*ownScratch // per column: nil for arrow-go's, reused across row groups
	ones    []int16       // all 1: the levels of a column without nulls
	closed  bool
}

// flatRowGroup is the row group being written: per column either
// arrow-go's column writer or an ownColumn.
type flatRowGroup struct {
	meta  *metadata.RowGroupMetaDataBuilder
	arrow []file.ColumnChunkWriter // nil where own is not
	own   []*ownColumn
	rows  int
}

// newFlatWriter starts a file of schema (see flatWriterFits), with the
// key/value metadata pqarrow.NewFileWriter writes.
func newFlatWriter(schema *arrow.Schema, w io.Writer, props *parquet.WriterProperties, arrowProps pqarrow.ArrowWriterProperties) (*flatWriter, error) {
	if !flatWriterFits(schema, props) {
		return nil, fmt.Errorf("flatWriter writes flat columns without page index, bloom filter or encryption")
	}
	pqSchema, err := pqarrow.ToParquet(schema, props, arrowProps)
	if err != nil {
		return nil, err
	}
	meta := make(metadata.KeyValueMetadata, 0)
	md := schema.Metadata()
	for i := 0; i < md.Len(); i++ {
		meta.Append(md.Keys()[i], md.Values()[i])
	}
	// wharf's arrow properties always store the schema (WithStoreSchema),
	// which has no exported accessor: pqarrow stores it normalized, which
	// changes nothing in a flat schema. TestFlatWriterMatchesPqarrow takes
	// the properties from parquetProperties, so it fails if they stop
	// storing it.
	meta.Append("ARROW:schema", base64.StdEncoding.EncodeToString(flight.SerializeSchema(schema, props.Allocator())))
	fw := &flatWriter{
		sink:    &countingWriter{w: w},
		meta:    metadata.NewFileMetadataBuilder(pqSchema, props, meta),
		props:   props,
		schema:  schema,
		ctx:     pqarrow.NewArrowWriteContext(context.Background(), &arrowProps),
		maxRows: props.MaxRowGroupLength(),
		levels:  make([][]int16, schema.NumFields()),
		scratch: make([]*ownScratch, schema.NumFields()),
	}
	// Which writer writes a column is decided once for the file.
	for i := range schema.NumFields() {
		if vals := newColumnValues(pqSchema.Column(i), schema.Field(i), props); vals != nil {
			fw.scratch[i] = &ownScratch{vals: vals}
		}
	}
	if _, err := fw.sink.Write([]byte(parquetMagic)); err != nil {
		return nil, err
	}
	return fw, nil
}

// parquetMagic starts and ends a Parquet file.
const parquetMagic = "PAR1"

// NewBufferedRowGroupChecked closes the current row group and starts another.
func (fw *flatWriter) NewBufferedRowGroupChecked() error {
	if err := fw.closeRowGroup(); err != nil {
		return err
	}
	rg := &flatRowGroup{meta: fw.meta.AppendRowGroup()}
	n := fw.schema.NumFields()
	rg.arrow = make([]file.ColumnChunkWriter, n)
	rg.own = make([]*ownColumn, n)
	for i := range n {
		colMeta := rg.meta.NextColumnChunk()
		path := colMeta.Descr().Path()
		pager, err := file.NewPageWriter(fw.sink, fw.props.CompressionFor(path), fw.props.CompressionLevelFor(path), colMeta,
			int16(fw.groups), int16(i), fw.props.Allocator(), true, nil, nil)
		if err != nil {
			return err
		}
		if fw.scratch[i] != nil {
			rg.own[i] = newOwnColumn(colMeta, pager, fw.props, fw.props.Allocator(), fw.scratch[i])
		} else {
			rg.arrow[i] = file.NewColumnChunkWriter(colMeta, pager, fw.props)
		}
	}
	fw.rg = rg
	fw.groups++
	return nil
}

// closeRowGroup writes the current row group's columns, in order, and its
// metadata.
func (fw *flatWriter) closeRowGroup() error {
	rg := fw.rg
	if rg == nil {
		return nil
	}
	fw.rg = nil
	// Every column is closed, whatever fails, so that none keeps its
	// pooled buffers; the first error is the one returned.
	var first error
	for i := range rg.own {
		var err error
		if rg.own[i] != nil {
			err = rg.own[i].close()
		} else {
			err = rg.arrow[i].Close()
		}
		if first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	rg.meta.SetNumRows(rg.rows)
	return rg.meta.Finish(0, int16(fw.groups-1))
}

// WriteBuffered appends rec to the current row group, starting new ones at
// the properties' MaxRowGroupLength, as pqarrow.FileWriter.WriteBuffered.
func (fw *flatWriter) WriteBuffered(rec arrow.RecordBatch) error {
	if fw.closed {
		return fmt.Errorf("WriteBuffered called on already closed flatWriter")
	}
	if !rec.Schema().Equal(fw.schema) {
		return fmt.Errorf("record schema does not match writer's. \nrecord: %s\nwriter: %s", rec.Schema(), fw.schema)
	}
	if fw.rg == nil {
		if err := fw.NewBufferedRowGroupChecked(); err != nil {
			return err
		}
	}
	n := rec.NumRows()
	for offset, size := int64(0), min(n, fw.maxRows-int64(fw.rg.rows)); ; {
		if err := fw.writeRange(rec, offset, size); err != nil {
			return err
		}
		if offset+size >= n {
			return nil
		}
		if err := fw.NewBufferedRowGroupChecked(); err != nil {
			return err
		}
		offset += size
		size = min(fw.maxRows, n-offset)
	}
}

// writeRange writes rows [offset, offset+size) of rec to the row group.
func (fw *flatWriter) writeRange(rec arrow.RecordBatch, offset, size int64) error {
	if size <= 0 {
		return nil
	}
	for i, col := range rec.Columns() {
		arr := col
		if offset != 0 || size != int64(col.Len()) {
			arr = array.NewSlice(col, offset, offset+size)
		}
		var err error
		if own := fw.rg.own[i]; own != nil {
			err = own.write(arr)
		} else {
			def, nullable := fw.defLevels(i, arr)
			err = pqarrow.WriteArrowToColumn(fw.ctx, fw.rg.arrow[i], arr, def, nil, nullable)
		}
		if arr != col {
			arr.Release()
		}
		if err != nil {
			return err
		}
	}
	fw.rg.rows += int(size)
	return nil
}

// defLevels returns column i's definition levels for arr (nil for a
// required column) and whether its leaf is nullable, as pqarrow's level
// builder has them: 1 where valid, 0 where null, and a nullable column
// without nulls in arr counts as not nullable.
func (fw *flatWriter) defLevels(i int, arr arrow.Array) ([]int16, bool) {
	if !fw.schema.Field(i).Nullable {
		return nil, false
	}
	n := arr.Len()
	nulls := arr.NullN()
	if nulls == 0 {
		// Shared by every column: the column writers only read levels.
		if len(fw.ones) < n {
			fw.ones = make([]int16, n)
			for j := range fw.ones {
				fw.ones[j] = 1
			}
		}
		return fw.ones[:n], false
	}
	if cap(fw.levels[i]) < n {
		fw.levels[i] = make([]int16, n)
	}
	def := fw.levels[i][:n]
	if nulls == n {
		clear(def)
		return def, true
	}
	bitmap, off := arr.NullBitmapBytes(), arr.Data().Offset()
	j := 0
	for ; j < n && (off+j)%8 != 0; j++ {
		def[j] = validLevel(bitmap, off+j)
	}
	for ; j+8 <= n; j += 8 {
		*(*[8]int16)(def[j : j+8]) = byteLevels[bitmap[(off+j)/8]]
	}
	for ; j < n; j++ {
		def[j] = validLevel(bitmap, off+j)
	}
	return def, true
}

// byteLevels are the definition levels of the 8 values of a validity
// bitmap byte, least significant bit first.
var byteLevels = func() (t [256][8]int16) {
	for b := range t {
		for i := range t[b] {
			t[b][i] = int16(b >> i & 1)
		}
	}
	return t
}()

// validLevel is the definition level of bit i of bitmap.
func validLevel(bitmap []byte, i int) int16 {
	if bitutil.BitIsSet(bitmap, i) {
		return 1
	}
	return 0
}

// RowGroupTotalCompressedBytes is the compressed size of the current row
// group so far.
func (fw *flatWriter) RowGroupTotalCompressedBytes() int64 {
	if fw.rg == nil {
		return 0
	}
	var total int64
	for i := range fw.rg.own {
		if fw.rg.own[i] != nil {
			total += fw.rg.own[i].totalCompressedBytes()
		} else {
			total += fw.rg.arrow[i].TotalCompressedBytes()
		}
	}
	return total
}

// Close writes the last row group and the footer (the file's metadata,
// its length and the magic number); later calls do nothing.
func (fw *flatWriter) Close() error {
	if fw.closed {
		return nil
	}
	fw.closed = true
	if err := fw.closeRowGroup(); err != nil {
		return err
	}
	fileMeta, err := fw.meta.Finish()
	if err != nil {
		return err
	}
	n, err := fileMeta.WriteTo(fw.sink, nil)
	if err != nil {
		return err
	}
	footer := binary.LittleEndian.AppendUint32(nil, uint32(n))
	_, err = fw.sink.Write(append(footer, parquetMagic...))
	return err
}
