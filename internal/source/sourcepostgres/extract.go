package sourcepostgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

func quoteIdent(name string) string { return pgx.Identifier{name}.Sanitize() }

// Extract streams the window's rows as Arrow records. High and the rows come
// from one REPEATABLE READ snapshot. Records are never empty: a window without
// rows calls the sink zero times.
func (s *Source) Extract(ctx context.Context, req source.Request, sink source.RecordSink) (source.Result, error) {
	return s.ExtractParallel(ctx, req, []source.RecordSink{sink}, nil)
}

// window is one run's read as decided in its snapshot: the transaction
// holding the snapshot, the table as it is in it, the columns to read and
// the window's predicate ("" = every row).
type window struct {
	tx   pgx.Tx
	live *liveTable
	cols []pgColumn
	pred string
	res  source.Result // High and Bound; Rows is filled by the read
	// empty: nothing newer than the request's lower bound.
	empty bool
}

// openWindow checks the request, starts the run's snapshot on conn and
// decides the window in it. The caller ends w.tx.
func (s *Source) openWindow(ctx context.Context, conn *pgx.Conn, req source.Request) (*window, error) {
	ref := req.Table.Ref
	tx, bound, err := beginSnapshot(ctx, conn, req)
	if err != nil {
		return nil, fmt.Errorf("extract table %s: %w", ref, err)
	}
	w := &window{tx: tx}
	ok := false
	defer func() {
		if !ok {
			_ = tx.Rollback(context.Background())
		}
	}()

	// Describe again inside the snapshot: the decoders must match the
	// table as it is now, not as it was when the caller described it.
	if w.live, err = describe(ctx, tx, ref, s.opts.NumericScale); err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	if w.cols, err = matchColumns(w.live, req.Table.Columns); err != nil {
		return nil, err
	}
	if req.Cursor == "" {
		ok = true
		return w, nil
	}
	cur := w.live.column(req.Cursor)
	if cur == nil {
		return nil, fmt.Errorf("extract table %s: cursor column %q: %w", ref, req.Cursor, source.ErrNotFound)
	}
	if !coltype.CursorKind(cur.col.Kind) {
		return nil, fmt.Errorf("extract table %s: column %q of type %s cannot be a cursor", ref, cur.col.Name, cur.col.SourceType)
	}
	curIdent := quoteIdent(cur.col.Name)
	var after string
	var conds []string
	if req.After != nil {
		if after, err = literal(req.After, cur); err != nil {
			return nil, fmt.Errorf("extract table %s: %w", ref, err)
		}
		conds = append(conds, curIdent+" > "+after)
	}
	if bound != nil && boundsCursor(cur.col.Kind) {
		w.res.Bound = bound.rule
		if !bound.limit.IsZero() {
			conds = append(conds, curIdent+" < "+bound.sqlLimit(cur.col.Kind))
		}
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	w.res.High, err = queryHigh(ctx, tx, w.live.ident(), cur, where)
	if err != nil {
		return nil, fmt.Errorf("extract table %s: max(%s): %w", ref, cur.col.Name, err)
	}
	switch {
	case w.res.High == nil && req.After != nil:
		w.empty = true // nothing newer than After
	case w.res.High == nil:
		// Every row has a NULL cursor: a full load reads them all.
	default:
		high, err := literal(w.res.High, cur)
		if err != nil {
			return nil, fmt.Errorf("extract table %s: high %w", ref, err)
		}
		if req.After != nil {
			w.pred = curIdent + " > " + after + " AND " + curIdent + " <= " + high
		} else {
			w.pred = "(" + curIdent + " <= " + high + " OR " + curIdent + " IS NULL)"
		}
	}
	ok = true
	return w, nil
}

// copySQL is the COPY of the window's rows that also satisfy chunk ("" =
// all of them).
func (w *window) copySQL(chunk string) string {
	sel := make([]string, len(w.cols))
	for i, c := range w.cols {
		sel[i] = c.selectExpr()
	}
	var conds []string
	for _, c := range []string{w.pred, chunk} {
		if c != "" {
			conds = append(conds, c)
		}
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	return "COPY (SELECT " + strings.Join(sel, ", ") + " FROM " + w.live.ident() + where + ") TO STDOUT (FORMAT binary)"
}

// matchColumns finds each requested column in the live table and checks it
// still has the described kind, precision, scale and nullability.
func matchColumns(live *liveTable, want []coltype.Column) ([]pgColumn, error) {
	out := make([]pgColumn, len(want))
	for i, w := range want {
		var got *pgColumn
		for j := range live.cols {
			if live.cols[j].col.Name == w.Name {
				got = &live.cols[j]
				break
			}
		}
		if got == nil {
			return nil, fmt.Errorf("extract table %s: column %q: %w", live.ref, w.Name, source.ErrNotFound)
		}
		g := got.col
		if w.Cast != coltype.CastNone {
			if g.Nullable && !w.Nullable {
				return nil, fmt.Errorf("extract table %s: column %q changed since it was described: it is now nullable; describe the table again", live.ref, w.Name)
			}
			out[i] = castPlan(*got, w)
			continue
		}
		if !coltype.SameType(g, w) || (g.Nullable && !w.Nullable) {
			return nil, fmt.Errorf("extract table %s: column %q changed since it was described: was %s (%v), now %s (%v)%s",
				live.ref, w.Name, w.SourceType, shape(w), g.SourceType, shape(g), "; describe the table again")
		}
		out[i] = *got
		// Keep the caller's column (its nullability may be stricter on
		// paper, which the decoder then enforces).
		out[i].col = w
	}
	return out, nil
}

// keyIndices returns the positions in cols of the key columns, or nil when
// some key column is not read.
func keyIndices(key []string, cols []pgColumn) []int {
	var out []int
	for _, k := range key {
		i := slices.IndexFunc(cols, func(c pgColumn) bool { return c.col.Name == k })
		if i < 0 {
			return nil
		}
		out = append(out, i)
	}
	return out
}

func shape(c coltype.Column) string {
	s := c.TypeString()
	if !c.Nullable {
		s += " not null"
	}
	return s
}

// copyRecords runs the COPY and delivers records to sink in the caller's
// goroutine. When pipelined, the COPY is read and decoded in a goroutine of
// its own and finished records cross a small channel, so decoding overlaps
// with the sink.
func (s *Source) copyRecords(ctx context.Context, conn *pgx.Conn, table string, cols []pgColumn, keys []int, want []coltype.Column, sql string, batchRows int, sink source.RecordSink) (int64, error) {
	schema := coltype.ArrowSchema(want)
	produce := func(ctx context.Context, emit func(arrow.RecordBatch) error) (int64, error) {
		dec, err := newCopyDecoder(s.mem, table, cols, schema, batchRows, emit)
		if err != nil {
			return 0, err
		}
		dec.keys = keys
		defer dec.Release()
		return runCopy(ctx, conn, table, dec, sql) // a cancelled ctx stops the COPY; the connection is replaced next time
	}
	if s.pipelined {
		return source.Pipe(ctx, sink, produce)
	}
	return produce(ctx, func(rec arrow.RecordBatch) error {
		defer rec.Release()
		if err := ctx.Err(); err != nil {
			return err
		}
		return sink(rec)
	})
}

// runCopy streams the COPY into dec and checks the row count.
func runCopy(ctx context.Context, conn *pgx.Conn, table string, dec *copyDecoder, sql string) (int64, error) {
	if lc := streamLowat(conn.PgConn().Conn()); lc != nil {
		lc.begin()
		defer lc.end()
	}
	tag, err := copyOut(ctx, conn.PgConn(), sql, dec)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return 0, fmt.Errorf("extract table %s: copy: %w", table, err)
	}
	if err := dec.finish(); err != nil {
		return 0, err
	}
	if tag.RowsAffected() != dec.rows {
		return 0, fmt.Errorf("extract table %s: server sent %d rows, decoded %d", table, tag.RowsAffected(), dec.rows)
	}
	return dec.rows, nil
}

// beginSnapshot starts the run's REPEATABLE READ transaction. For a
// timestamp cursor its first statement reads the in-flight bound (which
// takes the snapshot); when transactions in flight could not be seen, most
// often because they ended between the snapshot and the read, it tries
// again with a new snapshot, twice, before settling for what it knows (and
// says so in the rule).
func beginSnapshot(ctx context.Context, conn *pgx.Conn, req source.Request) (pgx.Tx, *inFlightBound, error) {
	wantBound := false
	if req.Cursor != "" {
		if c := req.Table.Column(req.Cursor); c != nil && boundsCursor(c.Kind) {
			wantBound = true
		}
	}
	for attempt := 1; ; attempt++ {
		tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return nil, nil, fmt.Errorf("begin snapshot: %w", err)
		}
		if !wantBound {
			return tx, nil, nil
		}
		table := quoteIdent(req.Table.Ref.Name)
		if req.Table.Ref.Schema != "" {
			table = quoteIdent(req.Table.Ref.Schema) + "." + table
		}
		b, err := readInFlightBound(ctx, tx, table, req.Settle)
		if err != nil {
			_ = tx.Rollback(context.Background())
			return nil, nil, err
		}
		if b.unknown == 0 || req.Settle > 0 || attempt == 3 {
			return tx, &b, nil
		}
		if err := tx.Rollback(ctx); err != nil {
			return nil, nil, fmt.Errorf("begin snapshot: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
