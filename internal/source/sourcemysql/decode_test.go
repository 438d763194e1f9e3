package sourcemysql

import (
	"bytes"
	"database/sql/driver"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

// Wide rows cut a record at source.BatchBytes, not at batchRows: a stream
// holds a few records at once, and 1,000 rows of 64 KiB would be 64 MiB
// each.
func TestDecoderCutsRecordsByBytes(t *testing.T) {
	cols := []myColumn{
		{col: coltype.Column{Name: "id", Kind: coltype.Int64, SourceType: "bigint"}, dec: decInt},
		{col: coltype.Column{Name: "body", Kind: coltype.String, Nullable: true, SourceType: "longtext"}, dec: decText},
	}
	want := []coltype.Column{cols[0].col, cols[1].col}
	var sizes []int64
	rows := int64(0)
	dec, err := newRecordDecoder(memory.DefaultAllocator, "wide", cols, coltype.ArrowSchema(want), 1000, func(r arrow.RecordBatch) error {
		defer r.Release()
		rows += r.NumRows()
		sizes = append(sizes, r.NumRows())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Release()
	body := bytes.Repeat([]byte("x"), 65536)
	for i := range 300 {
		if err := dec.row([]driver.Value{int64(i), body}); err != nil {
			t.Fatal(err)
		}
	}
	if err := dec.flush(); err != nil {
		t.Fatal(err)
	}
	perRecord := int64(source.BatchBytes/65536) + 1
	if rows != 300 || len(sizes) < 4 || sizes[0] > perRecord {
		t.Errorf("%d rows in records of %v rows, want 300 in records of at most %d", rows, sizes, perRecord)
	}
}
