package statepg

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/wharf-data/wharf/internal/state/riverq"
)

// River builds River's client (riverpgxv5) over the state pool, in the
// state tables' schema, and brings River's tables up to date; jobs are then
// inserted in the state's own pgx.Tx.
func (s *Store) River(ctx context.Context, cfg *river.Config, log *slog.Logger) (riverq.Client, error) {
	var schema string
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("river: read current schema: %w", err)
	}
	if !schemaRE.MatchString(schema) {
		schema = "" // River then uses search_path, as the state tables do
	}
	cfg.Schema = schema
	drv := riverpgxv5.New(s.pool)
	if err := s.migrateRiver(ctx, drv, schema, log); err != nil {
		return nil, err
	}
	return riverq.New(drv, cfg)
}

var schemaRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// migrateRiver runs River's migrations under an advisory lock: processes
// starting together migrate one after the other.
func (s *Store) migrateRiver(ctx context.Context, drv *riverpgxv5.Driver, schema string, log *slog.Logger) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("river: %w", err)
	}
	defer conn.Release()
	lockKey := "wharf_river_migrate:" + schema
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 0))`, lockKey); err != nil {
		return fmt.Errorf("river: lock migrations: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, lockKey) //nolint:errcheck
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: log, Schema: schema})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}
