package source

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Check validates a request for Extract and returns its batch size
// (BatchRows, or DefaultBatchRows when 0). Errors name the table.
func (r Request) Check(sink RecordSink) (batchRows int, err error) {
	if r.Table == nil {
		return 0, errors.New("extract: request has no table")
	}
	ref := r.Table.Ref
	switch {
	case len(r.Table.Columns) == 0:
		return 0, fmt.Errorf("extract table %s: no columns requested", ref)
	case sink == nil:
		return 0, fmt.Errorf("extract table %s: nil sink", ref)
	case r.BatchRows < 0:
		return 0, fmt.Errorf("extract table %s: negative batch rows %d", ref, r.BatchRows)
	case r.After != nil && r.Cursor == "":
		return 0, fmt.Errorf("extract table %s: a lower bound (after %s) needs a cursor column", ref, r.After)
	case r.BatchRows == 0:
		return DefaultBatchRows, nil
	}
	return r.BatchRows, nil
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
