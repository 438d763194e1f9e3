package sourcepostgres

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// column is one column of the batch the decoder fills: for the flat types
// that copyDecoder.decodeRow appends itself a varColumn (text, varchar,
// bytea, json(b)) or a fixedColumn (integers, floats, dates, timestamps,
// numeric, uuid), else (bool too) its Arrow builder. The decoder sizes it
// (source.ReserveLike, copyDecoder.makeRoom) and makes its array at the
// batch's end.
type column interface {
	Len() int
	Cap() int
	Reserve(n int)
	NewArray() arrow.Array
	Release()
}

// bytesAppender is what bytesDecoder and jsonDecoder append to: a top-level
// column's varColumn, or the BinaryBuilder of a nested one (list elements,
// record fields).
type bytesAppender interface {
	Append(v []byte)
	AppendNull()
}

// appender is what the decoder of a fixed-width type appends to: a
// top-level column's fixedColumn, or the Arrow builder of a nested one.
type appender[T any] interface {
	Append(v T)
	AppendNull()
}

var (
	_ column                 = (*varColumn)(nil)
	_ bytesAppender          = (*varColumn)(nil)
	_ bytesAppender          = (*array.BinaryBuilder)(nil)
	_ column                 = (*fixedColumn[int64])(nil)
	_ appender[int64]        = (*fixedColumn[int64])(nil)
	_ appender[int64]        = (*array.Int64Builder)(nil)
	_ appender[arrow.Date32] = (*array.Date32Builder)(nil)
)

// validity is a column's validity bitmap as varColumn and fixedColumn keep
// it: all ones but for the NULLs, so a value writes no bit. A batch
// without NULLs hands over no bitmap (take) and keeps it, still all ones,
// for the next.
type validity struct {
	buf   *memory.Buffer
	bits  []byte
	nulls int
}

// reserve makes room for rows bits, the new ones set.
func (v *validity) reserve(mem memory.Allocator, rows int) {
	need := int(bitutil.BytesForBits(int64(rows)))
	if need <= len(v.bits) {
		return
	}
	if v.buf == nil {
		v.buf = memory.NewResizableBuffer(mem)
	}
	had := len(v.bits)
	v.buf.Reserve(need)
	v.bits = v.buf.Buf()
	for i := had; i < len(v.bits); i++ {
		v.bits[i] = 0xff
	}
}

// setNull marks row i NULL.
func (v *validity) setNull(i int) {
	v.bits[i>>3] &^= 1 << (i & 7)
	v.nulls++
}

// take returns the bitmap of a batch of n rows for its array (nil when no
// row is NULL; the caller releases it after array.NewData) and the NULLs.
func (v *validity) take(n int) (*memory.Buffer, int) {
	if v.nulls == 0 {
		return nil, 0
	}
	b, nulls := v.buf, v.nulls
	b.ResizeNoShrink(int(bitutil.BytesForBits(int64(n))))
	*v = validity{}
	return b, nulls
}

func (v *validity) release() {
	if v.buf != nil {
		v.buf.Release()
	}
	*v = validity{}
}

// varColumn builds a batch of a variable-width column (utf8, binary, or an
// extension type stored as utf8, JSON's) the way array.BinaryBuilder does,
// in buffers of the decoder's allocator that become the column's array at
// the batch's end (NewArray), but appends a value in a few instructions:
// BinaryBuilder spent ~110 besides the copy (the offset through a closure
// with its own capacity check, the validity bit). As with the builders,
// the decoder makes room for each row before it appends (Reserve, Cap);
// the value bytes grow in Append when a value does not fit. Offsets are
// int32: a batch ends once it holds source.BatchBytes of rows, so it holds
// at most that and one value of at most 1 GiB.
type varColumn struct {
	mem   memory.Allocator
	dtype arrow.DataType
	valid validity
	// offsets and data are the buffers the next array takes; offs and
	// bytes are their memory, to their capacity.
	offsets, data *memory.Buffer
	offs          []int32 // offs[i+1] ends row i's bytes
	bytes         []byte
	n, size       int // rows, value bytes
}

func newVarColumn(mem memory.Allocator, dtype arrow.DataType) *varColumn {
	return &varColumn{mem: mem, dtype: dtype}
}

// Len is the number of rows appended.
func (c *varColumn) Len() int { return c.n }

// Cap is the number of rows the column holds without growing.
func (c *varColumn) Cap() int { return max(len(c.offs)-1, 0) }

// Append appends a value to a column that has room for the row.
func (c *varColumn) Append(v []byte) {
	if !c.appendFitting(v) {
		c.growData(len(v))
		c.appendFitting(v)
	}
}

// appendFitting appends a value to a column that has room for the row, if
// its bytes fit without growing (copyDecoder.decodeRow's case: small
// enough to be inlined there).
func (c *varColumn) appendFitting(v []byte) bool {
	if len(c.bytes)-c.size < len(v) {
		return false
	}
	c.size += copy(c.bytes[c.size:], v)
	c.n++
	c.offs[c.n] = int32(c.size)
	return true
}

// AppendNull appends a NULL to a column that has room for the row.
func (c *varColumn) AppendNull() {
	c.valid.setNull(c.n)
	c.n++
	c.offs[c.n] = int32(c.size)
}

