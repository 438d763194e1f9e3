package lake

import "github.com/apache/arrow-go/v18/arrow/memory"

// UseAllocator makes new run writers encode in buffers from mem, until
// the returned function restores the default.
func UseAllocator(mem memory.Allocator) (restore func()) {
	old := writerMem
	writerMem = mem
	return func() { writerMem = old }
}
