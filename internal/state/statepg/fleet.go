package statepg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/state/staterun"
)

// Heartbeat records that w is alive now.
func (s *Store) Heartbeat(ctx context.Context, w *staterun.Worker) error {
	c := *w
	if err := c.Check(nowUTC()); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO wharf_workers (id, host, pid, role, started_at, heartbeat_at, stopped_at)
		VALUES ($1, $2, $3, $4, $5, $6, NULL)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, stopped_at = NULL`,
		c.ID, c.Host, c.PID, c.Role, c.StartedAt, c.HeartbeatAt)
	if err != nil {
		return fmt.Errorf("heartbeat of worker %s: %w", c.ID, err)
	}
	*w = c
	return nil
}

// WorkerStopped records a clean exit.
func (s *Store) WorkerStopped(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE wharf_workers SET stopped_at = $1 WHERE id = $2`, nowUTC(), id); err != nil {
		return fmt.Errorf("record stop of worker %s: %w", id, err)
	}
	return nil
}

// Workers lists every known process, newest heartbeat first.
func (s *Store) Workers(ctx context.Context) ([]staterun.Worker, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, host, pid, role, started_at, heartbeat_at, stopped_at
		FROM wharf_workers ORDER BY heartbeat_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (staterun.Worker, error) {
		var (
			w             staterun.Worker
			started, beat time.Time
			stopped       *time.Time
		)
		err := row.Scan(&w.ID, &w.Host, &w.PID, &w.Role, &started, &beat, &stopped)
		w.StartedAt, w.HeartbeatAt, w.StoppedAt = started.UTC(), beat.UTC(), utc(stopped)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	return out, nil
}

// ForgetWorkers deletes processes gone since before that hold no running run.
func (s *Store) ForgetWorkers(ctx context.Context, before time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM wharf_workers w
		WHERE (w.stopped_at IS NOT NULL OR w.heartbeat_at < $1)
		  AND w.heartbeat_at < $1
		  AND NOT EXISTS (SELECT 1 FROM wharf_runs r WHERE r.worker_id = w.id AND r.status = 'running')`,
		staterun.Time(before))
	if err != nil {
		return 0, fmt.Errorf("forget workers: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// MarkRunning moves a queued run to running on workerID.
func (s *Store) MarkRunning(ctx context.Context, r *staterun.Run, workerID string) error {
	c := *r
	if c.StartedAt.IsZero() || c.Status == staterun.StatusQueued {
		c.StartedAt = nowUTC()
	}
	c.StartedAt = staterun.Time(c.StartedAt)
	tag, err := s.pool.Exec(ctx, `UPDATE wharf_runs SET status = 'running', started_at = $1, worker_id = $2
		WHERE id = $3 AND workflow = $4 AND status = 'queued'`, c.StartedAt, workerID, c.ID, c.Workflow)
	if err != nil {
		return fmt.Errorf("mark run %s of workflow %s running: %w", c.ID, c.Workflow, err)
	}
	if tag.RowsAffected() != 1 {
		var status, wf string
		err := s.pool.QueryRow(ctx, `SELECT status, workflow FROM wharf_runs WHERE id = $1`, c.ID).Scan(&status, &wf)
		if errors.Is(err, pgx.ErrNoRows) {
			return staterun.NotFound("mark running", c.ID)
		}
		if err != nil {
			return fmt.Errorf("mark run %s of workflow %s running: %w", c.ID, c.Workflow, err)
		}
		return staterun.NotQueued(c.ID, c.Workflow, wf, status)
	}
	c.Status = staterun.StatusRunning
	*r = c
	return nil
}

// StartJobRun records r as running on workerID for River job jobID.
func (s *Store) StartJobRun(ctx context.Context, r *staterun.Run, jobID int64, workerID string) error {
	c := *r
	if err := c.PrepareStart(nowUTC()); err != nil {
		return err
	}
	fromKind, from := staterun.EncodeWatermark(c.WatermarkFrom)
	toKind, to := staterun.EncodeWatermark(c.WatermarkTo)
	_, err := s.pool.Exec(ctx, `INSERT INTO wharf_runs (`+runColumns+`, job_id, worker_id)
		VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		c.ID, c.Workflow, c.Trigger, c.Status, c.StartedAt, c.Rows, c.Bytes, c.Files,
		fromKind, from, toKind, to, c.FullLoad, c.Error, jobID, workerID)
	if err != nil {
		return fmt.Errorf("start run %s of workflow %s (job %d): %w", c.ID, c.Workflow, jobID, err)
	}
	*r = c
	return nil
}

// RunJob returns the River job and the worker of a run.
func (s *Store) RunJob(ctx context.Context, runID string) (int64, string, error) {
	var job *int64
	var worker *string
	err := s.pool.QueryRow(ctx, `SELECT job_id, worker_id FROM wharf_runs WHERE id = $1`, runID).Scan(&job, &worker)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", staterun.NotFound("get", runID)
	}
	if err != nil {
		return 0, "", fmt.Errorf("get job of run %s: %w", runID, err)
	}
	var id int64
	var w string
	if job != nil {
		id = *job
	}
	if worker != nil {
		w = *worker
	}
	return id, w, nil
}

