package state

import (
	"context"
	"fmt"
	"time"
)

// Heartbeat records that w is alive now.
func (s *SQLStore) Heartbeat(ctx context.Context, w *Worker) error {
	c := *w
	if err := c.Check(s.Now()); err != nil {
		return err
	}
	if _, err := s.d.Executor().Exec(ctx, s.q.Heartbeat, c.ID, c.Host, c.PID, c.Role,
		s.d.Time(c.StartedAt), s.d.Time(c.HeartbeatAt), s.d.Time(c.DeadAt())); err != nil {
		return fmt.Errorf("heartbeat of worker %s: %w", c.ID, err)
	}
	*w = c
	return nil
}

// WorkerStopped records a clean exit.
func (s *SQLStore) WorkerStopped(ctx context.Context, id string) error {
	if _, err := s.d.Executor().Exec(ctx, s.q.WorkerStopped, s.d.Time(s.Now()), id); err != nil {
		return fmt.Errorf("record stop of worker %s: %w", id, err)
	}
	return nil
}

// Workers lists every known process, newest heartbeat first.
func (s *SQLStore) Workers(ctx context.Context) ([]Worker, error) {
	var out []Worker
	err := queryEach(ctx, s.d.Executor(), func(rows Rows) error {
		var w Worker
		var deadAt time.Time
		err := rows.Scan(&w.ID, &w.Host, &w.PID, &w.Role, TimeDest(&w.StartedAt), TimeDest(&w.HeartbeatAt), TimeDest(&w.StoppedAt), TimeDest(&deadAt))
		w.DeadAfter = deadAt.Sub(w.HeartbeatAt)
		out = append(out, w)
		return err
	}, s.q.Workers)
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	return out, nil
}

// ForgetWorkers deletes processes gone since before that hold no running run.
func (s *SQLStore) ForgetWorkers(ctx context.Context, before time.Time) (int, error) {
	n, err := s.d.Executor().Exec(ctx, s.q.ForgetWorkers, s.d.Time(Time(before)))
	if err != nil {
		return 0, fmt.Errorf("forget workers: %w", err)
	}
	return int(n), nil
}

// RunJob returns the River job and the worker of a run.
func (s *SQLStore) RunJob(ctx context.Context, runID string) (int64, string, error) {
	var job *int64
	var worker *string
	found := false
	err := queryEach(ctx, s.d.Executor(), func(rows Rows) error {
		found = true
		return rows.Scan(&job, &worker)
	}, s.q.RunJob, runID)
	if err != nil {
		return 0, "", fmt.Errorf("get job of run %s: %w", runID, err)
	}
	if !found {
		return 0, "", NotFound("get", runID)
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
func (s *SQLStore) JobRuns(ctx context.Context, jobID int64) ([]Run, error) {
	runs, err := s.queryRuns(ctx, s.q.JobRuns, jobID)
	if err != nil {
		return nil, fmt.Errorf("list runs of job %d: %w", jobID, err)
	}
	return runs, nil
}

// OrphanRuns lists running runs whose worker is not alive at now.
func (s *SQLStore) OrphanRuns(ctx context.Context, now time.Time) ([]OrphanRun, error) {
	var out []OrphanRun
	err := queryEach(ctx, s.d.Executor(), func(rows Rows) error {
		var o OrphanRun
		err := rows.Scan(&o.RunID, &o.Workflow, &o.WorkerID, &o.JobID, TimeDest(&o.StartedAt))
		out = append(out, o)
		return err
	}, s.q.OrphanRuns, s.d.Time(Time(now)))
	if err != nil {
		return nil, fmt.Errorf("list orphan runs: %w", err)
	}
	return out, nil
}

// AcquireLease takes one of limit slots of key for holder. The slot primary
// key keeps concurrent acquirers on other machines within limit.
func (s *SQLStore) AcquireLease(ctx context.Context, key string, limit int, holder, workerID string, now time.Time) (bool, error) {
	if limit < 1 {
		return false, fmt.Errorf("acquire lease %s for %s: limit %d must be at least 1", key, holder, limit)
	}
	got := false
	err := s.inTx(ctx, func(tx Tx) error {
		if _, err := tx.Exec(ctx, s.q.FreeDeadLeases, s.d.Time(Time(now))); err != nil {
			return err
		}
		var held, total int
		if err := queryEach(ctx, tx, func(rows Rows) error { return rows.Scan(&held, &total) }, s.q.CountLeases, holder, key); err != nil {
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
			n, err := tx.Exec(ctx, s.q.InsertLease, key, slot, holder, workerID, s.d.Time(s.Now()))
			if err != nil {
				return err
			}
			if n == 1 {
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

// FreeDeadLeases frees every slot held on a worker not alive at now.
func (s *SQLStore) FreeDeadLeases(ctx context.Context, now time.Time) (int, error) {
	n, err := s.d.Executor().Exec(ctx, s.q.FreeDeadLeases, s.d.Time(Time(now)))
	if err != nil {
		return 0, fmt.Errorf("free the slots of dead processes: %w", err)
	}
	return int(n), nil
}

// ReleaseLease frees the slot holder holds of key.
func (s *SQLStore) ReleaseLease(ctx context.Context, key, holder string) error {
	if _, err := s.d.Executor().Exec(ctx, s.q.ReleaseLease, key, holder); err != nil {
		return fmt.Errorf("release lease %s of %s: %w", key, holder, err)
	}
	return nil
}

// LastRuns returns each workflow's newest run and newest succeeded run.
func (s *SQLStore) LastRuns(ctx context.Context) (map[string]LastRuns, error) {
	out := map[string]LastRuns{}
	for _, succeeded := range []bool{false, true} {
		q := s.q.LastRuns
		if succeeded {
			q = s.q.LastSucceededRuns
		}
		runs, err := s.queryRuns(ctx, q)
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

// UnsettledRuns returns the newest limit runs of each workflow whose newest
// run did not succeed, newest first. The SQL is the same on both backends
// (window functions), so it is written here once.
func (s *SQLStore) UnsettledRuns(ctx context.Context, limit int) (map[string][]Run, error) {
	q := `SELECT ` + s.q.RunColumns + ` FROM (SELECT *, row_number() OVER w AS rn, first_value(status) OVER w AS newest
		FROM wharf_runs WINDOW w AS (PARTITION BY workflow ORDER BY started_at DESC, id DESC)) t
		WHERE newest <> 'succeeded' AND rn <= ` + s.d.Param(1) + ` ORDER BY workflow, started_at DESC, id DESC`
	runs, err := s.queryRuns(ctx, q, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs since the last success: %w", err)
	}
	out := map[string][]Run{}
	for _, r := range runs {
		out[r.Workflow] = append(out[r.Workflow], r)
	}
	return out, nil
}
