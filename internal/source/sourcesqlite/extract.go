package sourcesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

// Extract streams the window's rows as Arrow records. max(cursor) and the
// rows are read in one read transaction, so they come from one snapshot.
func (s *Source) Extract(ctx context.Context, req source.Request, sink source.RecordSink) (source.Result, error) {
	if req.Table == nil || len(req.Table.Columns) == 0 {
		return source.Result{}, fmt.Errorf("sqlite %s: extract needs a described table", s.name)
	}
	ref := req.Table.Ref
	if req.After != nil && req.Cursor == "" {
		return source.Result{}, fmt.Errorf("sqlite %s: table %s: a watermark (After) needs a cursor column", s.name, ref)
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return source.Result{}, fmt.Errorf("sqlite %s: table %s: begin: %w", s.name, ref, err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only; Commit below reports errors

	res, err := s.extract(ctx, tx, req, sink)
	if err != nil {
		return source.Result{}, err
	}
	if err := tx.Commit(); err != nil {
		return source.Result{}, fmt.Errorf("sqlite %s: table %s: commit: %w", s.name, ref, err)
	}
	return res, nil
}

func (s *Source) extract(ctx context.Context, tx *sql.Tx, req source.Request, sink source.RecordSink) (source.Result, error) {
	ref := req.Table.Ref
	m, err := readTableMeta(ctx, tx, s.name, ref)
	if err != nil {
		return source.Result{}, err
	}
	from := quoteIdent("main") + "." + quoteIdent(m.name)

	// The select list: the requested columns, then what identifies a row
	// in error messages (primary key or rowid) when not already selected.
	var sel []string
	selected := map[string]int{}
	for _, c := range req.Table.Columns {
		mc, ok := m.column(c.Name)
		if !ok {
			return source.Result{}, fmt.Errorf("sqlite %s: table %s: column %q %w", s.name, ref, c.Name, source.ErrNotFound)
		}
		selected[mc.name] = len(sel)
		sel = append(sel, "+"+quoteIdent(mc.name)) // "+" drops the declared type: raw values
	}
	var idNames []string
	var idIdx []int
	addID := func(name, expr string) {
		i, ok := selected[name]
		if !ok {
			i = len(sel)
			sel = append(sel, expr)
		}
		idNames = append(idNames, name)
		idIdx = append(idIdx, i)
	}
	if pk := m.pkColumns(); len(pk) > 0 {
		for _, c := range pk {
			addID(c.name, "+"+quoteIdent(c.name))
		}
	} else if a := m.rowidAlias(); a != "" {
		addID("rowid", a)
	}

	var cur *cursor
	if req.Cursor != "" {
		var empty bool
		cur, empty, err = s.planCursor(ctx, tx, req, from)
		if err != nil {
			return source.Result{}, err
		}
		if empty {
			return source.Result{}, nil
		}
	}

	query := "SELECT " + strings.Join(sel, ", ") + " FROM " + from
	var args []any
	if cur != nil && cur.after != nil {
		query += " WHERE " + cur.quoted + " > ? AND " + cur.quoted + " <= ?"
		args = []any{cur.lowerArg, cur.upperArg}
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return source.Result{}, fmt.Errorf("sqlite %s: table %s: %w", s.name, ref, err)
	}
	defer rows.Close()

	batch := req.BatchRows
	if batch <= 0 {
		batch = source.DefaultBatchRows
	}
	rb := array.NewRecordBuilder(s.mem, coltype.ArrowSchema(req.Table.Columns))
	defer rb.Release()
	apps := make([]appender, len(req.Table.Columns))
	for i, c := range req.Table.Columns {
		if apps[i], err = newAppender(c, rb.Field(i)); err != nil {
			return source.Result{}, fmt.Errorf("sqlite %s: table %s: %w", s.name, ref, err)
		}
	}
	curIdx := -1
	if cur != nil {
		curIdx = selected[mustColumn(m, cur.col.Name).name]
	}

	vals := make([]any, len(sel))
	ptrs := make([]any, len(sel))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var res source.Result
	inBatch, batchBytes := 0, 0 // rows in the builders, and their values' size
	flush := func() error {
		if inBatch == 0 {
			return nil
		}
		rec := rb.NewRecordBatch()
		defer rec.Release()
		inBatch, batchBytes = 0, 0
		if err := sink(rec); err != nil {
			return fmt.Errorf("sqlite %s: table %s: %w", s.name, ref, err)
		}
		return nil
	}
	rowName := func() string {
		if len(idNames) == 0 {
			return fmt.Sprintf("row %d of the result", res.Rows+1)
		}
		parts := make([]string, len(idNames))
		for i, n := range idNames {
			parts[i] = n + "=" + idText(vals[idIdx[i]])
		}
		return strings.Join(parts, ", ")
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return source.Result{}, fmt.Errorf("sqlite %s: table %s: %w", s.name, ref, err)
		}
		for i, c := range req.Table.Columns {
			v := vals[i]
			batchBytes += source.ValueBytes(v)
			if v == nil {
				if !c.Nullable {
					return source.Result{}, &ConversionError{Database: s.name, Table: ref.String(), Column: c.Name,
						Row: rowName(), StorageClass: "null", Kind: kindText(c), Reason: "NULL in a column described as NOT NULL"}
				}
				rb.Field(i).AppendNull()
				continue
			}
			if err := apps[i](v); err != nil {
				return source.Result{}, &ConversionError{Database: s.name, Table: ref.String(), Column: c.Name,
					Row: rowName(), StorageClass: storageClass(v), Kind: kindText(c), Reason: err.Error()}
			}
		}
		if cur != nil && cur.after != nil {
			if err := cur.checkRow(vals[curIdx]); err != nil {
				return source.Result{}, fmt.Errorf("sqlite %s: table %s cursor column %q, %s: %w", s.name, ref, cur.col.Name, rowName(), err)
			}
		}
		res.Rows++
		inBatch++
		if inBatch >= batch || batchBytes >= source.BatchBytes {
			if err := flush(); err != nil {
				return source.Result{}, err
			}
			if err := ctx.Err(); err != nil {
				return source.Result{}, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return source.Result{}, fmt.Errorf("sqlite %s: table %s: %w", s.name, ref, err)
	}
	if err := flush(); err != nil {
		return source.Result{}, err
	}
	if cur != nil && cur.high != nil && res.Rows > 0 {
		res.High = watermark(cur.col, *cur.high)
	}
	return res, nil
}

// planCursor reads max(cursor) in the transaction and works out the
// window's SQL bounds. empty reports a window with no rows.
func (s *Source) planCursor(ctx context.Context, tx *sql.Tx, req source.Request, from string) (*cursor, bool, error) {
	ref := req.Table.Ref
	col := req.Table.Column(req.Cursor)
	if col == nil {
		return nil, false, fmt.Errorf("sqlite %s: table %s: cursor column %q %w", s.name, ref, req.Cursor, source.ErrNotFound)
	}
	if !coltype.CursorKind(col.Kind) {
		return nil, false, fmt.Errorf("sqlite %s: table %s: cursor column %q is %s, which cannot be a cursor", s.name, ref, col.Name, kindText(*col))
	}
	fail := func(err error) (*cursor, bool, error) {
		return nil, false, fmt.Errorf("sqlite %s: table %s cursor column %q: %w", s.name, ref, col.Name, err)
	}
	cur := &cursor{col: *col, quoted: quoteIdent(col.Name)}
	var maxV, minV any
	if err := tx.QueryRowContext(ctx, "SELECT max("+cur.quoted+") FROM "+from).Scan(&maxV); err != nil {
		return fail(err)
	}
	if req.After != nil {
		k, err := watermarkKey(*col, req.After)
		if err != nil {
			return fail(err)
		}
		cur.after = &k
	}
	if maxV == nil {
		// No non-NULL cursor value: an incremental window is empty; a full
		// load reads every row (all with NULL cursors) and has no High.
		return cur, cur.after != nil, nil
	}
	if err := tx.QueryRowContext(ctx, "SELECT min("+cur.quoted+") FROM "+from).Scan(&minV); err != nil {
		return fail(err)
	}
	layout, err := checkStoredForms(*col, minV, maxV)
	if err != nil {
		return fail(err)
	}
	high, err := keyOf(*col, maxV)
	if err != nil {
		return fail(fmt.Errorf("largest value: %s %w", storageClass(maxV), err))
	}
	if _, err := keyOf(*col, minV); err != nil {
		return fail(fmt.Errorf("smallest value: %w", err))
	}
	cur.high = &high
	cur.upperArg = maxV
	if cur.after != nil {
		if compareKeys(*col, high, *cur.after) <= 0 {
			return cur, true, nil
		}
		cur.lowerArg = lowerBound(*col, *cur.after, maxV, layout)
	}
	return cur, false, nil
}

// checkRow verifies that a row SQLite put in the window has a cursor value
// inside it by Go's reading of the value too. A mismatch means the stored
// values are written in forms whose text order is not their value order.
func (c *cursor) checkRow(v any) error {
	if c.col.Kind == coltype.String {
		return nil // SQLite's collation is the order
	}
	if v == nil {
		return errors.New("NULL cursor value inside an incremental window")
	}
	k, err := keyOf(c.col, v)
	if err != nil {
		return err
	}
	if compareKeys(c.col, k, *c.after) <= 0 || compareKeys(c.col, k, *c.high) > 0 {
		return errors.New("SQLite compares this value inside the window but it is outside it: " +
			"the column's values are written in more than one form (e.g. 'T' and ' ' separators, " +
			"different UTC offsets); store one form")
	}
	return nil
}

func mustColumn(m *tableMeta, name string) columnMeta {
	c, _ := m.column(name)
	return c
}

// idText writes a key value for an error message.
func idText(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		if len(x) > 64 {
			x = x[:64] + "..."
		}
		return fmt.Sprintf("%q", x)
	case []byte:
		if len(x) > 32 {
			return fmt.Sprintf("x'%x...'", x[:32])
		}
		return fmt.Sprintf("x'%x'", x)
	}
	return fmt.Sprint(v)
}
