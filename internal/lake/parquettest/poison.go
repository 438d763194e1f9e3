package parquettest

import "github.com/apache/arrow-go/v18/arrow/memory"

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
	b := memory.DefaultAllocator.Allocate(size)
	fill(b[:cap(b)])
	return b
}

func (p poisoned) Reallocate(size int, b []byte) []byte {
	old := len(b)
	nb := memory.DefaultAllocator.Reallocate(size, b)
	if old < cap(nb) {
		fill(nb[old:cap(nb)])
	}
	return nb
}

func (poisoned) Free(b []byte) { fill(b[:cap(b)]) }
