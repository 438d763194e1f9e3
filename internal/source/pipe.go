package source

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Check validates a request for Extract and returns its batch size
// (BatchRows, or DefaultBatchRows when 0). Errors name the table.
func (r Request) Check(sink RecordSink) (batchRows int, err error) {
	if batchRows, err = r.CheckPlan(); err == nil && sink == nil {
		return 0, fmt.Errorf("extract table %s: nil sink", r.Table.Ref)
	}
	return batchRows, err
}

// CheckPlan is Check for a request planned before its sinks exist
// (Chunked.PlanChunks).
func (r Request) CheckPlan() (batchRows int, err error) {
	if r.Table == nil {
		return 0, errors.New("extract: request has no table")
	}
	ref := r.Table.Ref
	switch {
	case len(r.Table.Columns) == 0:
		return 0, fmt.Errorf("extract table %s: no columns requested", ref)
	case r.BatchRows < 0:
		return 0, fmt.Errorf("extract table %s: negative batch rows %d", ref, r.BatchRows)
	case r.After != nil && r.Cursor == "":
		return 0, fmt.Errorf("extract table %s: a lower bound (after %s) needs a cursor column", ref, r.After)
	case r.BatchRows == 0:
		return DefaultBatchRows, nil
	}
	return r.BatchRows, nil
}

// CheckSinks is Check for a read in len(sinks) streams, one sink each.
func (r Request) CheckSinks(sinks []RecordSink) (batchRows int, err error) {
	if len(sinks) == 0 {
		return 0, errors.New("extract: no sinks")
	}
	for _, s := range sinks[1:] {
		if s == nil {
			return r.Check(nil)
		}
	}
	return r.Check(sinks[0])
}

// Pipe runs produce in a goroutine of its own and hands each record it
// emits to sink in the caller's goroutine, with at most one record waiting,
// so that reading and decoding the source overlaps with the sink (Parquet
// encoding). emit takes ownership of the record. When the sink fails, the
// context produce runs under is cancelled (a source then drops its
// connection rather than read the rest) and Pipe returns the sink's error
// once produce has returned; otherwise it returns produce's result.
func Pipe(ctx context.Context, sink RecordSink, produce func(ctx context.Context, emit func(arrow.RecordBatch) error) (int64, error)) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	records := make(chan arrow.RecordBatch, 1)
	emit := func(rec arrow.RecordBatch) error {
		select {
		case records <- rec:
			return nil
		case <-ctx.Done():
			rec.Release()
			return context.Cause(ctx)
		}
	}
	type outcome struct {
		rows int64
		err  error
	}
	done := make(chan outcome, 1)
	go func() {
		n, err := produce(ctx, emit)
		close(records)
		done <- outcome{n, err}
	}()
	var sinkErr error
	for rec := range records {
		if sinkErr == nil {
			if sinkErr = ctx.Err(); sinkErr == nil {
				sinkErr = sink(rec)
			}
			if sinkErr != nil {
				cancel()
			}
		}
		rec.Release()
	}
	out := <-done
	if sinkErr != nil {
		return 0, sinkErr
	}
	return out.rows, out.err
}

// A Reserver is a column's builder as ReserveLike sizes it: any
// array.Builder, or a source's own (sourcepostgres' varColumn and
// fixedColumn). One that builds a variable-width column also has
// ReserveData(n int), as array.BinaryBuilder has (or wraps one, as
// array.ExtensionBuilder may).
type Reserver interface{ Reserve(n int) }

// ReserveLike sizes emptied builders for the next batch: room for as many
// rows as rec held plus an eighth, at most batchRows (batchRows when rec is
// nil), and for the variable-width columns as many value bytes as
// rec (the batch just built) held plus an eighth. Left alone, a builder
// grows from 32 rows by doubling: every batch then zeroes and copies each
// column about twice.
func ReserveLike[B Reserver](cols []B, batchRows int, rec arrow.RecordBatch) {
	rows := batchRows
	if rec != nil {
		// A record cut by BatchBytes before batchRows rows: the next one is
		// likely as short.
		rows = min(batchRows, int(rec.NumRows())+int(rec.NumRows())/8)
	}
	for i, b := range cols {
		b.Reserve(rows)
		if rec == nil {
			continue
		}
		if r := dataReserverOf(b); r != nil {
			bufs := rec.Column(i).Data().Buffers()
			if len(bufs) == 3 && bufs[2] != nil {
				n := bufs[2].Len()
				r.ReserveData(n + n/8)
			}
		}
	}
}

type dataReserver interface{ ReserveData(n int) }

// dataReserverOf finds the variable-width builder b appends to (text and
// JSON builders wrap one), or nil.
func dataReserverOf(b any) dataReserver {
	switch b := b.(type) {
	case *array.ExtensionBuilder:
		return dataReserverOf(b.Builder)
	case dataReserver:
		return b
	}
	return nil
}
