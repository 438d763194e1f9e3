// Package arrowmem holds the Arrow memory allocator the sources build
// their records in (source.Buffers) and the Parquet writers encode in.
package arrowmem

import (
	"github.com/apache/arrow-go/v18/arrow/memory"
	"math/bits"
	"sync"
	"unsafe"
)

// Recycler is a memory.Allocator that keeps the buffers Free is given,
// by size class, in sync.Pools: the next Allocate of a size in the same
// class takes one back. Memory stays bounded as with the Go heap: a buffer
// that waits through two garbage collections is dropped from its pool and
// collected.
//
// Unlike Go's heap, a recycled buffer is not zeroed: it holds whatever its
// last user left there. arrow-go's builders zero what they rely on (the
// validity bitmaps, variable-width value bytes as they grow); fixed-width
// value slots of NULLs keep old bytes, which no reader of an Arrow array
// may look at. arrow-go's Parquet column writers take their page, level and
// value scratch from the allocator of their writer properties, and need no
// zeroed memory there (lake's TestWriterNeedsNoZeroedBuffers); their
// encoders' own buffer pool (memory.DefaultAllocator) does need it
// (DELTA_BINARY_PACKED leaves the widths of a last block's unused
// miniblocks as memory held them), so Recycler is never the default
// allocator. Buffers are 64-byte aligned, as memory.GoAllocator's are.
// Safe for concurrent use.
type Recycler struct {
	classes [numClasses]sync.Pool
}

var _ memory.Allocator = (*Recycler)(nil)

const (
	// minShift: buffers up to 1 KiB are one class (a 16,384-row batch's
	// validity bitmap is 2 KiB).
	minShift = 10
	// maxShift: buffers over 1 GiB are not kept.
	maxShift = 30
	// classSteps size classes per doubling: a buffer is at most 25% larger
	// than asked for.
	classSteps = 4
	numClasses = 1 + (maxShift-minShift)*classSteps
	alignment  = 64
)

// class returns the size class of a buffer of n bytes (n <= 1<<maxShift)
// and the class's size.
func class(n int) (index, size int) {
	if n <= 1<<minShift {
		return 0, 1 << minShift
	}
	b := bits.Len(uint(n - 1)) // 1<<(b-1) < n <= 1<<b
	step := 1 << (b - 1) / classSteps
	q := (n + step - 1) / step // classSteps+1 .. 2*classSteps
	return (b-1-minShift)*classSteps + q - classSteps, q * step
}

// Allocate returns a buffer of size bytes (not zeroed when recycled).
func (r *Recycler) Allocate(size int) []byte {
	if size > 1<<maxShift {
		return aligned(size)
	}
	i, c := class(size)
	if p, ok := r.classes[i].Get().(*byte); ok {
		return unsafe.Slice(p, c)[:size]
	}
	return aligned(c)[:size]
}

// Reallocate returns b resized to size bytes, in place when b's class
// holds them.
func (r *Recycler) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	nb := r.Allocate(size)
	copy(nb, b)
	r.Free(b)
	return nb
}

// Free keeps b for a later Allocate of its class. b must come from
// Allocate or Reallocate and no longer be used.
func (r *Recycler) Free(b []byte) {
	c := cap(b)
	if c == 0 || c > 1<<maxShift {
		return
	}
	i, size := class(c)
	if size != c {
		return // not a class's buffer
	}
	r.classes[i].Put(unsafe.SliceData(b))
}

// aligned returns a new zeroed buffer of n bytes whose capacity is n, at
// an address that is a multiple of alignment.
func aligned(n int) []byte {
	b := make([]byte, n)
	if uintptr(unsafe.Pointer(unsafe.SliceData(b)))%alignment == 0 {
		return b // Go's size classes from 1 KiB on are mostly aligned already
	}
	b = make([]byte, n+alignment)
	shift := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) % alignment)
	return b[shift : shift+n : shift+n]
}
