package sourcepostgres

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// column is one column of the batch the decoder fills: its Arrow builder,
// or for text, varchar, bytea and json(b) a varColumn. The decoder sizes it
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

var (
	_ column        = (*varColumn)(nil)
	_ bytesAppender = (*varColumn)(nil)
	_ bytesAppender = (*array.BinaryBuilder)(nil)
)

// varColumn builds a batch of a variable-width column (utf8, binary, or an
// extension type stored as utf8, JSON's) the way array.BinaryBuilder does,
// in buffers of the decoder's allocator that become the column's array at
// the batch's end (NewArray), but appends a value in a few instructions:
// BinaryBuilder spent ~110 besides the copy (the offset through a closure
// with its own capacity check, the validity bit). As with the builders,
// the decoder makes room for each row before it appends (Reserve, Cap);
// the value bytes grow in Append when a value does not fit.
//
// The validity bitmap is all ones but for the NULLs, so a value writes no
// bit; a batch without NULLs hands over no bitmap and keeps it, still all
// ones, for the next. Offsets are int32: a batch ends once it holds
// source.BatchBytes of rows, so it holds at most that and one value of at
// most 1 GiB.
type varColumn struct {
	mem   memory.Allocator
	dtype arrow.DataType
	// valid, offsets and data are the buffers the next array takes; bits,
	// offs and bytes are their memory, to their capacity.
	valid, offsets, data *memory.Buffer
	bits                 []byte
	offs                 []int32 // offs[i+1] ends row i's bytes
	bytes                []byte
	n, size, nulls       int // rows, value bytes, NULLs
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
	c.bits[c.n>>3] &^= 1 << (c.n & 7)
	c.nulls++
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
	if c.valid == nil {
		c.valid = memory.NewResizableBuffer(c.mem)
	}
	had := len(c.bits)
	c.valid.Reserve(int(bitutil.BytesForBits(int64(rows))))
	c.bits = c.valid.Buf()
	for i := had; i < len(c.bits); i++ {
		c.bits[i] = 0xff
	}
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
	var valid *memory.Buffer
	if c.nulls > 0 {
		c.valid.ResizeNoShrink(int(bitutil.BytesForBits(int64(c.n))))
		valid = c.valid
	}
	data := array.NewData(c.dtype, c.n, []*memory.Buffer{valid, c.offsets, c.data}, nil, c.nulls, 0)
	a := array.MakeFromData(data)
	data.Release()
	c.offsets.Release()
	c.data.Release()
	c.offsets, c.data, c.offs, c.bytes = nil, nil, nil, nil
	if valid != nil {
		c.valid.Release()
		c.valid, c.bits = nil, nil
	}
	c.n, c.size, c.nulls = 0, 0, 0
	return a
}

// Release frees the column's buffers.
func (c *varColumn) Release() {
	for _, b := range []*memory.Buffer{c.valid, c.offsets, c.data} {
		if b != nil {
			b.Release()
		}
	}
	*c = varColumn{mem: c.mem, dtype: c.dtype}
}
