package state

import (
	"context"
	"fmt"
	"time"
)

// DeployedWorkflows lists every deployed workflow, ordered by name (byte
// order, as Go sorts strings).
func (s *SQLStore) DeployedWorkflows(ctx context.Context) ([]Deployed, error) {
	ds, err := s.queryDeployed(ctx, s.q.DeployedAll)
	if err != nil {
		return nil, fmt.Errorf("list deployed workflows: %w", err)
	}
	return ds, nil
}

// DeployedWorkflow returns one deployed workflow, or an error wrapping
// ErrNotFound.
func (s *SQLStore) DeployedWorkflow(ctx context.Context, name string) (*Deployed, error) {
	ds, err := s.queryDeployed(ctx, s.q.DeployedOne, name)
	if err != nil {
		return nil, fmt.Errorf("get deployed workflow %s: %w", name, err)
	}
	if len(ds) == 0 {
		return nil, DeployedNotFound("get", name)
	}
	return &ds[0], nil
}

func (s *SQLStore) queryDeployed(ctx context.Context, q string, args ...any) ([]Deployed, error) {
	var ds []Deployed
	err := queryEach(ctx, s.d.Executor(), func(rows Rows) error {
		var d Deployed
		var spec string
		err := rows.Scan(&d.Name, &d.ID, &spec, &d.SpecHash, &d.Enabled, TimeDest(&d.CreatedAt), TimeDest(&d.UpdatedAt),
			TimeDest(&d.LastFireAt), TimeDest(&d.NextFireAt))
		d.Spec = []byte(spec)
		ds = append(ds, d)
		return err
	}, q, args...)
	return ds, err
}

// step is one statement of a deploy; mustHit means it must change a row
// (the workflow must be deployed).
type step struct {
	op, name string
	mustHit  bool
	sql      string
	args     []any
}

// ApplyDeploy applies d in one transaction, all or nothing.
func (s *SQLStore) ApplyDeploy(ctx context.Context, d DeployChanges) error {
	now := s.Now()
	p, err := d.Prepare(now)
	if err != nil {
		return err
	}
	if d.Empty() {
		return nil
	}
	var steps []step
	for _, name := range p.Delete {
		steps = append(steps, step{"delete", name, true, s.q.DeleteWorkflow, []any{name}})
		for _, q := range s.q.DeleteWorkflowRows {
			steps = append(steps, step{"delete", name, false, q, []any{name}})
		}
	}
	for _, name := range p.Disable {
		steps = append(steps, step{"disable", name, true, s.q.DisableWorkflow, []any{s.d.Time(now), name}})
	}
	for _, w := range p.Update {
		steps = append(steps, step{"update", w.Name, true, s.q.UpdateWorkflow,
			[]any{string(w.Spec), w.SpecHash, s.d.Time(w.UpdatedAt), w.Name}})
	}
	for _, w := range p.Create {
		steps = append(steps, step{"create", w.Name, false, s.q.InsertWorkflow,
			[]any{w.Name, w.ID, string(w.Spec), w.SpecHash, s.d.Time(w.CreatedAt), s.d.Time(w.UpdatedAt),
				s.d.Time(w.LastFireAt), s.d.Time(w.NextFireAt)}})
	}
	for _, name := range p.ResetWatermark {
		steps = append(steps, step{"reset watermark of", name, false, s.q.DeleteWatermark, []any{name}})
	}
	return s.inTx(ctx, func(tx Tx) error {
		if d.Basis != nil {
			if err := s.checkBasis(ctx, tx, d.Basis); err != nil {
				return err
			}
		}
		for _, st := range steps {
			n, err := tx.Exec(ctx, st.sql, st.args...)
			if err != nil {
				switch duplicateKey(s.d.InterpretError(err)) {
				case "wharf_workflows.name":
					return fmt.Errorf("deploy: %s workflow %s: %w", st.op, st.name, ErrAlreadyDeployed)
				case "wharf_workflows.id":
					return fmt.Errorf("deploy: %s workflow %s: its ID is used by another workflow", st.op, st.name)
				}
				return fmt.Errorf("deploy: %s workflow %s: %w", st.op, st.name, err)
			}
			if st.mustHit && n == 0 {
				return fmt.Errorf("deploy: %w", DeployedNotFound(st.op, st.name))
			}
		}
		return nil
	})
}

