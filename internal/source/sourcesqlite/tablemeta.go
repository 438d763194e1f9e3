package sourcesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/wharf-data/wharf/internal/source"
)

// queryer is what *sql.DB and *sql.Tx share.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tableMeta is what SQLite says about a table or view.
type tableMeta struct {
	name         string // as stored in the schema
	typ          string // table, view, virtual
	withoutRowid bool
	cols         []columnMeta
}

type columnMeta struct {
	name    string
	decl    string // declared type as written
	notNull bool
	pk      int // 1-based position in the primary key, 0 if not in it
}

// readTableMeta finds ref in the main database (exact name first, then
// SQLite's case-insensitive match) and reads its columns.
func readTableMeta(ctx context.Context, q queryer, dbName string, ref source.TableRef) (*tableMeta, error) {
	if ref.Schema != "" && !strings.EqualFold(ref.Schema, "main") {
		return nil, fmt.Errorf("sqlite %s: table %s: schema %q %w (a SQLite file has only the schema main)",
			dbName, ref, ref.Schema, source.ErrNotFound)
	}
	if ref.Name == "" {
		return nil, fmt.Errorf("sqlite %s: empty table name", dbName)
	}
	var m tableMeta
	var wr int
	err := q.QueryRowContext(ctx, `SELECT name, type, wr FROM pragma_table_list
		WHERE schema = 'main' AND type IN ('table', 'view', 'virtual') AND name = ?1 COLLATE NOCASE
		ORDER BY name = ?1 DESC LIMIT 1`, ref.Name).Scan(&m.name, &m.typ, &wr)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite %s: table %s %w%s", dbName, ref, source.ErrNotFound, didYouMean(ctx, q, ref))
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: table %s: %w", dbName, ref, err)
	}
	m.withoutRowid = wr != 0
	rows, err := q.QueryContext(ctx, `SELECT name, type, "notnull", pk, hidden
		FROM pragma_table_xinfo(?, 'main') ORDER BY cid`, m.name)
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: table %s: read columns: %w", dbName, ref, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c columnMeta
		var hidden int
		if err := rows.Scan(&c.name, &c.decl, &c.notNull, &c.pk, &hidden); err != nil {
			return nil, fmt.Errorf("sqlite %s: table %s: read columns: %w", dbName, ref, err)
		}
		if hidden == 1 { // hidden column of a virtual table; 2 and 3 are generated columns
			continue
		}
		m.cols = append(m.cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite %s: table %s: read columns: %w", dbName, ref, err)
	}
	if len(m.cols) == 0 {
		return nil, fmt.Errorf("sqlite %s: table %s has no columns", dbName, ref)
	}
	return &m, nil
}

// hasRowid reports an ordinary rowid table.
func (m *tableMeta) hasRowid() bool { return m.typ == "table" && !m.withoutRowid }

// pkColumns are the primary-key columns in key order.
func (m *tableMeta) pkColumns() []columnMeta {
	var pk []columnMeta
	for i := 1; ; i++ {
		found := false
		for _, c := range m.cols {
			if c.pk == i {
				pk = append(pk, c)
				found = true
			}
		}
		if !found {
			return pk
		}
	}
}

// pkNotNull reports a primary-key column SQLite keeps NOT NULL without the
// constraint being declared: the INTEGER PRIMARY KEY of a rowid table (an
// alias of the rowid) and every key column of a WITHOUT ROWID table. Other
// primary-key columns of rowid tables may hold NULL in SQLite.
func (m *tableMeta) pkNotNull(c columnMeta) bool {
	if c.pk == 0 || m.typ != "table" {
		return false
	}
	if m.withoutRowid {
		return true
	}
	return len(m.pkColumns()) == 1 && strings.EqualFold(strings.TrimSpace(c.decl), "INTEGER")
}

// rowidAlias returns a name that reads the rowid of a rowid table: rowid,
// _rowid_ or oid, whichever no column shadows; "" if all are taken.
func (m *tableMeta) rowidAlias() string {
	if !m.hasRowid() {
		return ""
	}
next:
	for _, a := range []string{"_rowid_", "rowid", "oid"} {
		for _, c := range m.cols {
			if strings.EqualFold(c.name, a) {
				continue next
			}
		}
		return a
	}
	return ""
}

// column finds a column by exact name, then case-insensitively.
func (m *tableMeta) column(name string) (columnMeta, bool) {
	for _, c := range m.cols {
		if c.name == name {
			return c, true
		}
	}
	for _, c := range m.cols {
		if strings.EqualFold(c.name, name) {
			return c, true
		}
	}
	return columnMeta{}, false
}

// didYouMean names the table or view a missing ref most likely meant, or "".
func didYouMean(ctx context.Context, q queryer, ref source.TableRef) string {
	rows, err := q.QueryContext(ctx, `SELECT name FROM pragma_table_list
		WHERE schema = 'main' AND type IN ('table', 'view', 'virtual') ORDER BY name LIMIT 10000`)
	if err != nil {
		return ""
	}
	defer rows.Close()
	var cands []source.TableRef
	for rows.Next() {
		c := source.TableRef{Schema: "main"}
		if rows.Scan(&c.Name) != nil {
			return ""
		}
		cands = append(cands, c)
	}
	return source.DidYouMeanTable(ref, cands)
}
