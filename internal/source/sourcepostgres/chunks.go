package sourcepostgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/pgconnect"
	"github.com/wharf-data/wharf/internal/source"
)

var _ source.Parallel = (*Source)(nil)

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

// ExtractParallel reads the window in up to len(sinks) streams. The first
// stream reads on the source's connection in the transaction that decided
// the window; the others connect anew and import its snapshot
// (pg_export_snapshot, SET TRANSACTION SNAPSHOT), so every chunk is read
// from the same picture with the same High. That transaction stays open
// until every stream is done, which keeps the snapshot importable.
func (s *Source) ExtractParallel(ctx context.Context, req source.Request, sinks []source.RecordSink, chunkDone func(done, total int)) (source.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.extractStreams(ctx, req, sinks, chunkDone)
	return res, s.red.wrap(err)
}

func (s *Source) extractStreams(ctx context.Context, req source.Request, sinks []source.RecordSink, chunkDone func(done, total int)) (source.Result, error) {
	batchRows, err := req.CheckSinks(sinks)
	if err != nil {
		return source.Result{}, err
	}
	ref := req.Table.Ref
	conn, err := s.connection(ctx)
	if err != nil {
		return source.Result{}, err
	}
	w, err := s.openWindow(ctx, conn, req)
	if err != nil {
		return source.Result{}, err
	}
	defer func() { _ = w.tx.Rollback(context.Background()) }() // no-op after Commit
	if w.empty {
		return w.res, w.tx.Commit(ctx)
	}

	plan := chunkPlan{preds: []string{""}}
	if len(sinks) > 1 {
		if plan, err = planChunks(ctx, w, len(sinks)); err != nil {
			return source.Result{}, fmt.Errorf("extract table %s: split into chunks: %w", ref, err)
		}
	}
	streams := min(len(sinks), len(plan.preds))
	var snapshot string
	if streams > 1 {
		if err := w.tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&snapshot); err != nil {
			return source.Result{}, fmt.Errorf("extract table %s: export snapshot: %w", ref, err)
		}
	}

	res := w.res
	res.Chunks, res.Split = len(plan.preds), plan.how
	keys := keyIndices(w.live.key, w.cols)
	res.Rows, err = source.ReadChunks(ctx, streams, len(plan.preds), chunkDone, func(ctx context.Context, i int, read func(func(int) (int64, error)) error) error {
		c := conn
		if i > 0 {
			var err error
			if c, err = s.streamConn(ctx, snapshot); err != nil {
				return fmt.Errorf("extract table %s: stream %d: %w", ref, i+1, err)
			}
			defer c.Close(context.Background())
		}
		return read(func(k int) (int64, error) {
			return s.copyRecords(ctx, c, ref.String(), w.cols, keys, req.Table.Columns, w.copySQL(plan.preds[k]), batchRows, sinks[i])
		})
	})
	if err != nil {
		return source.Result{}, err
	}
	if err := w.tx.Commit(ctx); err != nil {
		return source.Result{}, fmt.Errorf("extract table %s: end snapshot: %w", ref, err)
	}
	return res, nil
}

// streamConn opens one more connection and starts a transaction on the
// exported snapshot.
func (s *Source) streamConn(ctx context.Context, snapshot string) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.config)
	if err != nil {
		return nil, fmt.Errorf("postgres source: connect (%s): %w", s.where(), pgconnect.Explain(err))
	}
	for _, sql := range []string{
		"BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
		"SET TRANSACTION SNAPSHOT '" + strings.ReplaceAll(snapshot, "'", "''") + "'",
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			conn.Close(context.Background())
			return nil, fmt.Errorf("import snapshot %s: %w", snapshot, err)
		}
	}
	return conn, nil
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
