package sourcepostgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

var (
	_ source.Parallel = (*Source)(nil)
	_ source.Chunked  = (*Source)(nil)
)

const (
	chunksPerStream = source.ChunksPerStream
	// minChunkBlocks is the smallest chunk of a ctid split (8 kB blocks:
	// 1 MiB): below it a connection costs more than it saves.
	minChunkBlocks = 128
	// minChunkKeys is the smallest chunk of a primary-key split.
	minChunkKeys = source.MinChunkKeys
	// tidRangeScan is the first server version that reads a ctid range
	// without scanning the whole table (Tid Range Scan).
	tidRangeScan = 140000
)

// ExtractParallel reads the window in up to len(sinks) streams, the way
// any process reads the chunks of a plan (source.ExtractChunks). The first
// stream reads on the source's connection in the transaction that decided
// the window; the others connect anew and import its snapshot
// (pg_export_snapshot, SET TRANSACTION SNAPSHOT), so every chunk is read
// from the same picture with the same High. That transaction stays open
// until every stream is done, which keeps the snapshot importable.
func (s *Source) ExtractParallel(ctx context.Context, req source.Request, sinks []source.RecordSink, chunkDone func(done, total int)) (source.Result, error) {
	return source.ExtractChunks(ctx, s, req, sinks, chunkDone)
}

// plan is a window cut into chunks, its deciding transaction open
// (source.Plan). It holds the source's lock until Close.
type plan struct {
	s         *Source
	req       source.Request
	conn      *pgx.Conn
	w         *window
	keys      []int
	batchRows int
	source.PlanBase
}

// PlanChunks decides the window in a new snapshot on the source's
// connection and cuts it into chunks for streams streams (one chunk when
// streams is 1 or the window is empty); with more than one chunk it
// exports the snapshot for the other streams.
func (s *Source) PlanChunks(ctx context.Context, req source.Request, streams int) (source.Plan, error) {
	s.mu.Lock()
	p, err := s.planChunks(ctx, req, streams)
	if err != nil {
		s.mu.Unlock()
		return nil, s.red.wrap(err)
	}
	return p, nil
}

func (s *Source) planChunks(ctx context.Context, req source.Request, streams int) (*plan, error) {
	batchRows, err := req.CheckPlan()
	if err != nil {
		return nil, err
	}
	ref := req.Table.Ref
	conn, err := s.connection(ctx)
	if err != nil {
		return nil, err
	}
	w, err := s.openWindow(ctx, conn, req)
	if err != nil {
		return nil, err
	}
	p := &plan{s: s, req: req, conn: conn, w: w, batchRows: batchRows, keys: keyIndices(w.live.key, w.cols),
		PlanBase: source.PlanBase{Res: w.res, Share: source.SharedPlan{Where: w.pred, Chunks: []string{""}}}}
	if w.empty {
		p.Share.Chunks = nil
		return p, nil
	}
	cp := chunkPlan{preds: []string{""}}
	if streams > 1 {
		if cp, err = planChunks(ctx, w, streams); err != nil {
			_ = w.tx.Rollback(context.Background())
			return nil, fmt.Errorf("extract table %s: split into chunks: %w", ref, err)
		}
	}
	p.Share.Chunks, p.Res.Chunks, p.Res.Split = cp.preds, len(cp.preds), cp.how
	if len(cp.preds) > 1 {
		if err := w.tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&p.Share.Snapshot); err != nil {
			_ = w.tx.Rollback(context.Background())
			return nil, fmt.Errorf("extract table %s: export snapshot: %w", ref, err)
		}
	}
	return p, nil
}

// Read reads chunk k in the deciding transaction.
func (p *plan) Read(ctx context.Context, k int, sink source.RecordSink) (int64, error) {
	if err := p.CheckOpen(p.req.Table.Ref, k); err != nil {
		return 0, err
	}
	return p.s.readChunk(ctx, p.conn, p.w, p.keys, p.req, p.Share, k, p.batchRows, sink)
}

// Close commits the deciding transaction (ending the exported snapshot)
// and gives the source back.
func (p *plan) Close(ctx context.Context) error {
	if !p.Closing() {
		return nil
	}
	defer p.s.mu.Unlock()
	if err := p.w.tx.Commit(ctx); err != nil {
		_ = p.w.tx.Rollback(context.Background())
		return p.s.red.wrap(fmt.Errorf("extract table %s: end snapshot: %w", p.req.Table.Ref, err))
	}
	return nil
}

