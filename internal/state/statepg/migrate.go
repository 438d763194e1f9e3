package statepg

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/state/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the PostgreSQL schema migrations this build knows.
func Migrations() ([]migration.Migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return migration.Load(sub)
}

// migrate applies pending migrations in one transaction that first takes a
// transaction-scoped advisory lock keyed by the current schema, so that
// concurrent Opens (on any machine) migrate one after the other and each
// migration runs once.
func (s *Store) migrate(ctx context.Context) error {
	all, err := Migrations()
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('`+migration.Table+`:' || coalesce(current_schema(), ''), 0))`); err != nil {
			return fmt.Errorf("lock %s: %w", migration.Table, err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+migration.Table+` (
    version    integer     NOT NULL PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
			return fmt.Errorf("create %s: %w", migration.Table, err)
		}
		rows, err := tx.Query(ctx, `SELECT version FROM `+migration.Table+` ORDER BY version`)
		if err != nil {
			return fmt.Errorf("read %s: %w", migration.Table, err)
		}
		applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return fmt.Errorf("read %s: %w", migration.Table, err)
		}
		pending, err := migration.Pending(all, applied)
		if err != nil {
			return err
		}
		for _, m := range pending {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+migration.Table+` (version, name) VALUES ($1, $2)`,
				m.Version, m.Name); err != nil {
				return fmt.Errorf("record migration %04d_%s: %w", m.Version, m.Name, err)
			}
		}
		return nil
	})
}
