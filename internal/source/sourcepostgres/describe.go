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
	// key are the primary key's columns (none for views and keyless tables),
	// named in errors about a row.
	key []string
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

// candidatesSQL lists the relations a missing name may have meant: those
// of the schemas named like the one asked for, ignoring case (PUBLIC.REGIONS
// for public.regions).
const candidatesSQL = `
SELECT n.nspname, c.relname
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE lower(n.nspname) = lower(CASE WHEN $1 = '' THEN current_schema() ELSE $1 END)
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY n.nspname, c.relname
LIMIT 10000`

const columnsSQL = `
SELECT a.attname, a.attnotnull, a.atttypmod, a.attndims, pg_catalog.format_type(a.atttypid, a.atttypmod),
       t.oid, t.typtype, t.typname, tn.nspname, t.typcategory, t.typbasetype, t.typtypmod, t.typelem, t.typrelid, t.typndims, t.typoutput::text
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`

const typeSQL = `
SELECT t.oid, t.typtype, t.typname, tn.nspname, t.typcategory, t.typbasetype, t.typtypmod, t.typelem, t.typrelid, t.typndims, t.typoutput::text
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
WHERE t.oid = $1`

const keySQL = `
SELECT a.attname
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = $1 AND i.indisprimary
ORDER BY array_position(i.indkey::int2[], a.attnum)`

type rawColumn struct {
	name       string
	notNull    bool
	typmod     int32
	ndims      int32
	sourceType string
	typ        pgType
}

// scanType scans the pg_type columns of typeSQL and columnsSQL, in order.
func (t *pgType) scanDest() []any {
	return []any{&t.oid, &t.typtype, &t.name, &t.namespace, &t.category, &t.baseOID, &t.baseMod, &t.elemOID, &t.relOID, &t.ndims, &t.output}
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
		hint := ""
		if rows, err := q.Query(ctx, candidatesSQL, ref.Schema); err == nil {
			if cands, err := pgx.CollectRows(rows, pgx.RowToStructByPos[source.TableRef]); err == nil {
				hint = source.DidYouMeanTable(ref, cands)
			}
		}
		return nil, fmt.Errorf("table %s: no table or view %q in %s%s: %w", ref, ref.Name, where, hint, source.ErrNotFound)
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
		err := r.Scan(append([]any{&c.name, &c.notNull, &c.typmod, &c.ndims, &c.sourceType}, c.typ.scanDest()...)...)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("table %s: read columns: %w", ref, err)
	}
	if rows, err = q.Query(ctx, keySQL, relOID); err == nil {
		live.key, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		return nil, fmt.Errorf("table %s: read primary key: %w", ref, err)
	}
	m := mapper{ctx: ctx, q: q, numericScale: numericScale}
	for _, rc := range raw {
		pc, err := m.mapValue(rc.typ, rc.typmod, rc.ndims)
		if err != nil {
			return nil, fmt.Errorf("table %s column %q (%s): %w", ref, rc.name, rc.sourceType, err)
		}
		pc.col.Name, pc.col.Nullable, pc.col.SourceType = rc.name, !rc.notNull, rc.sourceType
		pc.castType = castName(rc.typ.namespace, rc.typ.name)
		live.cols = append(live.cols, pc)
	}
	return live, nil
}

// mapper maps PostgreSQL types to landed columns, reading the catalog for
// domains, array elements and composite fields.
type mapper struct {
	ctx          context.Context
	q            querier
	numericScale int
	depth        int
}

const attributesSQL = `
SELECT a.attname, a.atttypmod, a.attndims, pg_catalog.format_type(a.atttypid, a.atttypmod),
       t.oid, t.typtype, t.typname, tn.nspname, t.typcategory, t.typbasetype, t.typtypmod, t.typelem, t.typrelid, t.typndims, t.typoutput::text
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`

