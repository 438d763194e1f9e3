package source

import (
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wharf-data/wharf/internal/arrowmem"
)

// Buffers allocates the Arrow buffers every source builds its records in.
// A source fills a record's builders, hands the record on, and the sink
// releases it a record or two later: the same few megabytes per stream,
// again and again. From Go's heap each batch's buffers were new memory,
// zeroed by the runtime and then garbage for the GC; recycled, the buffers
// a record's Release frees serve the next batch. arrow-go's builders zero
// what they rely on (sourcepostgres' TestRecycledBuffersLandTheSameBytes).
var Buffers memory.Allocator = new(arrowmem.Recycler)