// checkBasis fails wrapping ErrDeployConflict when the deployed workflows
// differ from basis. With Queries.LockDeployed taken first (or a backend
// whose write transactions exclude each other), no other deploy changes
// them until this one commits.
func (s *SQLStore) checkBasis(ctx context.Context, tx Tx, basis map[string]string) error {
	if s.q.LockDeployed != "" {
		if _, err := tx.Exec(ctx, s.q.LockDeployed); err != nil {
			return fmt.Errorf("deploy: lock deployed workflows: %w", err)
		}
	}
	current := map[string]string{}
	err := queryEach(ctx, tx, func(rows Rows) error {
		var name, hash string
		var enabled bool
		err := rows.Scan(&name, &hash, &enabled)
		current[name] = BasisKey(hash, enabled)
		return err
	}, s.q.Basis)
	if err != nil {
		return fmt.Errorf("deploy: read deployed workflows: %w", err)
	}
	return CheckBasis(basis, current)
}

// SetFireTimes records a deployed workflow's last and next fire times.
func (s *SQLStore) SetFireTimes(ctx context.Context, name string, last, next time.Time) error {
	n, err := s.d.Executor().Exec(ctx, s.q.SetFireTimes, s.d.Time(Time(last)), s.d.Time(Time(next)), name)
	if err != nil {
		return fmt.Errorf("set fire times of workflow %s: %w", name, err)
	}
	if n == 0 {
		return DeployedNotFound("set fire times of", name)
	}
	return nil
}

// DeployedVersion fingerprints the deployed workflows' specs.
func (s *SQLStore) DeployedVersion(ctx context.Context) (string, error) {
	var n, enabled int64
	var updated time.Time
	err := queryEach(ctx, s.d.Executor(), func(rows Rows) error {
		return rows.Scan(&n, &enabled, TimeDest(&updated))
	}, s.q.DeployedVersion)
	if err != nil {
		return "", fmt.Errorf("read deployed version: %w", err)
	}
	var micros int64
	if !updated.IsZero() {
		micros = updated.UnixMicro()
	}
	return fmt.Sprintf("%d/%d/%d", n, enabled, micros), nil
}

// DueWorkflows lists the enabled deployed workflows whose next fire time is
// at or before at, by next fire time then name.
func (s *SQLStore) DueWorkflows(ctx context.Context, at time.Time) ([]Deployed, error) {
	ds, err := s.queryDeployed(ctx, s.q.DueWorkflows, s.d.Time(Time(at)))
	if err != nil {
		return nil, fmt.Errorf("list workflows due by %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	return ds, nil
}

// ClaimFires applies claims in one transaction and reports which took
// effect (see FireClaim).
func (s *SQLStore) ClaimFires(ctx context.Context, claims []FireClaim) ([]bool, error) {
	return s.QueueScheduled(ctx, claims, nil, nil)
}

// QueueScheduled takes fire times and queues the runs they start, in one
// transaction (see Queuer).
func (s *SQLStore) QueueScheduled(ctx context.Context, claims []FireClaim, runs []*Run, enqueue EnqueueMany) ([]bool, error) {
	var (
		took   []bool
		queued []*Run
	)
	err := s.inTx(ctx, func(tx Tx) error {
		took, queued = make([]bool, len(claims)), nil
		for i, c := range claims {
			n, err := tx.Exec(ctx, s.q.ClaimFire, s.d.Time(Time(c.Last)), s.d.Time(Time(c.Next)), c.Workflow, s.d.Time(Time(c.Expect)))
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
		jobIDs, skips, err := enqueue(tx.Native(), queued)
		if err != nil {
			return fmt.Errorf("queue %d scheduled runs: enqueue: %w", len(queued), err)
		}
		for i, c := range queued {
			if err := s.insertQueued(ctx, tx, c, jobIDs[i], skips[i]); err != nil {
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