// mapValue maps a value of type t with type modifier typmod and declared
// array dimensions ndims (0 = not declared). Every type maps: one without
// a binary decoding lands as a string through PostgreSQL's text output.
func (m *mapper) mapValue(t pgType, typmod, ndims int32) (pgColumn, error) {
	if m.depth > 32 {
		return pgColumn{}, errors.New("types nested too deep")
	}
	m.depth++
	defer func() { m.depth-- }()
	if t.typtype == "d" && ndims == 0 {
		ndims = t.ndims
	}
	base, typmod, err := resolveDomain(m.ctx, m.q, t, typmod)
	if err != nil {
		return pgColumn{}, fmt.Errorf("resolve domain %s: %w", t.name, err)
	}
	if c, w, ok := mapBase(base, typmod, m.numericScale); ok {
		return pgColumn{col: c, wire: w, output: base.output}, nil
	}
	switch {
	case base.category == "A" && base.elemOID != 0:
		var et pgType
		if err := m.q.QueryRow(m.ctx, typeSQL, base.elemOID).Scan(et.scanDest()...); err != nil {
			return pgColumn{}, fmt.Errorf("read element type of %s: %w", base.name, err)
		}
		elem, err := m.mapValue(et, typmod, 0)
		if err != nil {
			return pgColumn{}, err
		}
		textCast := ""
		if elem.textCast != "" {
			// text[] keeps the array's shape with each element cast to
			// text (the type's cast to text where it has one, else its
			// output function).
			elem, textCast = textColumn(et), "text[]"
		}
		elem.col.Name, elem.col.Nullable = "element", true
		dims := max(int(ndims), 1)
		col := elem.col
		for range dims {
			inner := col
			col = coltype.Column{Kind: coltype.List, Elem: &inner}
			col.Elem.Name, col.Elem.Nullable = "element", true
		}
		return pgColumn{col: col, wire: wireArray, dims: dims, elem: &elem, textCast: textCast, output: base.output}, nil
	case base.typtype == "c" && base.relOID != 0:
		rows, err := m.q.Query(m.ctx, attributesSQL, base.relOID)
		if err != nil {
			return pgColumn{}, fmt.Errorf("read fields of %s: %w", base.name, err)
		}
		raw, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rawColumn, error) {
			var c rawColumn
			err := r.Scan(append([]any{&c.name, &c.typmod, &c.ndims, &c.sourceType}, c.typ.scanDest()...)...)
			return c, err
		})
		if err != nil {
			return pgColumn{}, fmt.Errorf("read fields of %s: %w", base.name, err)
		}
		pc := pgColumn{col: coltype.Column{Kind: coltype.Struct}, wire: wireRecord}
		for _, rc := range raw {
			f, err := m.mapValue(rc.typ, rc.typmod, rc.ndims)
			if err != nil {
				return pgColumn{}, fmt.Errorf("field %s: %w", rc.name, err)
			}
			if f.textCast != "" {
				// A field landing through its text form cannot be cast
				// inside a record: the whole value lands as text.
				return textColumn(base), nil
			}
			f.col.Name, f.col.Nullable, f.col.SourceType = rc.name, true, rc.sourceType
			pc.fields = append(pc.fields, f)
			pc.col.Fields = append(pc.col.Fields, f.col)
		}
		if len(pc.fields) == 0 {
			return textColumn(base), nil
		}
		pc.output = base.output
		return pc, nil
	}
	return textColumn(base), nil
}

// textColumn is a value of type t landed as a string through its output
// function: PostgreSQL's own text form (a cast to text may differ: inet's
// adds the netmask, boolean's spells true).
func textColumn(t pgType) pgColumn {
	return pgColumn{col: coltype.Column{Kind: coltype.String}, wire: wireText, textCast: "text", output: t.output}
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
		err := q.QueryRow(ctx, typeSQL, t.baseOID).Scan(next.scanDest()...)
		if err != nil {
			return t, typmod, err
		}
		t = next
	}
	return t, typmod, nil
}

// DefaultSchema implements source.Qualifier: the schema a table named
// without one is read from (Describe's rule), the session's
// current_schema(), the first schema of its search_path that exists.
func (s *Source) DefaultSchema(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	conn, err := s.connection(ctx)
	if err != nil {
		return "", err
	}
	var schema *string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return "", s.red.wrap(err)
	}
	if schema == nil {
		return "", nil // no schema of the search_path exists
	}
	return *schema, nil
}