// readChunk copies chunk k of plan on conn into sink.
func (s *Source) readChunk(ctx context.Context, conn *pgx.Conn, w *window, keys []int, req source.Request, shared source.SharedPlan,
	k, batchRows int, sink source.RecordSink) (int64, error) {
	pred, err := shared.Chunk(req.Table.Ref, k)
	if err != nil {
		return 0, err
	}
	n, err := s.copyRecords(ctx, conn, req.Table.Ref.String(), w.cols, keys, req.Table.Columns, w.copySQL(pred), batchRows, sink)
	return n, s.red.wrap(err)
}

// chunkReader reads chunks of a plan in the plan's snapshot
// (source.ChunkReader), on the source's own connection (lent: the reader
// holds the source until Close) or on one of its own.
type chunkReader struct {
	s         *Source
	conn      *pgx.Conn
	lent      bool
	closed    bool
	w         *window
	keys      []int
	req       source.Request
	shared    source.SharedPlan
	batchRows int
}

// OpenChunks imports the plan's snapshot and describes the table again in
// it (as the planning transaction saw it), to read chunks of a plan made by
// any process. It reads on the source's own connection when nothing holds
// the source (a process reading another's chunks), so that a stream costs
// the server one connection, not that one idle beside one of its own; the
// source is then held until the reader is closed. The source of a plan
// being read (its deciding transaction is open there) connects anew.
func (s *Source) OpenChunks(ctx context.Context, req source.Request, shared source.SharedPlan) (source.ChunkReader, error) {
	batchRows, err := req.CheckPlan()
	if err != nil {
		return nil, err
	}
	ref := req.Table.Ref
	r := &chunkReader{s: s, req: req, shared: shared, batchRows: batchRows}
	opened := false
	defer func() {
		if !opened { // an error or a panic: a lent source must not stay held
			r.Close()
		}
	}()
	if r.lent = s.mu.TryLock(); r.lent {
		r.conn, err = s.connection(ctx)
	} else {
		r.conn, err = s.dial(ctx)
	}
	if err == nil {
		err = importSnapshot(ctx, r.conn, shared.Snapshot)
	}
	if err != nil {
		return nil, s.red.wrap(fmt.Errorf("extract table %s: %w", ref, err))
	}
	r.w = &window{pred: shared.Where}
	if r.w.live, err = describe(ctx, r.conn, ref, s.opts.NumericScale); err == nil {
		r.w.cols, err = matchColumns(r.w.live, req.Table.Columns)
	}
	if err != nil {
		return nil, s.red.wrap(fmt.Errorf("extract: %w", err))
	}
	r.keys = keyIndices(r.w.live.key, r.w.cols)
	opened = true
	return r, nil
}

func (r *chunkReader) Read(ctx context.Context, k int, sink source.RecordSink) (int64, error) {
	switch {
	case r.closed:
		return 0, fmt.Errorf("extract table %s: chunk reader is closed", r.req.Table.Ref)
	case sink == nil:
		return 0, fmt.Errorf("extract table %s: nil sink", r.req.Table.Ref)
	}
	return r.s.readChunk(ctx, r.conn, r.w, r.keys, r.req, r.shared, k, r.batchRows, sink)
}

// Close ends the reader's transaction and gives a lent connection back to
// its source (closed instead if its transaction cannot be ended), or
// closes a connection of its own. Further calls do nothing.
func (r *chunkReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	conn := r.conn
	r.conn = nil
	if !r.lent {
		if conn == nil {
			return nil
		}
		return conn.Close(context.Background())
	}
	defer r.s.mu.Unlock()
	if conn == nil || conn.IsClosed() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), endTimeout)
	defer cancel()
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		return conn.Close(context.Background())
	}
	return nil
}

// endTimeout bounds ending a lent connection's transaction: past it the
// connection is closed and the source connects anew when next used.
const endTimeout = 10 * time.Second

