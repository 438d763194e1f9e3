package sourcemysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/go-sql-driver/mysql"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

// Extract streams the window's rows as Arrow records. High and the rows come
// from one snapshot: START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY at
// REPEATABLE READ on one connection. Records are never empty.
func (s *Source) Extract(ctx context.Context, req source.Request, sink source.RecordSink) (source.Result, error) {
	return s.ExtractParallel(ctx, req, []source.RecordSink{sink}, nil)
}

// ExtractParallel reads the window like Extract, in up to len(sinks)
// streams by ranges of the table's integer primary key (chunks.go), the
// way any process reads the chunks of a plan (source.ExtractChunks).
func (s *Source) ExtractParallel(ctx context.Context, req source.Request, sinks []source.RecordSink, chunkDone func(done, total int)) (source.Result, error) {
	return source.ExtractChunks(ctx, s, req, sinks, chunkDone)
}

// explain adds to a read's error what the driver leaves out: that the
// context ended it, or that the server closed the connection.
func (s *Source) explain(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%w (%w)", ctxErr, err)
	}
	if errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, driver.ErrBadConn) {
		// The driver says only "invalid connection".
		return fmt.Errorf("the server closed the connection mid-query (%s; killed, restarted or cut off): %w", s.where(), err)
	}
	return err
}

// window is a decided window of a table: its rows are query WHERE pred
// ("" = every row), read in the snapshot of the connection that decided
// it; empty when nothing is to be read.
type window struct {
	live  *liveTable
	cols  []myColumn
	query string
	pred  string
	res   source.Result
	empty bool
}

// begin starts a consistent snapshot on conn, describes the table again
// in it (the decoders must match the table as it is now, not as it was
// when the caller described it) and finds the requested columns.
func (s *Source) begin(ctx context.Context, conn *sql.Conn, req source.Request) (*liveTable, []myColumn, string, error) {
	for _, stmt := range []string{
		"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
		"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return nil, nil, "", fmt.Errorf("extract table %s: begin snapshot: %w", req.Table.Ref, err)
		}
	}
	live, err := s.describe(ctx, conn, req.Table.Ref)
	if err != nil {
		return nil, nil, "", fmt.Errorf("extract: %w", err)
	}
	cols, err := matchColumns(live, req.Table.Columns)
	if err != nil {
		return nil, nil, "", err
	}
	sel := make([]string, len(cols))
	for i := range cols {
		sel[i] = cols[i].selectExpr()
	}
	return live, cols, "SELECT " + strings.Join(sel, ", ") + " FROM " + live.ident(), nil
}

// openWindow decides the window in a new snapshot on conn: its High (and
// what bounded it) and its predicate, with the bounds as SQL literals so
// that any connection can read it (source.SharedPlan.Where).
func (s *Source) openWindow(ctx context.Context, conn *sql.Conn, req source.Request) (*window, error) {
	ref := req.Table.Ref
	// Writers in flight are read before the snapshot and again inside it
	// (inFlight).
	var flight inFlight
	if req.Cursor != "" {
		if err := flight.read(ctx, conn); err != nil {
			return nil, fmt.Errorf("extract table %s: %w", ref, err)
		}
	}
	live, cols, query, err := s.begin(ctx, conn, req)
	if err != nil {
		return nil, err
	}
	w := &window{live: live, cols: cols, query: query}
	if req.Cursor == "" {
		return w, nil
	}
	cur := live.column(req.Cursor)
	if cur == nil {
		return nil, fmt.Errorf("extract table %s: cursor column %q: %w", ref, req.Cursor, source.ErrNotFound)
	}
	if !coltype.CursorKind(cur.col.Kind) || cur.dec == decBit || cur.dec == decBool {
		return nil, fmt.Errorf("extract table %s: column %q of type %s cannot be a cursor", ref, cur.col.Name, cur.col.SourceType)
	}
	curExpr := quoteIdent(cur.col.Name)
	var after string
	if req.After != nil {
		if after, err = bound(req.After, cur); err != nil {
			return nil, fmt.Errorf("extract table %s: %w", ref, err)
		}
		w.pred = curExpr + " > " + after
	}
	highPred := w.pred
	// Timestamp cursors only: dates are coarser than a transaction, and
	// sequences are not transactional (docs/guarantees.md).
	if cur.col.Kind == coltype.Timestamp || cur.col.Kind == coltype.TimestampTZ {
		if err := flight.read(ctx, conn); err != nil {
			return nil, fmt.Errorf("extract table %s: %w", ref, err)
		}
		var settled time.Time
		if req.Settle > 0 {
			if settled, err = settleLimit(ctx, conn, req.Settle); err != nil {
				return nil, fmt.Errorf("extract table %s: settle: %w", ref, err)
			}
		}
		var limit time.Time
		limit, w.res.Bound, w.res.Unbounded = flight.limit(settled, req.Settle)
		if !limit.IsZero() {
			cond := curExpr + " < " + textLiteral(limit.Format("2006-01-02 15:04:05.000000"))
			if highPred == "" {
				highPred = cond
			} else {
				highPred += " AND " + cond
			}
		}
	}
	w.res.High, err = queryHigh(ctx, conn, live.ident(), cur, chunkWhere(highPred, ""))
	if err != nil {
		return nil, fmt.Errorf("extract table %s: max(%s): %w", ref, cur.col.Name, err)
	}
	switch {
	case w.res.High == nil && (req.After != nil || highPred != w.pred):
		// Nothing newer than After, or everything is held back by settle.
		w.empty = true
	case w.res.High == nil:
		w.pred = "" // every cursor is NULL: a full load reads them all
	default:
		high, err := bound(w.res.High, cur)
		if err != nil {
			return nil, fmt.Errorf("extract table %s: high %w", ref, err)
		}
		if req.After != nil {
			w.pred = curExpr + " > " + after + " AND " + curExpr + " <= " + high
		} else {
			w.pred = curExpr + " <= " + high + " OR " + curExpr + " IS NULL"
		}
	}
	return w, nil
}

