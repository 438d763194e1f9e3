package lake

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// bytesValues are the values of a text or binary column (an extension
// type's storage counts: JSON) for ownColumn, taken straight from the
// offsets and bytes of Arrow string or binary arrays, in PLAIN,
// DELTA_LENGTH_BYTE_ARRAY or DELTA_BYTE_ARRAY.
type bytesValues struct {
	enc     parquet.Encoding
	offsets []int32 // of the loaded array
	values  []byte

	lengths   deltaPacker[int32] // value (DELTA_LENGTH) or suffix (DELTA_BYTE) lengths
	prefix    deltaPacker[int32] // DELTA_BYTE: bytes shared with the previous value
	data      []byte             // PLAIN: length-prefixed values; else values or suffixes
	prev      []byte             // DELTA_BYTE: the page's last value
	prevOwned []byte             // a copy of it past the array it came from
	stats     bool               // whether to keep min and max
	bounds    byteBounds
}

// bytesValuesFor returns the values of a BYTE_ARRAY column of Arrow
// string or binary arrays in one of the three encodings, else nil.
func bytesValuesFor(descr *schema.Column, t arrow.DataType, enc parquet.Encoding, stats bool) *bytesValues {
	// Bounds are kept in unsigned byte order: a BYTE_ARRAY of a signed
	// order (a decimal) stays with arrow-go.
	if t.ID() != arrow.STRING && t.ID() != arrow.BINARY || descr.PhysicalType() != parquet.Types.ByteArray || descr.SortOrder() != schema.SortUNSIGNED {
		return nil
	}
	switch enc {
	case parquet.Encodings.Plain, parquet.Encodings.DeltaLengthByteArray, parquet.Encodings.DeltaByteArray:
		return &bytesValues{enc: enc, stats: stats}
	}
	return nil
}

func (b *bytesValues) load(arr arrow.Array) error {
	switch a := arr.(type) {
	case *array.String:
		b.offsets = a.ValueOffsets()
	case *array.Binary:
		b.offsets = a.ValueOffsets()
	default:
		return fmt.Errorf("%s array, want string or binary", arr.DataType())
	}
	b.values = nil
	if buf := arr.Data().Buffers()[2]; buf != nil {
		b.values = buf.Bytes()
	}
	return nil
}

func (b *bytesValues) unload() {
	b.offsets, b.values = nil, nil
	if b.enc == parquet.Encodings.DeltaByteArray {
		b.prevOwned = append(b.prevOwned[:0], b.prev...)
		b.prev = b.prevOwned
	}
}

func (b *bytesValues) add(bitmap []byte, off, i, j int) {
	for k := i; k < j; k++ {
		if bitmap != nil && !bitutil.BitIsSet(bitmap, off+k) {
			continue
		}
		v := b.values[b.offsets[k]:b.offsets[k+1]]
		switch b.enc {
		case parquet.Encodings.Plain:
			b.data = binary.LittleEndian.AppendUint32(b.data, uint32(len(v)))
			b.data = append(b.data, v...)
		case parquet.Encodings.DeltaLengthByteArray:
			b.lengths.add(int32(len(v)))
			b.data = append(b.data, v...)
		default: // DeltaByteArray
			p := commonPrefix(b.prev, v)
			b.prefix.add(int32(p))
			b.lengths.add(int32(len(v) - p))
			b.data = append(b.data, v[p:]...)
			b.prev = v
		}
		if b.stats {
			b.bounds.widen(v)
		}
	}
}

// size is the page's value bytes and delta-packed lengths so far.
func (b *bytesValues) size() int {
	return len(b.data) + b.lengths.size() + b.prefix.size()
}

func (b *bytesValues) appendTo(dst []byte) []byte {
	switch b.enc {
	case parquet.Encodings.DeltaLengthByteArray:
		dst = b.lengths.appendTo(dst)
	case parquet.Encodings.DeltaByteArray:
		dst = b.prefix.appendTo(dst)
		dst = b.lengths.appendTo(dst)
	}
	return append(dst, b.data...)
}

func (b *bytesValues) bound(stats metadata.TypedStatistics) {
	if b.bounds.has {
		stats.(*metadata.ByteArrayStatistics).SetMinMax(b.bounds.min, b.bounds.max)
	}
}

func (b *bytesValues) reset(keep int) {
	b.lengths.reset()
	b.prefix.reset()
	b.data = b.data[:0]
	if cap(b.data) > keep {
		b.data = nil
	}
	b.prev = b.prev[:0] // DELTA_BYTE_ARRAY starts over in every page
	b.bounds.has = false
}

// byteBounds are the least and greatest of a page's values, in the byte
// order Parquet sorts BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY by (unsigned, as
// bytes.Compare), copied.
type byteBounds struct {
	has      bool
	min, max []byte
	shared   int // bytes min and max begin with alike
}

// widen widens the bounds to v.
func (b *byteBounds) widen(v []byte) {
	// Most values of a page lie strictly between its bounds by the first
	// byte after the prefix the bounds share (the first byte of random
	// values, the digits after "customer "), which v must share too.
	if n := b.shared; b.has && len(v) > n && len(b.min) > n && len(b.max) > n &&
		v[n] > b.min[n] && v[n] < b.max[n] && bytes.Equal(v[:n], b.min[:n]) {
		return
	}
	switch {
	case !b.has:
		// Never nil: arrow-go's statistics take a nil bound for none, and
		// an empty string can be a column's least value.
		if b.min == nil {
			b.min, b.max = []byte{}, []byte{}
		}
		b.min = append(b.min[:0], v...)
		b.max = append(b.max[:0], v...)
		b.has = true
	case bytes.Compare(v, b.min) < 0:
		b.min = append(b.min[:0], v...)
	case bytes.Compare(v, b.max) > 0:
		b.max = append(b.max[:0], v...)
	default:
		return
	}
	b.shared = commonPrefix(b.min, b.max)
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
