package statepg

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/state/staterun"
)

// Enqueue inserts the job that will run a queued run, in the transaction
// that records the run. It returns the job's ID, or a non-empty skipReason
// when the job was not inserted because an equivalent one is active (the
// run is then recorded as skipped with that reason).
type Enqueue func(tx pgx.Tx) (jobID int64, skipReason string, err error)

// QueueRun records r as queued together with the job enqueue inserts, in
// one transaction: both or neither. When enqueue reports a skip, r is
// recorded as skipped instead. r is normalized in place (see
// Run.PrepareQueue).
func (s *Store) QueueRun(ctx context.Context, r *staterun.Run, enqueue Enqueue) error {
	c := *r
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		jobID, skip, err := enqueue(tx)
		if err != nil {
			return fmt.Errorf("queue run %s of workflow %s: enqueue: %w", c.ID, c.Workflow, err)
		}
		return insertQueued(ctx, tx, &c, jobID, skip)
	})
	if err != nil {
		return err
	}
	*r = c
	return nil
}

// insertQueued records c as queued with job jobID, or as skipped with
// reason skip, in tx; c is normalized in place (Run.PrepareQueue).
func insertQueued(ctx context.Context, tx pgx.Tx, c *staterun.Run, jobID int64, skip string) error {
	if err := c.PrepareQueue(nowUTC(), skip); err != nil {
		return err
	}
	var job *int64
	if skip == "" {
		job = &jobID
	}
	if _, err := tx.Exec(ctx, `INSERT INTO wharf_runs (`+runColumns+`, job_id)
		VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 0, NULL, NULL, NULL, NULL, false, $7, $8)`,
		c.ID, c.Workflow, c.Trigger, c.Status, c.StartedAt, nullTime(c.FinishedAt), c.Error, job); err != nil {
		return fmt.Errorf("queue run %s of workflow %s: %w", c.ID, c.Workflow, err)
	}
	return nil
}
