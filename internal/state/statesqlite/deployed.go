package statesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wharf-data/wharf/internal/state/staterun"
)

const deployedColumns = `name, id, spec, spec_hash, enabled, created_at, updated_at, last_fire_at, next_fire_at`

// DeployedWorkflows lists every deployed workflow, ordered by name.
func (s *Store) DeployedWorkflows(ctx context.Context) ([]staterun.Deployed, error) {
	ds, err := s.queryDeployed(ctx, `SELECT `+deployedColumns+` FROM wharf_workflows ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list deployed workflows: %w", err)
	}
	return ds, nil
}

// DeployedWorkflow returns one deployed workflow, or an error wrapping
// ErrNotFound.
func (s *Store) DeployedWorkflow(ctx context.Context, name string) (*staterun.Deployed, error) {
	ds, err := s.queryDeployed(ctx, `SELECT `+deployedColumns+` FROM wharf_workflows WHERE name = ?`, name)
	if err != nil {
		return nil, fmt.Errorf("get deployed workflow %s: %w", name, err)
	}
	if len(ds) == 0 {
		return nil, staterun.DeployedNotFound("get", name)
	}
	return &ds[0], nil
}

// ApplyDeploy applies d in one transaction, all or nothing.
func (s *Store) ApplyDeploy(ctx context.Context, d staterun.DeployChanges) error {
	p, err := d.Prepare(time.Now())
	if err != nil {
		return err
	}
	if d.Empty() {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if d.Basis != nil {
			// The transaction holds the write lock (_txlock=immediate), so
			// no other deploy can change the workflows after this read.
			now, err := basisOf(ctx, tx)
			if err != nil {
				return err
			}
			if err := staterun.CheckBasis(d.Basis, now); err != nil {
				return err
			}
		}
		for _, name := range p.Delete {
			if err := deleteWorkflow(ctx, tx, name); err != nil {
				return err
			}
		}
		for _, name := range p.Disable {
			if err := expectOne(tx.ExecContext(ctx, `UPDATE wharf_workflows
				SET enabled = 0, updated_at = CASE WHEN enabled = 1 THEN ? ELSE updated_at END WHERE name = ?`,
				micros(nowUTC()), name)); err != nil {
				return deployError("disable", name, err)
			}
		}
		if len(p.Update) > 0 {
			upd, err := tx.PrepareContext(ctx, `UPDATE wharf_workflows
				SET spec = ?, spec_hash = ?, enabled = 1, updated_at = ? WHERE name = ?`)
			if err != nil {
				return fmt.Errorf("deploy: %w", err)
			}
			defer upd.Close()
			for _, w := range p.Update {
				if err := expectOne(upd.ExecContext(ctx, string(w.SpecJSON), w.SpecHash, micros(w.UpdatedAt), w.Name)); err != nil {
					return deployError("update", w.Name, err)
				}
			}
		}
		if len(p.Create) > 0 {
			ins, err := tx.PrepareContext(ctx, `INSERT INTO wharf_workflows (`+deployedColumns+`)
				VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)`)
			if err != nil {
				return fmt.Errorf("deploy: %w", err)
			}
			defer ins.Close()
			for _, w := range p.Create {
				_, err := ins.ExecContext(ctx, w.Name, w.ID, string(w.SpecJSON), w.SpecHash,
					micros(w.CreatedAt), micros(w.UpdatedAt), micros(w.LastFireAt), micros(w.NextFireAt))
				var se *sqlite.Error
				switch {
				case err == nil:
				case errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
					return fmt.Errorf("deploy: create workflow %s: %w", w.Name, staterun.ErrAlreadyDeployed)
				case errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE:
					return fmt.Errorf("deploy: create workflow %s: ID %s is used by another workflow", w.Name, w.ID)
				default:
					return fmt.Errorf("deploy: create workflow %s: %w", w.Name, err)
				}
			}
		}
		for _, name := range p.ResetWatermark {
			if _, err := tx.ExecContext(ctx, `DELETE FROM wharf_watermarks WHERE workflow = ?`, name); err != nil {
				return fmt.Errorf("deploy: reset watermark of workflow %s: %w", name, err)
			}
		}
		return nil
	})
}

// deleteWorkflow removes a deployed workflow with its watermark, files and
// runs.
func deleteWorkflow(ctx context.Context, tx *sql.Tx, name string) error {
	if err := expectOne(tx.ExecContext(ctx, `DELETE FROM wharf_workflows WHERE name = ?`, name)); err != nil {
		return deployError("delete", name, err)
	}
	for _, table := range []string{"wharf_watermarks", "wharf_files", "wharf_runs"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE workflow = ?`, name); err != nil {
			return fmt.Errorf("deploy: delete workflow %s: %s: %w", name, table, err)
		}
	}
	return nil
}

// SetFireTimes records a deployed workflow's last and next fire times.
func (s *Store) SetFireTimes(ctx context.Context, name string, last, next time.Time) error {
	err := expectOne(s.db.ExecContext(ctx, `UPDATE wharf_workflows SET last_fire_at = ?, next_fire_at = ? WHERE name = ?`,
		micros(staterun.Time(last)), micros(staterun.Time(next)), name))
	if errors.Is(err, errNoRow) {
		return staterun.DeployedNotFound("set fire times of", name)
	}
	if err != nil {
		return fmt.Errorf("set fire times of workflow %s: %w", name, err)
	}
	return nil
}

var errNoRow = errors.New("no row")

// expectOne turns an Exec result that changed no row into errNoRow.
func expectOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return errNoRow
	}
	return nil
}

func deployError(op, name string, err error) error {
	if errors.Is(err, errNoRow) {
		return fmt.Errorf("deploy: %w", staterun.DeployedNotFound(op, name))
	}
	return fmt.Errorf("deploy: %s workflow %s: %w", op, name, err)
}

func (s *Store) queryDeployed(ctx context.Context, q string, args ...any) ([]staterun.Deployed, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ds []staterun.Deployed
	for rows.Next() {
		var (
			d                  staterun.Deployed
			spec               string
			created, updated   int64
			lastFire, nextFire *int64
		)
		if err := rows.Scan(&d.Name, &d.ID, &spec, &d.SpecHash, &d.Enabled, &created, &updated, &lastFire, &nextFire); err != nil {
			return nil, err
		}
		if d.Spec, err = staterun.DecodeSpec("deployed workflow "+d.Name, []byte(spec)); err != nil {
			return nil, err
		}
		d.CreatedAt, d.UpdatedAt = fromMicros(&created), fromMicros(&updated)
		d.LastFireAt, d.NextFireAt = fromMicros(lastFire), fromMicros(nextFire)
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

// basisOf reads every deployed workflow's staterun.BasisKey.
func basisOf(ctx context.Context, tx *sql.Tx) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, spec_hash, enabled FROM wharf_workflows`)
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
