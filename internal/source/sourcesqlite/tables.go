package sourcesqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/wharf-data/wharf/internal/source"
)

var _ source.TableLister = (*Source)(nil)

// Tables lists the tables of the file's schema main ("" or "main"), sorted
// by name. Views, virtual tables and SQLite's own sqlite_* tables are not
// listed.
func (s *Source) Tables(ctx context.Context, schema string) ([]source.TableRef, error) {
	if schema != "" && !strings.EqualFold(schema, "main") {
		return nil, fmt.Errorf("sqlite %s: list tables of schema %q: %w (a SQLite file has only the schema main)",
			s.name, schema, source.ErrNotFound)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM pragma_table_list
		WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
		ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: list tables: %w", s.name, err)
	}
	defer rows.Close()
	var out []source.TableRef
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("sqlite %s: list tables: %w", s.name, err)
		}
		out = append(out, source.TableRef{Schema: "main", Name: name})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite %s: list tables: %w", s.name, err)
	}
	return out, nil
}
