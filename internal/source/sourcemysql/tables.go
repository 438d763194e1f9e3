package sourcemysql

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/wharf-data/wharf/internal/source"
)

var _ source.TableLister = (*Source)(nil)

// tablesSQL lists the base tables of a database. The database comes back
// even when it has no table, so that an empty database is told from a
// missing one.
const tablesSQL = `
SELECT s.SCHEMA_NAME, t.TABLE_NAME
FROM information_schema.SCHEMATA s
LEFT JOIN information_schema.TABLES t
  ON t.TABLE_SCHEMA = s.SCHEMA_NAME AND t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
WHERE s.SCHEMA_NAME = ?`

// Tables lists the base tables of database schema ("" = the connection's
// database), sorted by name. Views are not listed.
func (s *Source) Tables(ctx context.Context, schema string) ([]source.TableRef, error) {
	if schema == "" {
		schema = s.database
	}
	if schema == "" {
		return nil, fmt.Errorf("mysql source %s: list tables: no database: name one (DATABASE.*) or set dbname in the connection's secret", s.where())
	}
	rows, err := s.db.QueryContext(ctx, tablesSQL, schema)
	if err != nil {
		return nil, fmt.Errorf("mysql source %s: list tables of database %s: %w", s.where(), schema, err)
	}
	defer rows.Close()
	var (
		out   []source.TableRef
		found bool
	)
	for rows.Next() {
		var db string
		var name sql.NullString
		if err := rows.Scan(&db, &name); err != nil {
			return nil, fmt.Errorf("mysql source %s: list tables of database %s: %w", s.where(), schema, err)
		}
		if db != schema {
			continue // information_schema compares names case-insensitively
		}
		found = true
		if name.Valid {
			out = append(out, source.TableRef{Schema: db, Name: name.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mysql source %s: list tables of database %s: %w", s.where(), schema, err)
	}
	if !found {
		return nil, fmt.Errorf("mysql source %s: list tables of database %s: no such database: %w", s.where(), schema, source.ErrNotFound)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
