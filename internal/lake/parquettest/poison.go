package parquettest

import "github.com/apache/arrow-go/v18/arrow/memory"

// goHeap is where both allocators below take their memory: Go's heap, not
// memory.DefaultAllocator, which the tests swap for them.
var goHeap = memory.NewGoAllocator()

// Poisoned returns an allocator whose buffers hold 0xa5 bytes wherever Go's
// heap would give zeroes: on Allocate, in what Reallocate adds, and in
// what Free returns (as a recycled buffer holds its last user's bytes).
func Poisoned() memory.Allocator { return poisoned{} }

type poisoned struct{}

func fill(b []byte) {
	for i := range b {
		b[i] = 0xa5
	}
}

func (poisoned) Allocate(size int) []byte {
	b := goHeap.Allocate(size)
	fill(b[:cap(b)])
	return b
}

func (p poisoned) Reallocate(size int, b []byte) []byte {
	old := len(b)
	nb := goHeap.Reallocate(size, b)
	if old < cap(nb) {
		fill(nb[old:cap(nb)])
	}
	return nb
}

func (poisoned) Free(b []byte) { fill(b[:cap(b)]) }

// FreePoisoned returns an allocator that hands out zeroed memory, as Go's
// heap does, but fills with 0xa5 bytes whatever it is given back (by Free,
// and the old buffer a Reallocate moves from): a user that still reads a
// buffer after giving it back reads poison, as it would read the next
// user's bytes from a recycling allocator.
func FreePoisoned() memory.Allocator { return freePoisoned{} }

type freePoisoned struct{}

func (freePoisoned) Allocate(size int) []byte { return goHeap.Allocate(size) }

func (freePoisoned) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return goHeap.Reallocate(size, b)
	}
	nb := goHeap.Reallocate(size, b)
	fill(b[:cap(b)])
	return nb
}

func (freePoisoned) Free(b []byte) { fill(b[:cap(b)]) }
