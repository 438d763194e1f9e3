package sourcepostgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

// querier is what describing needs: a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// liveTable is a table as the catalog describes it right now.
type liveTable struct {
	ref    source.TableRef // as asked
	schema string          // resolved schema
	name   string
	cols   []pgColumn
	// unsupported is the first column wharf cannot land, if any.
	unsupported *coltype.UnsupportedError
}

// ident is the quoted, schema-qualified table name.
func (t *liveTable) ident() string { return pgx.Identifier{t.schema, t.name}.Sanitize() }

// column returns the named column: exact match first, then case-insensitive
// (the rule of source.Table.Column).
func (t *liveTable) column(name string) *pgColumn {
	tbl := source.Table{Columns: make([]coltype.Column, len(t.cols))}
	for i := range t.cols {
		tbl.Columns[i] = t.cols[i].col
	}
	c := tbl.Column(name)
	if c == nil {
		return nil
	}
	for i := range t.cols {
		if t.cols[i].col.Name == c.Name {
			return &t.cols[i]
		}
	}
	return nil
}

// Describe reads a table's (or view's) columns from pg_catalog. An empty
// schema means current_schema().
func (s *Source) Describe(ctx context.Context, ref source.TableRef) (*source.Table, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	conn, err := s.connection(ctx)
	if err != nil {
		return nil, err
	}
	live, err := describe(ctx, conn, ref, s.opts.NumericScale)
	if err != nil {
		return nil, s.red.wrap(err)
	}
	if live.unsupported != nil {
		return nil, live.unsupported
	}
	t := &source.Table{Ref: ref, Columns: make([]coltype.Column, len(live.cols))}
	for i, c := range live.cols {
		t.Columns[i] = c.col
	}
	return t, nil
}

const relationSQL = `
SELECT c.oid, n.nspname, c.relname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = CASE WHEN $1 = '' THEN current_schema() ELSE $1 END
  AND c.relname = $2
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`

const columnsSQL = `
SELECT a.attname, a.attnotnull, a.atttypmod, pg_catalog.format_type(a.atttypid, a.atttypmod),
       t.oid, t.typtype, t.typname, tn.nspname, t.typcategory, t.typbasetype, t.typtypmod
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`

const typeSQL = `
SELECT t.oid, t.typtype, t.typname, tn.nspname, t.typcategory, t.typbasetype, t.typtypmod
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
WHERE t.oid = $1`

type rawColumn struct {
	name       string
	notNull    bool
	typmod     int32
	sourceType string
	typ        pgType
}

// describe reads ref's columns through q (a connection or a transaction).
func describe(ctx context.Context, q querier, ref source.TableRef, numericScale int) (*liveTable, error) {
	if ref.Name == "" {
		return nil, errors.New("describe: empty table name")
	}
	var relOID uint32
	live := &liveTable{ref: ref}
	err := q.QueryRow(ctx, relationSQL, ref.Schema, ref.Name).Scan(&relOID, &live.schema, &live.name)
	if errors.Is(err, pgx.ErrNoRows) {
		where := "current schema"
		if ref.Schema != "" {
			where = "schema " + ref.Schema
		}
		return nil, fmt.Errorf("table %s: no table or view %q in %s: %w", ref, ref.Name, where, source.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("table %s: look up table: %w", ref, err)
	}
	rows, err := q.Query(ctx, columnsSQL, relOID)
	if err != nil {
		return nil, fmt.Errorf("table %s: read columns: %w", ref, err)
	}
	raw, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rawColumn, error) {
		var c rawColumn
		err := r.Scan(&c.name, &c.notNull, &c.typmod, &c.sourceType,
			&c.typ.oid, &c.typ.typtype, &c.typ.name, &c.typ.namespace, &c.typ.category, &c.typ.baseOID, &c.typ.baseMod)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("table %s: read columns: %w", ref, err)
	}
	for _, rc := range raw {
		pc := pgColumn{
			col: coltype.Column{
				Name:       rc.name,
				Nullable:   !rc.notNull,
				SourceType: rc.sourceType,
			},
			castType: castName(rc.typ.namespace, rc.typ.name),
		}
		base, typmod, err := resolveDomain(ctx, q, rc.typ, rc.typmod)
		if err != nil {
			return nil, fmt.Errorf("table %s column %q: resolve domain %s: %w", ref, rc.name, rc.sourceType, err)
		}
		kind, w, p, sc, reason := mapType(base, typmod, numericScale)
		if kind == coltype.Invalid {
			if live.unsupported == nil {
				live.unsupported = &coltype.UnsupportedError{
					Table: ref.String(), Column: rc.name, SourceType: rc.sourceType, Reason: reason,
				}
			}
			continue
		}
		pc.col.Kind, pc.wire, pc.col.Precision, pc.col.Scale = kind, w, p, sc
		live.cols = append(live.cols, pc)
	}
	return live, nil
}

// resolveDomain follows a domain to its base type. A domain's own type
// modifier applies when the column has none.
func resolveDomain(ctx context.Context, q querier, t pgType, typmod int32) (pgType, int32, error) {
	for depth := 0; t.typtype == "d"; depth++ {
		if depth > 32 {
			return t, typmod, errors.New("domain nesting too deep")
		}
		if typmod < 0 {
			typmod = t.baseMod
		}
		var next pgType
		err := q.QueryRow(ctx, typeSQL, t.baseOID).Scan(&next.oid, &next.typtype, &next.name, &next.namespace, &next.category, &next.baseOID, &next.baseMod)
		if err != nil {
			return t, typmod, err
		}
		t = next
	}
	return t, typmod, nil
}
