package statesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/wharf-data/wharf/internal/state/staterun"
)

// DueWorkflows lists the enabled deployed workflows whose next fire time is
// at or before at, by next fire time then name.
func (s *Store) DueWorkflows(ctx context.Context, at time.Time) ([]staterun.Deployed, error) {
	ds, err := s.queryDeployed(ctx, `SELECT `+deployedColumns+` FROM wharf_workflows
		WHERE enabled = 1 AND next_fire_at IS NOT NULL AND next_fire_at <= ? ORDER BY next_fire_at, name`,
		micros(staterun.Time(at)))
	if err != nil {
		return nil, fmt.Errorf("list workflows due by %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	return ds, nil
}

// ClaimFires applies claims in one transaction and reports which took
// effect (see FireClaim).
func (s *Store) ClaimFires(ctx context.Context, claims []staterun.FireClaim) ([]bool, error) {
	return s.QueueScheduled(ctx, claims, nil, nil)
}

// EnqueueMany inserts the jobs of queued runs, in the transaction that
// records them: per run, its job's ID or a non-empty skip reason (see
// Enqueue).
type EnqueueMany func(tx *sql.Tx, runs []*staterun.Run) (jobIDs []int64, skipReasons []string, err error)

// QueueScheduled takes fire times and queues the runs they start, in one
// transaction: it applies each claim, then hands the runs of the claims
// that took effect (runs[i] for claims[i]; nil = move the fire times only)
// to enqueue, and records each as queued or skipped like QueueRun. It
// returns which claims took effect; the runs recorded are normalized in
// place.
func (s *Store) QueueScheduled(ctx context.Context, claims []staterun.FireClaim, runs []*staterun.Run, enqueue EnqueueMany) ([]bool, error) {
	var (
		took   []bool
		queued []*staterun.Run
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		took, queued = make([]bool, len(claims)), nil
		stmt, err := tx.PrepareContext(ctx, `UPDATE wharf_workflows SET last_fire_at = ?, next_fire_at = ?
			WHERE name = ? AND next_fire_at IS ?`)
		if err != nil {
			return fmt.Errorf("claim fire times: %w", err)
		}
		defer stmt.Close()
		for i, c := range claims {
			res, err := stmt.ExecContext(ctx, micros(staterun.Time(c.Last)), micros(staterun.Time(c.Next)),
				c.Workflow, micros(staterun.Time(c.Expect)))
			if err != nil {
				return fmt.Errorf("claim fire time of workflow %s: %w", c.Workflow, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("claim fire time of workflow %s: %w", c.Workflow, err)
			}
			took[i] = n == 1
			if took[i] && i < len(runs) && runs[i] != nil {
				c := *runs[i]
				queued = append(queued, &c)
			}
		}
		if len(queued) == 0 {
			return nil
		}
		jobIDs, skips, err := enqueue(tx, queued)
		if err != nil {
			return fmt.Errorf("queue %d scheduled runs: enqueue: %w", len(queued), err)
		}
		for i, c := range queued {
			if err := insertQueued(ctx, tx, c, jobIDs[i], skips[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	k := 0
	for i := range claims {
		if took[i] && i < len(runs) && runs[i] != nil {
			*runs[i] = *queued[k]
			k++
		}
	}
	return took, nil
}
