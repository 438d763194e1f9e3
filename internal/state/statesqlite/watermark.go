package statesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/state/staterun"
)

// Watermark returns the committed watermark of a workflow and its cursor
// column; (nil, "", nil) when there is none.
func (s *Store) Watermark(ctx context.Context, workflow string) (*coltype.Watermark, string, error) {
	var cursor, kind, text string
	err := s.db.QueryRowContext(ctx, `SELECT cursor_column, kind, watermark FROM wharf_watermarks WHERE workflow = ?`,
		workflow).Scan(&cursor, &kind, &text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read watermark of workflow %s: %w", workflow, err)
	}
	wm, err := staterun.DecodeWatermark("watermark of workflow "+workflow, &kind, &text)
	if err != nil {
		return nil, "", err
	}
	return wm, cursor, nil
}

// ResetWatermark forgets a workflow's watermark.
func (s *Store) ResetWatermark(ctx context.Context, workflow string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM wharf_watermarks WHERE workflow = ?`, workflow); err != nil {
		return fmt.Errorf("reset watermark of workflow %s: %w", workflow, err)
	}
	return nil
}
