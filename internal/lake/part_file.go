package lake

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"gocloud.dev/blob"
)

// parquetContentType is the IANA media type of Parquet files.
const parquetContentType = "application/vnd.apache.parquet"

// uploadBuffer batches pqarrow's many small writes (page headers, pages)
// before they reach the object writer.
const uploadBuffer = 1 << 20

// partFile is one Parquet object being written: pqarrow encodes into a
// counting writer, through a buffer, into the blob writer, as it goes.
type partFile struct {
	key     string
	dir     string
	cancel  context.CancelFunc // aborts the upload when called before close
	obj     *blob.Writer
	buf     *bufio.Writer
	count   countingWriter
	pq      *pqarrow.FileWriter
	rows    int64
	lastUse uint64
	// newRowGroup asks for a fresh row group before the next write: the
	// current one reached RowGroupBytes. Starting it lazily avoids an empty
	// trailing row group.
	newRowGroup bool
}

// countingWriter counts the bytes handed on to the object.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// openPartFile starts the object key and writes the Parquet header.
func openPartFile(ctx context.Context, bucket *blob.Bucket, key, dir string, schema *arrow.Schema, props *parquet.WriterProperties, arrowProps pqarrow.ArrowWriterProperties) (*partFile, error) {
	ctx, cancel := context.WithCancel(ctx)
	obj, err := bucket.NewWriter(ctx, key, &blob.WriterOptions{ContentType: parquetContentType})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	f := &partFile{key: key, dir: dir, cancel: cancel, obj: obj}
	f.buf = bufio.NewWriterSize(obj, uploadBuffer)
	f.count.w = f.buf
	// pqarrow closes its sink when it implements io.Closer; countingWriter
	// does not, so the object is only committed by close below.
	f.pq, err = pqarrow.NewFileWriter(schema, &f.count, props, arrowProps)
	if err != nil {
		f.abort()
		return nil, fmt.Errorf("start Parquet file %s: %w", key, err)
	}
	return f, nil
}

// write appends rec to the file's current row group, honouring the row
// group limits. It returns whether the file reached fileBytes.
func (f *partFile) write(rec arrow.RecordBatch, rowGroupBytes, fileBytes int64) (full bool, err error) {
	if f.newRowGroup {
		if err := f.pq.NewBufferedRowGroupChecked(); err != nil {
			return false, fmt.Errorf("write %s: start row group: %w", f.key, err)
		}
		f.newRowGroup = false
	}
	// WriteBuffered fills the current row group and starts new ones at
	// RowGroupRows; Write would start a row group per call.
	if err := f.pq.WriteBuffered(rec); err != nil {
		return false, fmt.Errorf("write %s: %w", f.key, err)
	}
	f.rows += rec.NumRows()
	buffered := f.pq.RowGroupTotalCompressedBytes()
	if buffered >= rowGroupBytes {
		f.newRowGroup = true
	}
	return f.count.n+buffered >= fileBytes, nil
}

// close writes the footer and commits the object.
func (f *partFile) close() (FileInfo, error) {
	defer f.cancel()
	if err := f.pq.Close(); err != nil {
		f.abort()
		return FileInfo{}, fmt.Errorf("finish %s: %w", f.key, err)
	}
	if err := f.buf.Flush(); err != nil {
		f.abort()
		return FileInfo{}, fmt.Errorf("finish %s: %w", f.key, err)
	}
	if err := f.obj.Close(); err != nil {
		return FileInfo{}, fmt.Errorf("commit %s: %w", f.key, err)
	}
	return FileInfo{Path: f.key, Rows: f.rows, Bytes: f.count.n}, nil
}

// abort cancels the upload: the object is not created (a local lake removes
// its temporary file, an object store aborts the upload).
func (f *partFile) abort() {
	f.cancel()
	if f.pq != nil {
		// Release pqarrow's buffers without sending the buffered row group
		// and footer anywhere.
		f.count.w = io.Discard
		_ = f.pq.Close()
	}
	_ = f.obj.Close()
}
