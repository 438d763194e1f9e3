// Package arrowmem holds the Arrow memory allocator the sources build
// their records in (source.Buffers) and the Parquet writers encode in
// (lake's writer properties, and zeroing, memory.DefaultAllocator).
package arrowmem

import (
	"math/bits"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
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
// miniblocks as memory held them), so the default allocator is a zeroing
// Recycler (NewZeroing). Buffers are 64-byte aligned, as
// memory.GoAllocator's are.
// Safe for concurrent use.
type Recycler struct {
	classes [numClasses]sync.Pool
	// zeroed: Allocate and Reallocate hand out zeroes, as Go's heap does
	// (NewZeroing).
	zeroed bool
}

// NewZeroing returns a Recycler whose buffers read as zeroes wherever
// memory.GoAllocator's would: all of what Allocate returns, and what
// Reallocate adds past the old length. A recycled buffer is cleared as it
// is handed out (the work Go's heap does for reused memory too); a new one
// comes zeroed from Go's heap.
func NewZeroing() *Recycler { return &Recycler{zeroed: true} }

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

// Allocate returns a buffer of size bytes (not zeroed when recycled, unless
// r is NewZeroing's).
func (r *Recycler) Allocate(size int) []byte {
	b, recycled := r.get(size)
	if recycled && r.zeroed {
		clear(b)
	}
	return b
}

// get returns a buffer of size bytes, and whether it was recycled (and so
// holds old bytes) rather than new from Go's heap.
func (r *Recycler) get(size int) ([]byte, bool) {
	if size > 1<<maxShift {
		return aligned(size), false
	}
	i, c := class(size)
	if p, ok := r.classes[i].Get().(*byte); ok {
		return unsafe.Slice(p, c)[:size], true
	}
	return aligned(c)[:size], false
}

// Reallocate returns b resized to size bytes, in place when b's class
// holds them.
func (r *Recycler) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		if r.zeroed && size > len(b) {
			clear(b[len(b):size])
		}
		return b[:size]
	}
	nb, recycled := r.get(size)
	n := copy(nb, b)
	if recycled && r.zeroed {
		clear(nb[n:])
	}
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