// importSnapshot starts a read-only transaction on conn in the exported
// snapshot ("" = a snapshot of its own). An unknown snapshot (its
// transaction ended) wraps source.ErrSnapshotGone.
func importSnapshot(ctx context.Context, conn *pgx.Conn, snapshot string) error {
	stmts := []string{"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"}
	if snapshot != "" {
		stmts = append(stmts, "SET TRANSACTION SNAPSHOT '"+strings.ReplaceAll(snapshot, "'", "''")+"'")
	}
	for _, sql := range stmts {
		if _, err := conn.Exec(ctx, sql); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == pgerrcode.InvalidParameterValue {
				err = fmt.Errorf("%w: %w", source.ErrSnapshotGone, err)
			}
			return fmt.Errorf("import snapshot %s: %w", snapshot, err)
		}
	}
	return nil
}

// chunkPlan is a window cut into chunks: one predicate per chunk ("" =
// the whole window), and how it was cut, for the run's log.
type chunkPlan struct {
	preds []string
	how   string
}

// planChunks cuts the window into about chunksPerStream chunks per stream:
// by ctid block ranges (a Tid Range Scan reads only its blocks) on tables
// and materialized views of PostgreSQL 14+, else by ranges of a
// single-column integer primary key, else not at all.
func planChunks(ctx context.Context, w *window, streams int) (chunkPlan, error) {
	var (
		relkind string
		blocks  int64
		version int
	)
	err := w.tx.QueryRow(ctx, `SELECT c.relkind::text,
  pg_catalog.pg_relation_size(c.oid) / current_setting('block_size')::bigint,
  current_setting('server_version_num')::int
FROM pg_catalog.pg_class c WHERE c.oid = $1::regclass`, w.live.ident()).Scan(&relkind, &blocks, &version)
	if err != nil {
		return chunkPlan{}, err
	}
	want := streams * chunksPerStream
	var why string
	switch {
	case relkind != "r" && relkind != "m":
		why = map[string]string{"p": "a partitioned table", "v": "a view", "f": "a foreign table"}[relkind]
		if why == "" {
			why = "relkind " + relkind
		}
		why += " has no ctid ranges"
	case version < tidRangeScan:
		why = fmt.Sprintf("server version %d reads ctid ranges by scanning the whole table (Tid Range Scan needs 14+)", version)
	default:
		n := int(min(int64(want), max(blocks/minChunkBlocks, 1)))
		plan := chunkPlan{how: fmt.Sprintf("%d chunks by ctid block ranges (%d blocks)", n, blocks)}
		for k := range n {
			var conds []string
			if k > 0 {
				conds = append(conds, fmt.Sprintf("ctid >= '(%d,0)'::tid", blocks*int64(k)/int64(n)))
			}
			if k < n-1 { // the last chunk is open-ended: the table may have grown
				conds = append(conds, fmt.Sprintf("ctid < '(%d,0)'::tid", blocks*int64(k+1)/int64(n)))
			}
			plan.preds = append(plan.preds, strings.Join(conds, " AND "))
		}
		if n == 1 {
			plan.preds = []string{""}
		}
		return plan, nil
	}
	return keyChunks(ctx, w, want, why)
}

// keyChunks cuts the window by equal ranges of its single-column integer
// primary key between the window's min and max; why says why ctid ranges
// did not apply.
func keyChunks(ctx context.Context, w *window, want int, why string) (chunkPlan, error) {
	one := func(reason string) (chunkPlan, error) {
		return chunkPlan{preds: []string{""}, how: "one stream: " + why + " and " + reason}, nil
	}
	if len(w.live.key) != 1 {
		return one("no single-column primary key")
	}
	key := w.live.column(w.live.key[0])
	if key == nil {
		return one("primary key not found")
	}
	switch key.col.Kind {
	case coltype.Int16, coltype.Int32, coltype.Int64:
	default:
		return one(fmt.Sprintf("primary key %s is %s, not an integer", key.col.Name, key.col.SourceType))
	}
	ident := quoteIdent(key.col.Name)
	where := ""
	if w.pred != "" {
		where = " WHERE " + w.pred
	}
	var lo, hi *int64
	if err := w.tx.QueryRow(ctx, "SELECT min("+ident+")::int8, max("+ident+")::int8 FROM "+w.live.ident()+where).Scan(&lo, &hi); err != nil {
		return chunkPlan{}, err
	}
	if lo == nil {
		return chunkPlan{preds: []string{""}, how: "one chunk: empty window"}, nil
	}
	preds := source.KeyChunks(ident, *lo, *hi, want, minChunkKeys)
	return chunkPlan{preds: preds, how: fmt.Sprintf("%d chunks by ranges of primary key %s (%s)", len(preds), key.col.Name, why)}, nil
}