// settleLimit is the server's clock (the session's zone, UTC) minus settle:
// cursor values from it on are held back for the next run, so that rows of
// transactions still in flight land then. A DATETIME cursor is compared as
// if the application wrote it in UTC.
func settleLimit(ctx context.Context, conn *sql.Conn, settle time.Duration) (time.Time, error) {
	var now string
	if err := conn.QueryRowContext(ctx, "SELECT DATE_FORMAT(NOW(6), '%Y-%m-%d %H:%i:%s.%f')").Scan(&now); err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse("2006-01-02 15:04:05.000000", now)
	if err != nil {
		return time.Time{}, fmt.Errorf("server clock %q: %w", now, err)
	}
	return t.Add(-settle), nil
}

func commit(ctx context.Context, conn *sql.Conn, ref source.TableRef) error {
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("extract table %s: end snapshot: %w", ref, err)
	}
	return nil
}

// matchColumns finds each requested column in the live table and checks it
// still has the described kind, precision, scale and nullability.
func matchColumns(live *liveTable, want []coltype.Column) ([]myColumn, error) {
	out := make([]myColumn, len(want))
	for i, w := range want {
		got := live.column(w.Name)
		if got == nil {
			if live.unsup != nil && live.unsup.Column == w.Name {
				return nil, live.unsup
			}
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
			return nil, fmt.Errorf("extract table %s: column %q changed since it was described: was %s, now %s; describe the table again",
				live.ref, w.Name, w.SourceType, g.SourceType)
		}
		out[i] = *got
		out[i].col = w
	}
	return out, nil
}

// stream runs the SELECT on the snapshot's connection and delivers records
// to sink in the caller's goroutine. When pipelined, rows are read and
// decoded in a goroutine of their own and finished records cross a small
// channel, so decoding overlaps with the sink.
func (s *Source) stream(ctx context.Context, conn *sql.Conn, table string, cols []myColumn, want []coltype.Column, query string, batchRows int, sink source.RecordSink) (int64, error) {
	schema := coltype.ArrowSchema(want)
	produce := func(ctx context.Context, emit func(arrow.RecordBatch) error) (int64, error) {
		dec, err := newRecordDecoder(s.mem, table, cols, schema, batchRows, emit)
		if err != nil {
			return 0, err
		}
		defer dec.Release()
		return readRows(ctx, conn, table, dec, query)
	}
	if s.pipelined {
		return source.Pipe(ctx, sink, produce)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // a failed sink stops the query by closing the connection
	return produce(ctx, func(rec arrow.RecordBatch) error {
		defer rec.Release()
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := sink(rec); err != nil {
			cancel()
			return err
		}
		return nil
	})
}

// readRows streams the query's rows straight from the driver (no
// database/sql conversion of each value) into dec.
func readRows(ctx context.Context, conn *sql.Conn, table string, dec *recordDecoder, query string) (int64, error) {
	err := conn.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot query", dc)
		}
		rows, err := q.QueryContext(ctx, query, nil)
		if err != nil {
			return err
		}
		if n := len(rows.Columns()); n != len(dec.cols) {
			rows.Close()
			return fmt.Errorf("server sent %d columns, want %d", n, len(dec.cols))
		}
		vals := make([]driver.Value, len(dec.cols))
		for {
			if err := rows.Next(vals); err != nil {
				if err == io.EOF {
					break
				}
				rows.Close()
				return err
			}
			if err := dec.row(vals); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		return dec.flush()
	})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%w)", context.Cause(ctx), err)
		}
		if strings.HasPrefix(err.Error(), "extract table") {
			return 0, err
		}
		return 0, fmt.Errorf("extract table %s: %w", table, err)
	}
	return dec.rows, nil
}

