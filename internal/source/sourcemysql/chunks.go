package sourcemysql

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

var (
	_ source.Parallel = (*Source)(nil)
	_ source.Chunked  = (*Source)(nil)
)

// MySQL cannot share a snapshot between connections: a plan's chunks are
// read in the snapshot that decided the window (Plan.Read) or each in a
// consistent snapshot of its own started later, on any process
// (OpenChunks). The window's bounds (the cursor's After and High, decided
// once and shared as SQL literals) keep each chunk to the same window, so
// a row changed meanwhile moves its cursor above High and lands next run
// (docs/guarantees.md). SharedPlan.Snapshot is always "".

// plan is a window decided on a connection, in its snapshot, cut into
// chunks by ranges of the table's single-column integer primary key
// (source.Plan); r reads them in that snapshot.
type plan struct {
	r chunkReader
	source.PlanBase
}

// PlanChunks decides the window on a connection of its own and cuts it
// into chunks for streams streams (one when streams is 1 or the table has
// no single-column integer primary key; none when the window is empty).
func (s *Source) PlanChunks(ctx context.Context, req source.Request, streams int) (source.Plan, error) {
	batchRows, err := req.CheckPlan()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ref := req.Table.Ref
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("extract table %s: connect (%s): %w", ref, s.where(), err)
	}
	p := &plan{}
	w, err := s.openWindow(ctx, conn, req)
	if err == nil && !w.empty && streams > 1 {
		p.Share.Chunks, p.Res.Split, err = s.keyChunks(ctx, conn, w.live, w.pred, streams*source.ChunksPerStream)
		if err != nil {
			err = fmt.Errorf("extract table %s: split into chunks: %w", ref, err)
		}
	}
	if err != nil {
		discard(conn)
		conn.Close()
		return nil, s.explain(ctx, err)
	}
	p.Res.High, p.Res.Bound, p.Res.Unbounded = w.res.High, w.res.Bound, w.res.Unbounded
	p.Share.Where = w.pred
	switch {
	case w.empty:
		p.Share.Chunks = nil
	case p.Share.Chunks == nil:
		p.Share.Chunks = []string{""}
	}
	p.Res.Chunks = len(p.Share.Chunks)
	p.r = chunkReader{s: s, conn: conn, live: w.live, cols: w.cols, query: w.query, req: req, shared: p.Share, batchRows: batchRows}
	return p, nil
}

// Read reads chunk k in the snapshot that decided the window.
func (p *plan) Read(ctx context.Context, k int, sink source.RecordSink) (int64, error) {
	if err := p.CheckOpen(p.r.req.Table.Ref, k); err != nil {
		return 0, err
	}
	return p.r.Read(ctx, k, sink)
}

// Close ends the snapshot and gives the connection back (drops it after
// a failed read).
func (p *plan) Close(ctx context.Context) error {
	if !p.Closing() {
		return nil
	}
	return p.r.end(ctx)
}

// chunkReader reads chunks of a plan in a consistent snapshot of its own
// (source.ChunkReader).
type chunkReader struct {
	s         *Source
	conn      *sql.Conn
	live      *liveTable
	cols      []myColumn
	query     string
	req       source.Request
	shared    source.SharedPlan
	batchRows int
	// broken: a read failed or was cancelled mid-rows, so the connection
	// is dropped rather than given back.
	broken bool
}

// OpenChunks takes a connection, starts a consistent snapshot and
// describes the table again in it, to read chunks of a plan made by any
// process.
func (s *Source) OpenChunks(ctx context.Context, req source.Request, shared source.SharedPlan) (source.ChunkReader, error) {
	batchRows, err := req.CheckPlan()
	if err != nil {
		return nil, err
	}
	if shared.Snapshot != "" {
		return nil, fmt.Errorf("extract table %s: a MySQL plan has no snapshot to import (%q)", req.Table.Ref, shared.Snapshot)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("extract table %s: connect (%s): %w", req.Table.Ref, s.where(), err)
	}
	live, cols, query, err := s.begin(ctx, conn, req)
	if err != nil {
		discard(conn)
		conn.Close()
		return nil, s.explain(ctx, err)
	}
	return &chunkReader{s: s, conn: conn, live: live, cols: cols, query: query, req: req, shared: shared, batchRows: batchRows}, nil
}

// Read reads chunk k of the plan on the reader's connection, whose
// snapshot is open.
func (r *chunkReader) Read(ctx context.Context, k int, sink source.RecordSink) (int64, error) {
	n, err := r.read(ctx, k, sink)
	r.broken = r.broken || err != nil
	return n, err
}

func (r *chunkReader) read(ctx context.Context, k int, sink source.RecordSink) (int64, error) {
	if sink == nil {
		return 0, fmt.Errorf("extract table %s: nil sink", r.req.Table.Ref)
	}
	pred, err := r.shared.Chunk(r.req.Table.Ref, k)
	if err != nil {
		return 0, err
	}
	n, err := r.s.stream(ctx, r.conn, r.live.ref.String(), r.cols, r.req.Table.Columns, r.query+chunkWhere(r.shared.Where, pred), r.batchRows, sink)
	if err != nil {
		return 0, r.s.explain(ctx, err)
	}
	return n, nil
}

func (r *chunkReader) Close() error {
	return r.end(context.Background())
}

// end commits the snapshot's read-only transaction and gives the
// connection back, or drops it when broken (do not drain a cancelled
// query's rows).
func (r *chunkReader) end(ctx context.Context) error {
	defer r.conn.Close()
	if r.broken {
		discard(r.conn)
		return nil
	}
	return commit(ctx, r.conn, r.req.Table.Ref)
}

// chunkWhere is the WHERE clause of the window's predicate and a chunk's
// ("" = none).
func chunkWhere(where, pred string) string {
	switch {
	case where == "" && pred == "":
		return ""
	case pred == "":
		return " WHERE " + where
	case where == "":
		return " WHERE " + pred
	}
	return " WHERE (" + where + ") AND " + pred
}

// keyChunks plans the chunks: one predicate per chunk ("" = the whole
// window) and how the window was split, for the run's log.
func (s *Source) keyChunks(ctx context.Context, conn *sql.Conn, live *liveTable, where string, want int) ([]string, string, error) {
	rows, err := conn.QueryContext(ctx, `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`, live.ref.Schema, live.ref.Name)
	if err != nil {
		return nil, "", fmt.Errorf("read primary key: %w", err)
	}
	var key []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, "", err
		}
		key = append(key, k)
	}
	if err := rows.Close(); err != nil {
		return nil, "", err
	}
	one := func(why string) ([]string, string, error) { return []string{""}, "one stream: " + why, nil }
	if len(key) != 1 {
		return one("no single-column primary key")
	}
	col := live.column(key[0])
	if col == nil {
		return one("primary key " + key[0] + " not found")
	}
	switch col.col.Kind {
	case coltype.Int16, coltype.Int32, coltype.Int64:
	default:
		return one(fmt.Sprintf("primary key %s is %s, not a signed integer", col.col.Name, col.col.SourceType))
	}
	ident := quoteIdent(col.col.Name)
	var lo, hi sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT MIN("+ident+"), MAX("+ident+") FROM "+live.ident()+chunkWhere(where, "")).Scan(&lo, &hi); err != nil {
		return nil, "", fmt.Errorf("key range: %w", err)
	}
	if !lo.Valid {
		return []string{""}, "one chunk: empty window", nil
	}
	preds := source.KeyChunks(ident, lo.Int64, hi.Int64, want, source.MinChunkKeys)
	return preds, fmt.Sprintf("%d chunks by ranges of primary key %s", len(preds), col.col.Name), nil
}