// Reserve makes room for n more rows, growing as a builder does (to the
// next power of two).
func (c *varColumn) Reserve(n int) {
	if c.n+n <= c.Cap() {
		return
	}
	rows := bitutil.NextPowerOf2(c.n + n)
	if c.offsets == nil {
		c.offsets = memory.NewResizableBuffer(c.mem)
	}
	c.offsets.Reserve((rows + 1) * arrow.Int32SizeBytes)
	c.offs = arrow.Int32Traits.CastFromBytes(c.offsets.Buf())[:rows+1]
	if c.n == 0 {
		c.offs[0] = 0
	}
	c.valid.reserve(c.mem, rows)
}

// ReserveData makes room for n more value bytes.
func (c *varColumn) ReserveData(n int) {
	if len(c.bytes)-c.size >= n {
		return
	}
	if c.data == nil {
		c.data = memory.NewResizableBuffer(c.mem)
	}
	c.data.Reserve(c.size + n)
	c.bytes = c.data.Buf()
}

// growData makes room for a value of n bytes, doubling as a builder does.
func (c *varColumn) growData(n int) {
	c.ReserveData(bitutil.NextPowerOf2(c.size+n) - c.size)
}

// NewArray hands the rows appended to a new array and empties the column;
// Reserve must make room before the next row.
func (c *varColumn) NewArray() arrow.Array {
	if c.offsets == nil {
		c.Reserve(1)
	}
	c.offsets.ResizeNoShrink((c.n + 1) * arrow.Int32SizeBytes)
	if c.data == nil {
		c.data = memory.NewResizableBuffer(c.mem)
	}
	c.data.ResizeNoShrink(c.size)
	a := newArray(c.dtype, c.n, &c.valid, c.offsets, c.data)
	c.offsets, c.data, c.offs, c.bytes = nil, nil, nil, nil
	c.n, c.size = 0, 0
	return a
}

// Release frees the column's buffers.
func (c *varColumn) Release() {
	c.valid.release()
	for _, b := range []*memory.Buffer{c.offsets, c.data} {
		if b != nil {
			b.Release()
		}
	}
	*c = varColumn{mem: c.mem, dtype: c.dtype}
}

// newArray makes an array of type dtype and n rows from valid's bitmap and
// bufs, taking them over (the caller's references are released).
func newArray(dtype arrow.DataType, n int, valid *validity, bufs ...*memory.Buffer) arrow.Array {
	bitmap, nulls := valid.take(n)
	data := array.NewData(dtype, n, append([]*memory.Buffer{bitmap}, bufs...), nil, nulls, 0)
	a := array.MakeFromData(data)
	data.Release()
	if bitmap != nil {
		bitmap.Release()
	}
	for _, b := range bufs {
		b.Release()
	}
	return a
}

// fixedColumn builds a batch of a fixed-width column (integers, floats,
// dates, timestamps, decimals, uuids: T is the Arrow value type, [16]byte
// for a uuid) in buffers of the decoder's allocator, as varColumn does:
// appending a value stores it, where a builder's UnsafeAppend also set the
// validity bit (~12 instructions a value). The decoder makes room for each
// row before it appends (Reserve, Cap).
type fixedColumn[T any] struct {
	mem    memory.Allocator
	dtype  arrow.DataType
	valid  validity
	values *memory.Buffer // the buffer the next array takes
	vals   []T            // its memory, to its capacity
	n      int
}

func newFixedColumn[T any](mem memory.Allocator, dtype arrow.DataType) *fixedColumn[T] {
	return &fixedColumn[T]{mem: mem, dtype: dtype}
}

func (c *fixedColumn[T]) Len() int { return c.n }
func (c *fixedColumn[T]) Cap() int { return len(c.vals) }

// Append appends a value to a column that has room for the row.
func (c *fixedColumn[T]) Append(v T) {
	c.vals[c.n] = v
	c.n++
}

// AppendNull appends a NULL (its slot zero) to a column that has room for
// the row.
func (c *fixedColumn[T]) AppendNull() {
	var zero T
	c.vals[c.n] = zero
	c.valid.setNull(c.n)
	c.n++
}

// Reserve makes room for n more rows, growing as a builder does (to the
// next power of two).
func (c *fixedColumn[T]) Reserve(n int) {
	if c.n+n <= len(c.vals) {
		return
	}
	rows := bitutil.NextPowerOf2(c.n + n)
	if c.values == nil {
		c.values = memory.NewResizableBuffer(c.mem)
	}
	var zero T
	c.values.Reserve(rows * int(unsafe.Sizeof(zero)))
	c.vals = unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(c.values.Buf()))), rows)
	c.valid.reserve(c.mem, rows)
}

// NewArray hands the rows appended to a new array and empties the column;
// Reserve must make room before the next row.
func (c *fixedColumn[T]) NewArray() arrow.Array {
	if c.values == nil {
		c.Reserve(1)
	}
	var zero T
	c.values.ResizeNoShrink(c.n * int(unsafe.Sizeof(zero)))
	a := newArray(c.dtype, c.n, &c.valid, c.values)
	c.values, c.vals, c.n = nil, nil, 0
	return a
}

// Release frees the column's buffers.
func (c *fixedColumn[T]) Release() {
	c.valid.release()
	if c.values != nil {
		c.values.Release()
	}
	*c = fixedColumn[T]{mem: c.mem, dtype: c.dtype}
}
