package sourcetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// collector is a RecordSink that keeps every record (retained) for checks.
type collector struct {
	mu      sync.Mutex
	records []arrow.RecordBatch
	schema  *arrow.Schema // expected schema; nil skips the check
	errs    []string
}

func newCollector(t *testing.T, schema *arrow.Schema) *collector {
	c := &collector{schema: schema}
	t.Cleanup(c.release)
	return c
}

func (c *collector) sink(rec arrow.RecordBatch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.schema != nil && !rec.Schema().Equal(c.schema) {
		c.errs = append(c.errs, fmt.Sprintf("record %d schema\n%v\nwant\n%v", len(c.records), rec.Schema(), c.schema))
	}
	if rec.NumRows() == 0 {
		c.errs = append(c.errs, fmt.Sprintf("record %d is empty", len(c.records)))
	}
	rec.Retain()
	c.records = append(c.records, rec)
	return nil
}

func (c *collector) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.records {
		r.Release()
	}
	c.records = nil
}

func (c *collector) rows() int64 {
	var n int64
	for _, r := range c.records {
		n += r.NumRows()
	}
	return n
}

// check reports schema problems seen by the sink.
func (c *collector) check(t *testing.T) {
	t.Helper()
	for _, e := range c.errs {
		t.Error(e)
	}
}

// rowRef locates one row in the collected records.
type rowRef struct {
	rec arrow.RecordBatch
	i   int
}

// byID indexes rows by the int64 value of column idCol.
func (c *collector) byID(t *testing.T, idCol string) map[int64]rowRef {
	t.Helper()
	out := map[int64]rowRef{}
	for _, r := range c.records {
		idx := r.Schema().FieldIndices(idCol)
		if len(idx) != 1 {
			t.Fatalf("record has no single column %q: %v", idCol, r.Schema())
		}
		ids, ok := r.Column(idx[0]).(*array.Int64)
		if !ok {
			t.Fatalf("column %q is %T, want int64", idCol, r.Column(idx[0]))
		}
		for i := 0; i < int(r.NumRows()); i++ {
			if ids.IsNull(i) {
				t.Fatalf("column %q has a NULL", idCol)
			}
			id := ids.Value(i)
			if _, dup := out[id]; dup {
				t.Errorf("row with %s=%d delivered twice", idCol, id)
			}
			out[id] = rowRef{r, i}
		}
	}
	return out
}
