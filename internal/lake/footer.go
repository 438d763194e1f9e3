package lake

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"gocloud.dev/blob"
)

// ReadFooter reads the footer of the Parquet object at key (relative to the
// lake) and returns its size, its row count and its Arrow schema, with two
// or three ranged reads, whatever the object's size.
func (l *Lake) ReadFooter(ctx context.Context, key string) (FileInfo, *arrow.Schema, error) {
	attrs, err := l.bucket.Attributes(ctx, key)
	if err != nil {
		return FileInfo{}, nil, l.storeError("read", key, err)
	}
	r := &objectReaderAt{ctx: ctx, bucket: l.bucket, key: key, size: attrs.Size}
	pf, err := file.NewParquetReader(r, file.WithReadProps(parquet.NewReaderProperties(memory.DefaultAllocator)))
	if err != nil {
		var se *StoreError
		if errors.As(err, &se) {
			return FileInfo{}, nil, l.storeError("read", key, se.Err)
		}
		return FileInfo{}, nil, fmt.Errorf("lake %s: %s is not a readable Parquet file: %w", l.url, key, err)
	}
	defer pf.Close()
	schema, err := pqarrow.FromParquet(pf.MetaData().Schema, nil, pf.MetaData().KeyValueMetadata())
	if err != nil {
		return FileInfo{}, nil, fmt.Errorf("lake %s: %s: Parquet schema: %w", l.url, key, err)
	}
	return FileInfo{Path: key, Rows: pf.NumRows(), Bytes: attrs.Size}, schema, nil
}

// objectReaderAt reads an object with one ranged read per ReadAt.
type objectReaderAt struct {
	ctx    context.Context
	bucket *blob.Bucket
	key    string
	size   int64
	off    int64
}

func (r *objectReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	if off+n > r.size {
		n = r.size - off
	}
	rd, err := r.bucket.NewRangeReader(r.ctx, r.key, off, n, nil)
	if err != nil {
		return 0, &StoreError{Op: "read", Key: r.key, Err: err}
	}
	defer rd.Close()
	got, err := io.ReadFull(rd, p[:n])
	if err != nil {
		return got, &StoreError{Op: "read", Key: r.key, Err: err}
	}
	if got < len(p) {
		return got, io.EOF
	}
	return got, nil
}

func (r *objectReaderAt) Read(p []byte) (int, error) {
	n, err := r.ReadAt(p, r.off)
	r.off += int64(n)
	return n, err
}

func (r *objectReaderAt) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, fmt.Errorf("seek: bad whence %d", whence)
	}
	if offset < 0 {
		return 0, fmt.Errorf("seek: negative offset %d", offset)
	}
	r.off = offset
	return offset, nil
}
