package statesqlite

import (
	"embed"
	"io/fs"

	"github.com/wharf-data/wharf/internal/state/migration"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the SQLite schema migrations this build knows.
func Migrations() ([]migration.Migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return migration.Load(sub)
}
