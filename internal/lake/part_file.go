package lake

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"gocloud.dev/blob"

	"github.com/wharf-data/wharf/internal/crashpoint"
)

// parquetContentType is the IANA media type of Parquet files.
const parquetContentType = "application/vnd.apache.parquet"

// uploadBuffer batches pqarrow's many small writes (page headers, pages)
// before they reach the object writer; a page larger than what is left
// goes through. Each open file holds one, and a partitioned run keeps up
// to MaxOpenFiles open: at 1 MiB that was 64 MiB of a run's live heap
// (peak RSS 465 MB, 1M rows over 3,650 partitions; 378 MB at 64 KiB, for
// ~60 more write calls per 5M-row file).
const uploadBuffer = 64 << 10

// uploadBuffers are the files' upload buffers, reused from file to file: a
// run over thousands of small partitions otherwise allocates a MiB for
// each of its files.
var uploadBuffers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, uploadBuffer) }}

// newUploadBuffer returns an upload buffer writing to w.
func newUploadBuffer(w io.Writer) *bufio.Writer {
	b := uploadBuffers.Get().(*bufio.Writer)
	b.Reset(w)
	return b
}

// putUploadBuffer gives b back for another file, dropping what it holds.
func putUploadBuffer(b *bufio.Writer) {
	b.Reset(nil)
	uploadBuffers.Put(b)
}

// partFile is one Parquet object being written: pqarrow encodes into a
// counting writer, through a buffer, into the blob writer, as it goes. An
// object store's blob writer sends it as a multipart upload of PartBytes
// parts, UploadConcurrency at a time: the object is never held whole.
type partFile struct {
	lake    *Lake
	key     string
	dir     string
	cancel  context.CancelFunc // aborts the upload when called before close
	obj     *blob.Writer
	buf     *bufio.Writer
	count   countingWriter
	pq      parquetWriter
	rows    int64
	lastUse uint64
	// newRowGroup asks for a fresh row group before the next write: the
	// current one reached RowGroupBytes. Starting it lazily avoids an empty
	// trailing row group.
	newRowGroup bool
}

// countingWriter counts the bytes handed on to w: those of a part file's
// object, and where a flatWriter's file is (arrow-go's page writers ask,
// utils.WriterTell).
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err == nil && n != len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}

func (c *countingWriter) Tell() int64 { return c.n }

// partCounter passes bytes to the object writer and calls the UploadPart
// crash point each time the upload is half-way through filling another
// part: by then the multipart upload exists and the previous part is being
// (or was) sent.
type partCounter struct {
	w        io.Writer
	every, n int64
}

func (p *partCounter) Write(b []byte) (int, error) {
	if p.every <= 0 {
		return p.w.Write(b)
	}
	written := 0
	for len(b) > 0 {
		// The next half-way point: every*k + every/2, k >= 1.
		next := ((p.n+p.every/2)/p.every)*p.every + p.every/2
		if next < p.every+p.every/2 {
			next = p.every + p.every/2
		}
		chunk := b
		if int64(len(chunk)) > next-p.n {
			chunk = b[:next-p.n]
		}
		n, err := p.w.Write(chunk)
		written += n
		p.n += int64(n)
		if err != nil {
			return written, err
		}
		if p.n == next {
			crashpoint.Hit(crashpoint.UploadPart)
		}
		b = b[n:]
	}
	return written, nil
}

// openPartFile starts the object key and writes the Parquet header.
func openPartFile(ctx context.Context, l *Lake, key, dir string, schema *arrow.Schema, props *parquet.WriterProperties, arrowProps pqarrow.ArrowWriterProperties, opts WriterOptions) (*partFile, error) {
	ctx, cancel := context.WithCancel(ctx)
	obj, err := l.bucket.NewWriter(ctx, key, &blob.WriterOptions{
		ContentType:    parquetContentType,
		BufferSize:     int(opts.PartBytes),
		MaxConcurrency: opts.UploadConcurrency,
		BeforeWrite:    l.s3UploadOptions(opts),
	})
	if err != nil {
		cancel()
		return nil, l.storeError("create", key, err)
	}
	f := &partFile{lake: l, key: key, dir: dir, cancel: cancel, obj: obj}
	f.buf = newUploadBuffer(&partCounter{w: obj, every: opts.PartBytes})
	f.count.w = f.buf
	// The Parquet writer closes its sink when it implements io.Closer; countingWriter
	// does not, so the object is only committed by close below.
	pq, err := newParquetWriter(schema, &f.count, props, arrowProps)
	if err != nil {
		f.abort()
		return nil, fmt.Errorf("start Parquet file %s: %w", key, err)
	}
	f.pq = pq
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
		return false, f.lake.storeError("write", f.key, err)
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
		return FileInfo{}, f.lake.storeError("write", f.key, err)
	}
	if err := f.buf.Flush(); err != nil {
		f.abort()
		return FileInfo{}, f.lake.storeError("write", f.key, err)
	}
	f.count.w = io.Discard
	putUploadBuffer(f.buf)
	f.buf = nil
	if err := f.obj.Close(); err != nil {
		return FileInfo{}, f.lake.storeError("complete upload of", f.key, err)
	}
	crashpoint.Hit(crashpoint.FileWritten)
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
	if f.buf != nil {
		putUploadBuffer(f.buf)
		f.buf = nil
	}
	_ = f.obj.Close()
}
