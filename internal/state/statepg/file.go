package statepg

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/state/staterun"
)

// Files lists the files a run landed, by creation time then path.
func (s *Store) Files(ctx context.Context, runID string) ([]staterun.File, error) {
	var one int
	err := s.pool.QueryRow(ctx, `SELECT 1 FROM wharf_runs WHERE id = $1`, runID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, staterun.NotFound("list files of", runID)
	}
	if err != nil {
		return nil, fmt.Errorf("list files of run %s: %w", runID, err)
	}
	rows, err := s.pool.Query(ctx, `SELECT run_id, workflow, path, row_count, byte_count, created_at
		FROM wharf_files WHERE run_id = $1 ORDER BY created_at, path`, runID)
	if err != nil {
		return nil, fmt.Errorf("list files of run %s: %w", runID, err)
	}
	defer rows.Close()
	var files []staterun.File
	for rows.Next() {
		var (
			f       staterun.File
			created time.Time
		)
		if err := rows.Scan(&f.RunID, &f.Workflow, &f.Path, &f.Rows, &f.Bytes, &created); err != nil {
			return nil, fmt.Errorf("list files of run %s: %w", runID, err)
		}
		f.CreatedAt = created.UTC()
		files = append(files, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list files of run %s: %w", runID, err)
	}
	return files, nil
}
