package sourcemysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

var _ source.Parallel = (*Source)(nil)

// streamChunks reads the window (query + where) in up to len(sinks)
// streams, by equal ranges of the table's single-column integer primary
// key between the window's min and max. The first stream reads on conn, in
// the snapshot that decided the window; the others each start a consistent
// snapshot of their own on another connection. MySQL cannot share a
// snapshot between connections: the window's bounds (the cursor's After and
// High, decided once) keep each chunk to the same window, so a row changed
// while the streams start moves its cursor above High and lands next run
// (docs/guarantees.md).
func (s *Source) streamChunks(ctx context.Context, conn *sql.Conn, live *liveTable, cols []myColumn, want []coltype.Column,
	query, where string, args []any, batchRows int, sinks []source.RecordSink, chunkDone func(done, total int), res *source.Result) error {
	table := live.ref.String()
	preds, how, err := s.keyChunks(ctx, conn, live, where, args, len(sinks)*source.ChunksPerStream)
	if err != nil {
		return fmt.Errorf("extract table %s: split into chunks: %w", table, err)
	}
	res.Chunks, res.Split = len(preds), how
	streams := min(len(sinks), len(preds))
	res.Rows, err = source.ReadChunks(ctx, streams, len(preds), chunkDone, func(ctx context.Context, i int, read func(func(int) (int64, error)) error) (err error) {
		c := conn
		if i > 0 {
			if c, err = s.db.Conn(ctx); err != nil {
				return fmt.Errorf("extract table %s: stream %d: connect (%s): %w", table, i+1, s.where(), err)
			}
			defer func() {
				if err != nil || ctx.Err() != nil {
					discard(c) // do not drain a cancelled query's rows
				} else {
					_, _ = c.ExecContext(context.Background(), "COMMIT")
				}
				c.Close()
			}()
			for _, stmt := range []string{
				"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
				"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
			} {
				if _, err := c.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("extract table %s: stream %d: begin snapshot: %w", table, i+1, err)
				}
			}
		}
		return read(func(k int) (int64, error) {
			return s.stream(ctx, c, table, cols, want, query+chunkWhere(where, preds[k]), args, batchRows, sinks[i])
		})
	})
	return err
}

// chunkWhere adds a chunk's predicate to the window's WHERE clause.
func chunkWhere(where, pred string) string {
	switch {
	case pred == "":
		return where
	case where == "":
		return " WHERE " + pred
	}
	return " WHERE (" + strings.TrimPrefix(where, " WHERE ") + ") AND " + pred
}

// keyChunks plans the chunks: one predicate per chunk ("" = the whole
// window) and how the window was split, for the run's log.
func (s *Source) keyChunks(ctx context.Context, conn *sql.Conn, live *liveTable, where string, args []any, want int) ([]string, string, error) {
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
	if err := conn.QueryRowContext(ctx, "SELECT MIN("+ident+"), MAX("+ident+") FROM "+live.ident()+where, args...).Scan(&lo, &hi); err != nil {
		return nil, "", fmt.Errorf("key range: %w", err)
	}
	if !lo.Valid {
		return []string{""}, "one chunk: empty window", nil
	}
	preds := source.KeyChunks(ident, lo.Int64, hi.Int64, want, source.MinChunkKeys)
	return preds, fmt.Sprintf("%d chunks by ranges of primary key %s", len(preds), col.col.Name), nil
}
