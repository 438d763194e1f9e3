package statepg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wharf-data/wharf/internal/state/staterun"
)

const deployedColumns = `name, id, spec, spec_hash, enabled, created_at, updated_at, last_fire_at, next_fire_at`

// DeployedWorkflows lists every deployed workflow, ordered by name (byte
// order, as Go sorts strings).
func (s *Store) DeployedWorkflows(ctx context.Context) ([]staterun.Deployed, error) {
	ds, err := s.queryDeployed(ctx, `SELECT `+deployedColumns+` FROM wharf_workflows ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("list deployed workflows: %w", err)
	}
	return ds, nil
}

// DeployedWorkflow returns one deployed workflow, or an error wrapping
// ErrNotFound.
func (s *Store) DeployedWorkflow(ctx context.Context, name string) (*staterun.Deployed, error) {
	ds, err := s.queryDeployed(ctx, `SELECT `+deployedColumns+` FROM wharf_workflows WHERE name = $1`, name)
	if err != nil {
		return nil, fmt.Errorf("get deployed workflow %s: %w", name, err)
	}
	if len(ds) == 0 {
		return nil, staterun.DeployedNotFound("get", name)
	}
	return &ds[0], nil
}

// ApplyDeploy applies d in one transaction, all or nothing. The statements
// go in one pipelined batch per kind of change.
func (s *Store) ApplyDeploy(ctx context.Context, d staterun.DeployChanges) error {
	p, err := d.Prepare(time.Now())
	if err != nil {
		return err
	}
	if d.Empty() {
		return nil
	}
	now := nowUTC()
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if d.Basis != nil {
			// Deploys take this lock in turn (it conflicts with itself), so
			// no other deploy changes the workflows after the read below.
			if _, err := tx.Exec(ctx, `LOCK TABLE wharf_workflows IN SHARE ROW EXCLUSIVE MODE`); err != nil {
				return fmt.Errorf("deploy: lock deployed workflows: %w", err)
			}
			current, err := basisOf(ctx, tx)
			if err != nil {
				return err
			}
			if err := staterun.CheckBasis(d.Basis, current); err != nil {
				return err
			}
		}
		var steps []step
		for _, name := range p.Delete {
			steps = append(steps,
				step{"delete", name, true, `DELETE FROM wharf_workflows WHERE name = $1`, []any{name}},
				step{"delete", name, false, `DELETE FROM wharf_watermarks WHERE workflow = $1`, []any{name}},
				step{"delete", name, false, `DELETE FROM wharf_files WHERE workflow = $1`, []any{name}},
				step{"delete", name, false, `DELETE FROM wharf_runs WHERE workflow = $1`, []any{name}})
		}
		for _, name := range p.Disable {
			steps = append(steps, step{"disable", name, true, `UPDATE wharf_workflows
				SET enabled = false, updated_at = CASE WHEN enabled THEN $1 ELSE updated_at END WHERE name = $2`,
				[]any{now, name}})
		}
		for _, w := range p.Update {
			steps = append(steps, step{"update", w.Name, true, `UPDATE wharf_workflows
				SET spec = $1, spec_hash = $2, enabled = true, updated_at = $3 WHERE name = $4`,
				[]any{string(w.SpecJSON), w.SpecHash, w.UpdatedAt, w.Name}})
		}
		for _, w := range p.Create {
			steps = append(steps, step{"create", w.Name, false, `INSERT INTO wharf_workflows (` + deployedColumns + `)
				VALUES ($1, $2, $3, $4, true, $5, $6, $7, $8)`,
				[]any{w.Name, w.ID, string(w.SpecJSON), w.SpecHash, w.CreatedAt, w.UpdatedAt,
					nullTime(w.LastFireAt), nullTime(w.NextFireAt)}})
		}
		for _, name := range p.ResetWatermark {
			steps = append(steps, step{"reset watermark of", name, false,
				`DELETE FROM wharf_watermarks WHERE workflow = $1`, []any{name}})
		}
		return runSteps(ctx, tx, steps)
	})
}

// step is one statement of a deploy; mustHit means it must change a row
// (the workflow must be deployed).
type step struct {
	op, name string
	mustHit  bool
	sql      string
	args     []any
}

func runSteps(ctx context.Context, tx pgx.Tx, steps []step) error {
	b := &pgx.Batch{}
	for _, st := range steps {
		b.Queue(st.sql, st.args...)
	}
	br := tx.SendBatch(ctx, b)
	for _, st := range steps {
		tag, err := br.Exec()
		if err == nil && st.mustHit && tag.RowsAffected() == 0 {
			br.Close()
			return fmt.Errorf("deploy: %w", staterun.DeployedNotFound(st.op, st.name))
		}
		if err != nil {
			br.Close()
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "wharf_workflows_pkey" {
				return fmt.Errorf("deploy: %s workflow %s: %w", st.op, st.name, staterun.ErrAlreadyDeployed)
			}
			if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "wharf_workflows_id_key" {
				return fmt.Errorf("deploy: %s workflow %s: its ID is used by another workflow", st.op, st.name)
			}
			return fmt.Errorf("deploy: %s workflow %s: %w", st.op, st.name, err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("deploy: %w", err)
	}
	return nil
}

// SetFireTimes records a deployed workflow's last and next fire times.
func (s *Store) SetFireTimes(ctx context.Context, name string, last, next time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE wharf_workflows SET last_fire_at = $1, next_fire_at = $2 WHERE name = $3`,
		nullTime(staterun.Time(last)), nullTime(staterun.Time(next)), name)
	if err != nil {
		return fmt.Errorf("set fire times of workflow %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return staterun.DeployedNotFound("set fire times of", name)
	}
	return nil
}

func (s *Store) queryDeployed(ctx context.Context, q string, args ...any) ([]staterun.Deployed, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ds []staterun.Deployed
	for rows.Next() {
		var (
			d                  staterun.Deployed
			spec               []byte
			lastFire, nextFire *time.Time
		)
		if err := rows.Scan(&d.Name, &d.ID, &spec, &d.SpecHash, &d.Enabled, &d.CreatedAt, &d.UpdatedAt, &lastFire, &nextFire); err != nil {
			return nil, err
		}
		if d.Spec, err = staterun.DecodeSpec("deployed workflow "+d.Name, spec); err != nil {
			return nil, err
		}
		d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
		d.LastFireAt, d.NextFireAt = utc(lastFire), utc(nextFire)
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

// basisOf reads every deployed workflow's staterun.BasisKey.
func basisOf(ctx context.Context, tx pgx.Tx) (map[string]string, error) {
	rows, err := tx.Query(ctx, `SELECT name, spec_hash, enabled FROM wharf_workflows`)
	if err != nil {
		return nil, fmt.Errorf("deploy: read deployed workflows: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, hash string
		var enabled bool
		if err := rows.Scan(&name, &hash, &enabled); err != nil {
			return nil, fmt.Errorf("deploy: read deployed workflows: %w", err)
		}
		out[name] = staterun.BasisKey(hash, enabled)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deploy: read deployed workflows: %w", err)
	}
	return out, nil
}