// bound turns a watermark into a SQL literal of the cursor's type, which
// any connection can read (the window's predicate is shared as text).
func bound(w *coltype.Watermark, cur *myColumn) (string, error) {
	if err := w.Validate(); err != nil {
		return "", fmt.Errorf("watermark %q for cursor %q: %w", w.Text, cur.col.Name, err)
	}
	if !coltype.Bounds(w.Kind, cur.col.Kind) {
		return "", fmt.Errorf("watermark %q is a %v but cursor %q is a %v (%s)", w.Text, w.Kind, cur.col.Name, cur.col.Kind, cur.col.SourceType)
	}
	switch w.Kind {
	case coltype.Int16, coltype.Int32, coltype.Int64:
		n, err := strconv.ParseInt(w.Text, 10, 64)
		return strconv.FormatInt(n, 10), err
	case coltype.Float32, coltype.Float64:
		f, err := strconv.ParseFloat(w.Text, 64)
		if cur.col.Kind == coltype.Float32 {
			f = float64(float32(f)) // the stored float's exact value, as the column compares
		}
		// With an exponent the literal is a DOUBLE, as a bound float was.
		return strconv.FormatFloat(f, 'e', -1, 64), err
	case coltype.Decimal:
		// A string compared with a DECIMAL is compared as a double: cast it.
		return "CAST(" + textLiteral(w.Text) + " AS DECIMAL(65,30))", nil
	case coltype.String, coltype.Date:
		return textLiteral(w.Text), nil
	case coltype.Timestamp, coltype.TimestampTZ:
		t, err := w.Time()
		if err != nil {
			return "", err
		}
		// The session zone is UTC, so a TIMESTAMP compares in UTC too.
		return textLiteral(t.UTC().Format("2006-01-02 15:04:05.000000")), nil
	}
	return "", fmt.Errorf("cursor %q: %v cannot be a cursor", cur.col.Name, w.Kind)
}

// textLiteral is s as a SQL string literal in the connection's character
// set: quoted when it holds only characters no sql_mode escapes (digits,
// letters, space and . : + -), else as hex digits with the utf8mb4
// introducer, which no quoting rule (NO_BACKSLASH_ESCAPES) changes.
func textLiteral(s string) string {
	plain := true
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune(" .:+-", r)) {
			plain = false
			break
		}
	}
	if plain {
		return "'" + s + "'"
	}
	return "_utf8mb4 X'" + hex.EncodeToString([]byte(s)) + "'"
}

// queryHigh reads max(cursor) over the window in the snapshot and returns it
// as a canonical watermark (nil when the window is empty).
func queryHigh(ctx context.Context, conn *sql.Conn, table string, cur *myColumn, where string) (*coltype.Watermark, error) {
	expr := "MAX(" + quoteIdent(cur.col.Name) + ")"
	if cur.col.Kind == coltype.Float32 {
		expr = "CAST(" + expr + " AS DOUBLE)"
	}
	var v sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT "+expr+" FROM "+table+where).Scan(&v); err != nil {
		return nil, err
	}
	if !v.Valid {
		return nil, nil
	}
	k := cur.col.Kind
	b := []byte(v.String)
	switch k {
	case coltype.Int16, coltype.Int32, coltype.Int64, coltype.String:
		return &coltype.Watermark{Kind: k, Text: v.String}, nil
	case coltype.Decimal:
		w := &coltype.Watermark{Kind: k, Text: v.String}
		if err := w.Validate(); err != nil {
			return nil, fmt.Errorf("max value %s cannot be a decimal watermark", v.String)
		}
		return w, nil
	case coltype.Float32, coltype.Float64:
		f, err := strconv.ParseFloat(v.String, 64)
		if err != nil {
			return nil, err
		}
		if k == coltype.Float32 {
			return &coltype.Watermark{Kind: k, Text: strconv.FormatFloat(f, 'g', -1, 32)}, nil
		}
		return &coltype.Watermark{Kind: k, Text: strconv.FormatFloat(f, 'g', -1, 64)}, nil
	case coltype.Date:
		days, err := parseDate(b)
		if err != nil {
			return nil, err
		}
		return &coltype.Watermark{Kind: k, Text: civilText(int64(days) * 86400 * 1_000_000)[:10]}, nil
	case coltype.Timestamp, coltype.TimestampTZ:
		us, err := parseDatetime(b)
		if err != nil {
			return nil, err
		}
		text := civilText(us)
		if k == coltype.TimestampTZ {
			text += "Z"
		}
		return &coltype.Watermark{Kind: k, Text: text}, nil
	}
	return nil, fmt.Errorf("cursor %q: %v (%s) cannot be a cursor", cur.col.Name, k, cur.col.SourceType)
}
