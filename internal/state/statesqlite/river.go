package statesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/wharf-data/wharf/internal/state/riverq"
)

// River builds River's client (riversqlite) over the state file and brings
// River's tables in it up to date; jobs are then inserted in the state's
// own *sql.Tx.
func (s *Store) River(ctx context.Context, cfg *river.Config, log *slog.Logger) (riverq.Client, error) {
	drv := riversqlite.New(s.db)
	if err := migrateRiver(ctx, s.db, drv, log); err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	// riversqlite emulates LISTEN/NOTIFY by polling a notification table
	// every 50 ms, which costs an idle serve more CPU than polling for jobs
	// every PollInterval: poll only.
	cfg.PollOnly = true
	return riverq.New(drv, cfg)
}

// migrateRiver runs River's migrations in one transaction. Processes
// starting together migrate one after the other: the transaction is BEGIN
// IMMEDIATE (DSN's _txlock), which takes SQLite's write lock first.
func migrateRiver(ctx context.Context, db *sql.DB, drv *riversqlite.Driver, log *slog.Logger) error {
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: log})
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