// JobRuns lists the runs of a River job, newest first.
func (s *Store) JobRuns(ctx context.Context, jobID int64) ([]staterun.Run, error) {
	runs, err := s.queryRuns(ctx, `SELECT `+runColumns+` FROM wharf_runs WHERE job_id = $1 ORDER BY started_at DESC, id DESC`, jobID)
	if err != nil {
		return nil, fmt.Errorf("list runs of job %d: %w", jobID, err)
	}
	return runs, nil
}

// OrphanRuns lists running runs whose worker is gone.
func (s *Store) OrphanRuns(ctx context.Context, before time.Time) ([]staterun.OrphanRun, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.id, r.workflow, r.worker_id, coalesce(r.job_id, 0), r.started_at
		FROM wharf_runs r LEFT JOIN wharf_workers w ON w.id = r.worker_id
		WHERE r.status = 'running' AND r.worker_id IS NOT NULL
		  AND (w.id IS NULL OR w.stopped_at IS NOT NULL OR w.heartbeat_at < $1)
		ORDER BY r.started_at, r.id`, staterun.Time(before))
	if err != nil {
		return nil, fmt.Errorf("list orphan runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (staterun.OrphanRun, error) {
		var o staterun.OrphanRun
		err := row.Scan(&o.RunID, &o.Workflow, &o.WorkerID, &o.JobID, &o.StartedAt)
		o.StartedAt = o.StartedAt.UTC()
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("list orphan runs: %w", err)
	}
	return out, nil
}

// AcquireLease takes one of limit slots of key for holder. The slot primary
// key keeps concurrent acquirers on other machines within limit.
func (s *Store) AcquireLease(ctx context.Context, key string, limit int, holder, workerID string, before time.Time) (bool, error) {
	if limit < 1 {
		return false, fmt.Errorf("acquire lease %s for %s: limit %d must be at least 1", key, holder, limit)
	}
	got := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM wharf_leases l WHERE l.lease_key = $1 AND (
				NOT EXISTS (SELECT 1 FROM wharf_workers w WHERE w.id = l.worker_id AND w.stopped_at IS NULL AND w.heartbeat_at >= $2))`,
			key, staterun.Time(before)); err != nil {
			return err
		}
		var held, total int
		if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE holder = $1), count(*) FROM wharf_leases WHERE lease_key = $2`,
			holder, key).Scan(&held, &total); err != nil {
			return err
		}
		if held > 0 {
			got = true
			return nil
		}
		if total >= limit {
			return nil
		}
		for slot := range limit {
			tag, err := tx.Exec(ctx, `INSERT INTO wharf_leases (lease_key, slot, holder, worker_id, acquired_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, key, slot, holder, workerID, nowUTC())
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				got = true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("acquire lease %s for %s: %w", key, holder, err)
	}
	return got, nil
}

// ReleaseLease frees the slot holder holds of key.
func (s *Store) ReleaseLease(ctx context.Context, key, holder string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM wharf_leases WHERE lease_key = $1 AND holder = $2`, key, holder); err != nil {
		return fmt.Errorf("release lease %s of %s: %w", key, holder, err)
	}
	return nil
}

// LastRuns returns each workflow's newest run and newest succeeded run.
func (s *Store) LastRuns(ctx context.Context) (map[string]staterun.LastRuns, error) {
	out := map[string]staterun.LastRuns{}
	for _, succeeded := range []bool{false, true} {
		where := ""
		if succeeded {
			where = ` WHERE status = 'succeeded'`
		}
		runs, err := s.queryRuns(ctx, `SELECT `+runColumns+` FROM (SELECT *, row_number() OVER (
			PARTITION BY workflow ORDER BY started_at DESC, id DESC) AS rn FROM wharf_runs`+where+`) t WHERE rn = 1`)
		if err != nil {
			return nil, fmt.Errorf("list last runs: %w", err)
		}
		for i := range runs {
			lr := out[runs[i].Workflow]
			if succeeded {
				lr.LastSucceeded = &runs[i]
			} else {
				lr.Last = &runs[i]
			}
			out[runs[i].Workflow] = lr
		}
	}
	return out, nil
}

// DeployedVersion fingerprints the deployed workflows' specs.
func (s *Store) DeployedVersion(ctx context.Context) (string, error) {
	var n, enabled int64
	var updated *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE enabled), max(updated_at) FROM wharf_workflows`).
		Scan(&n, &enabled, &updated); err != nil {
		return "", fmt.Errorf("read deployed version: %w", err)
	}
	return fmt.Sprintf("%d/%d/%d", n, enabled, utc(updated).UnixMicro()), nil
}
