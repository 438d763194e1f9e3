package lake

import (
	"context"
	"encoding/base64"
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

// newParquetWriter returns a flatWriter for a schema of flat columns only,
// else a pqarrow.FileWriter.
func newParquetWriter(schema *arrow.Schema, w io.Writer, props *parquet.WriterProperties, arrowProps pqarrow.ArrowWriterProperties) (parquetWriter, error) {
	// No typed nil in the interface when a constructor fails.
	if flatSchema(schema) {
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

// flatSchema is true when every column of schema is one Parquet leaf at
// the top level: no list, struct, map, union or dictionary (an extension
// type counts as its storage).
func flatSchema(schema *arrow.Schema) bool {
	for _, f := range schema.Fields() {
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
// pqarrow.FileWriter.WriteBuffered does, but hands each column to
// pqarrow.WriteArrowToColumn with definition levels of its own instead of
// pqarrow's level builder: a flat column's levels are its validity, and the
// builder takes two buffers from arrow-go's encoder pool per column per
// record and gives one back (docs/design-notes.md, "arrow-go's encoder
// buffer pool leaks"), so the encoders' page buffers regrow by copying.
// The file is the same: same schema, metadata, pages.
type flatWriter struct {
	wr      *file.Writer
	schema  *arrow.Schema
	rgw     file.BufferedRowGroupWriter
	ctx     context.Context
	maxRows int64
	levels  [][]int16 // per nullable column, reused
	ones    []int16   // all 1: the levels of a column without nulls
	closed  bool
}

// newFlatWriter starts a file of schema (flat, see flatSchema), with the
// key/value metadata pqarrow.NewFileWriter writes.
func newFlatWriter(schema *arrow.Schema, w io.Writer, props *parquet.WriterProperties, arrowProps pqarrow.ArrowWriterProperties) (*flatWriter, error) {
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
	wr, err := file.NewParquetWriterWithError(w, pqSchema.Root(), file.WithWriterProps(props), file.WithWriteMetadata(meta))
	if err != nil {
		return nil, err
	}
	fw := &flatWriter{
		wr:      wr,
		schema:  schema,
		ctx:     pqarrow.NewArrowWriteContext(context.Background(), &arrowProps),
		maxRows: props.MaxRowGroupLength(),
		levels:  make([][]int16, schema.NumFields()),
	}
	return fw, nil
}

// NewBufferedRowGroupChecked closes the current row group and starts another.
func (fw *flatWriter) NewBufferedRowGroupChecked() error {
	if fw.rgw != nil {
		if err := fw.rgw.Close(); err != nil {
			return err
		}
	}
	rgw, err := fw.wr.AppendBufferedRowGroupChecked()
	if err != nil {
		return err
	}
	fw.rgw = rgw
	return nil
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
	var cur int
	if fw.rgw != nil {
		var err error
		if cur, err = fw.rgw.NumRows(); err != nil {
			return err
		}
	} else if err := fw.NewBufferedRowGroupChecked(); err != nil {
		return err
	}
	n := rec.NumRows()
	for offset, size := int64(0), min(n, fw.maxRows-int64(cur)); ; {
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
		cw, err := fw.rgw.Column(i)
		if err != nil {
			return err
		}
		arr := col
		if offset != 0 || size != int64(col.Len()) {
			arr = array.NewSlice(col, offset, offset+size)
		}
		def, nullable := fw.defLevels(i, arr)
		err = pqarrow.WriteArrowToColumn(fw.ctx, cw, arr, def, nil, nullable)
		if arr != col {
			arr.Release()
		}
		if err != nil {
			return err
		}
	}
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
	if fw.rgw != nil {
		return fw.rgw.TotalCompressedBytes()
	}
	return 0
}

// Close writes the last row group and the footer; later calls do nothing.
func (fw *flatWriter) Close() error {
	if fw.closed {
		return nil
	}
	fw.closed = true
	if fw.rgw != nil {
		if err := fw.rgw.Close(); err != nil {
			return err
		}
	}
	return fw.wr.Close()
}
