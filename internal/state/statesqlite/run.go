package statesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/state/staterun"
)

const runColumns = `id, workflow, run_trigger, status, started_at, finished_at, row_count, byte_count, file_count,
	watermark_from_kind, watermark_from, watermark_to_kind, watermark_to, full_load, error_message`

// StartRun records r as running.
func (s *Store) StartRun(ctx context.Context, r *staterun.Run) error {
	c := *r
	if err := c.PrepareStart(nowUTC()); err != nil {
		return err
	}
	fromKind, from := staterun.EncodeWatermark(c.WatermarkFrom)
	toKind, to := staterun.EncodeWatermark(c.WatermarkTo)
	_, err := s.db.ExecContext(ctx, `INSERT INTO wharf_runs (`+runColumns+`)
		VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Workflow, c.Trigger, c.Status, micros(c.StartedAt), c.Rows, c.Bytes, c.Files,
		fromKind, from, toKind, to, c.FullLoad, c.Error)
	if err != nil {
		var se *sqlite.Error
		if errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return fmt.Errorf("start run %s of workflow %s: a run with this ID already exists", c.ID, c.Workflow)
		}
		return fmt.Errorf("start run %s of workflow %s: %w", c.ID, c.Workflow, err)
	}
	*r = c
	return nil
}

// CommitRun marks r succeeded, records its files and moves the watermark,
// in one transaction.
func (s *Store) CommitRun(ctx context.Context, r *staterun.Run, files []staterun.File, wm *coltype.Watermark, cursor string) error {
	c := *r
	files, err := c.PrepareCommit(nowUTC(), files, wm, cursor)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := endRun(ctx, tx, "commit", &c, `status = 'running'`); err != nil {
			return err
		}
		if len(files) > 0 {
			ins, err := tx.PrepareContext(ctx, `INSERT INTO wharf_files (run_id, workflow, path, row_count, byte_count, created_at)
				VALUES (?, ?, ?, ?, ?, ?)`)
			if err != nil {
				return fmt.Errorf("commit run %s of workflow %s: %w", c.ID, c.Workflow, err)
			}
			defer ins.Close()
			for _, f := range files {
				if _, err := ins.ExecContext(ctx, f.RunID, f.Workflow, f.Path, f.Rows, f.Bytes, micros(f.CreatedAt)); err != nil {
					return fmt.Errorf("commit run %s of workflow %s: file %s: %w", c.ID, c.Workflow, f.Path, err)
				}
			}
		}
		if wm != nil {
			if _, err := tx.ExecContext(ctx, `INSERT INTO wharf_watermarks (workflow, cursor_column, kind, watermark, run_id, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (workflow) DO UPDATE SET cursor_column = excluded.cursor_column, kind = excluded.kind,
					watermark = excluded.watermark, run_id = excluded.run_id, updated_at = excluded.updated_at`,
				c.Workflow, cursor, wm.Kind.String(), wm.Text, c.ID, micros(c.FinishedAt)); err != nil {
				return fmt.Errorf("commit run %s of workflow %s: watermark for cursor %q: %w", c.ID, c.Workflow, cursor, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	*r = c
	return nil
}

// FinishRun records a non-success end of a queued or running run.
func (s *Store) FinishRun(ctx context.Context, r *staterun.Run) error {
	c := *r
	if err := c.PrepareFinish(nowUTC()); err != nil {
		return err
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		return endRun(ctx, tx, "finish", &c, `status IN ('queued', 'running')`)
	})
	if err != nil {
		return err
	}
	*r = c
	return nil
}

// endRun writes the end state of c, provided the stored run has c's
// workflow and matches the status condition; otherwise it says why not.
func endRun(ctx context.Context, tx *sql.Tx, op string, c *staterun.Run, statusCond string) error {
	fromKind, from := staterun.EncodeWatermark(c.WatermarkFrom)
	toKind, to := staterun.EncodeWatermark(c.WatermarkTo)
	res, err := tx.ExecContext(ctx, `UPDATE wharf_runs SET status = ?, finished_at = ?, row_count = ?, byte_count = ?,
			file_count = ?, watermark_from_kind = ?, watermark_from = ?, watermark_to_kind = ?, watermark_to = ?,
			full_load = ?, error_message = ?
		WHERE id = ? AND workflow = ? AND `+statusCond,
		c.Status, micros(c.FinishedAt), c.Rows, c.Bytes, c.Files, fromKind, from, toKind, to, c.FullLoad, c.Error,
		c.ID, c.Workflow)
	if err != nil {
		return fmt.Errorf("%s run %s of workflow %s: %w", op, c.ID, c.Workflow, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s run %s of workflow %s: %w", op, c.ID, c.Workflow, err)
	}
	if n == 1 {
		return nil
	}
	var status, workflow string
	err = tx.QueryRowContext(ctx, `SELECT status, workflow FROM wharf_runs WHERE id = ?`, c.ID).Scan(&status, &workflow)
	if errors.Is(err, sql.ErrNoRows) {
		return staterun.NotFound(op, c.ID)
	}
	if err != nil {
		return fmt.Errorf("%s run %s of workflow %s: %w", op, c.ID, c.Workflow, err)
	}
	return staterun.NotRunning(op, c.ID, c.Workflow, workflow, status)
}

// StaleRuns lists the runs of a workflow ("" = all) still marked running,
// oldest first.
func (s *Store) StaleRuns(ctx context.Context, workflow string) ([]staterun.Run, error) {
	q := `SELECT ` + runColumns + ` FROM wharf_runs WHERE status = 'running'`
	var args []any
	if workflow != "" {
		q += ` AND workflow = ?`
		args = append(args, workflow)
	}
	runs, err := s.queryRuns(ctx, q+` ORDER BY started_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list stale runs of workflow %q: %w", workflow, err)
	}
	return runs, nil
}

// Runs lists runs newest first.
func (s *Store) Runs(ctx context.Context, f staterun.RunFilter) ([]staterun.Run, error) {
	limit, err := f.EffectiveLimit()
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + runColumns + ` FROM wharf_runs`
	where, args := f.Where(func(int) string { return "?" }, 1)
	if where != "" {
		q += ` WHERE ` + where
	}
	runs, err := s.queryRuns(ctx, q+` ORDER BY started_at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list runs of workflow %q: %w", f.Workflow, err)
	}
	return runs, nil
}

// Run returns one run, or an error wrapping ErrNotFound.
func (s *Store) Run(ctx context.Context, id string) (*staterun.Run, error) {
	runs, err := s.queryRuns(ctx, `SELECT `+runColumns+` FROM wharf_runs WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, err)
	}
	if len(runs) == 0 {
		return nil, staterun.NotFound("get", id)
	}
	return &runs[0], nil
}

func (s *Store) queryRuns(ctx context.Context, q string, args ...any) ([]staterun.Run, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var runs []staterun.Run
	for rows.Next() {
		var (
			r                              staterun.Run
			started                        int64
			finished                       *int64
			fromKind, from, toKind, toText *string
		)
		if err := rows.Scan(&r.ID, &r.Workflow, &r.Trigger, &r.Status, &started, &finished, &r.Rows, &r.Bytes, &r.Files,
			&fromKind, &from, &toKind, &toText, &r.FullLoad, &r.Error); err != nil {
			return nil, err
		}
		r.StartedAt, r.FinishedAt = fromMicros(&started), fromMicros(finished)
		if r.WatermarkFrom, err = staterun.DecodeWatermark("run "+r.ID+" watermark_from", fromKind, from); err != nil {
			return nil, err
		}
		if r.WatermarkTo, err = staterun.DecodeWatermark("run "+r.ID+" watermark_to", toKind, toText); err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, rows.Err()
}
