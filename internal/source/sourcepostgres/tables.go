package sourcepostgres

import (
	"context"
	"fmt"

	"github.com/wharf-data/wharf/internal/source"
)

var _ source.TableLister = (*Source)(nil)

// tablesSQL lists ordinary and partitioned tables (not the partitions of
// one: they land through their parent) of a schema, "" = current_schema().
// The schema comes back even when no table is in it, so that an empty
// schema is told from a missing one.
const tablesSQL = `
SELECT n.nspname, c.relname
FROM pg_catalog.pg_namespace n
LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p') AND NOT c.relispartition
WHERE n.nspname = CASE WHEN $1 = '' THEN current_schema() ELSE $1 END
ORDER BY c.relname COLLATE "C"`

// Tables lists the tables of schema ("" = current_schema()), sorted by
// name. Views, materialized views, foreign tables and partitions are not
// listed.
func (s *Source) Tables(ctx context.Context, schema string) ([]source.TableRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	conn, err := s.connection(ctx)
	if err != nil {
		return nil, err
	}
	where := "the current schema"
	if schema != "" {
		where = "schema " + schema
	}
	rows, err := conn.Query(ctx, tablesSQL, schema)
	if err != nil {
		return nil, s.red.wrap(fmt.Errorf("postgres source %s: list tables of %s: %w", s.where(), where, err))
	}
	var (
		out   []source.TableRef
		found bool
	)
	for rows.Next() {
		var nsp string
		var name *string
		if err := rows.Scan(&nsp, &name); err != nil {
			rows.Close()
			return nil, s.red.wrap(fmt.Errorf("postgres source %s: list tables of %s: %w", s.where(), where, err))
		}
		found = true
		if name != nil {
			out = append(out, source.TableRef{Schema: nsp, Name: *name})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.red.wrap(fmt.Errorf("postgres source %s: list tables of %s: %w", s.where(), where, err))
	}
	if !found {
		return nil, fmt.Errorf("postgres source database %s: list tables of %s: no such schema: %w", s.database, where, source.ErrNotFound)
	}
	return out, nil
}
