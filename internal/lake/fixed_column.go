package lake

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// fixedValues are the values of a FIXED_LEN_BYTE_ARRAY column of Arrow
// fixed-size binary arrays (a UUID's storage) for ownColumn, PLAIN: the
// values' bytes as the Arrow buffer holds them. arrow-go's writer
// spent ~5% of wharf's CPU on the benchmark's one UUID column, most of
// it in its statistics, a value at a time through bit-run visitors.
type fixedValues struct {
	width  int
	values []byte // the loaded array's, row k at k × width
	data   []byte // the page's
	stats  bool   // whether to keep min and max
	bounds byteBounds
}

// fixedValuesFor returns the values of a PLAIN FIXED_LEN_BYTE_ARRAY
// column of Arrow fixed-size binary arrays of the same width that sorts
// unsigned (not a decimal), else nil.
func fixedValuesFor(descr *schema.Column, t arrow.DataType, enc parquet.Encoding, stats bool) columnValues {
	fs, ok := t.(*arrow.FixedSizeBinaryType)
	if !ok || enc != parquet.Encodings.Plain || descr.PhysicalType() != parquet.Types.FixedLenByteArray ||
		descr.TypeLength() != fs.ByteWidth || descr.SortOrder() != schema.SortUNSIGNED {
		return nil
	}
	return &fixedValues{width: fs.ByteWidth, stats: stats}
}

func (f *fixedValues) load(arr arrow.Array) error {
	if _, ok := arr.(*array.FixedSizeBinary); !ok {
		return fmt.Errorf("%s array, want fixed_size_binary[%d]", arr.DataType(), f.width)
	}
	f.values = nil
	if buf := arr.Data().Buffers()[1]; buf != nil {
		off := arr.Data().Offset()
		f.values = buf.Bytes()[off*f.width : (off+arr.Len())*f.width]
	}
	return nil
}

func (f *fixedValues) unload() { f.values = nil }

func (f *fixedValues) add(bitmap []byte, off, i, j int) {
	w := f.width
	if bitmap == nil {
		f.data = append(f.data, f.values[i*w:j*w]...)
		if f.stats {
			for k := i; k < j; k++ {
				f.bounds.widen(f.values[k*w : (k+1)*w])
			}
		}
		return
	}
	for k := i; k < j; k++ {
		if !bitutil.BitIsSet(bitmap, off+k) {
			continue
		}
		v := f.values[k*w : (k+1)*w]
		f.data = append(f.data, v...)
		if f.stats {
			f.bounds.widen(v)
		}
	}
}

func (f *fixedValues) size() int { return len(f.data) }

func (f *fixedValues) appendTo(dst []byte) []byte { return append(dst, f.data...) }

func (f *fixedValues) bound(stats metadata.TypedStatistics) {
	if f.bounds.has {
		stats.(*metadata.FixedLenByteArrayStatistics).SetMinMax(f.bounds.min, f.bounds.max)
	}
}

func (f *fixedValues) reset(keep int) {
	f.data = f.data[:0]
	if cap(f.data) > keep {
		f.data = nil
	}
	f.bounds.has = false
}
