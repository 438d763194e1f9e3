package sourcemysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

// MaxPrecision is the largest DECIMAL precision landed as a decimal (Arrow
// decimal128); wider MySQL decimals (up to 65 digits) land as their exact text.
const MaxPrecision = 38

// decoder says how one column's text-protocol value becomes an Arrow value.
type decoder int

const (
	decInt         decoder = iota // integers (and YEAR) → int16/int32/int64
	decBool                       // tinyint(1): 0 or 1
	decUint64                     // bigint unsigned → decimal(20,0)
	decDecimal                    // decimal(p ≤ 38, s)
	decText                       // char/varchar/text/enum/set, decimal(p > 38) → string
	decJSON                       // json (MySQL), longtext CHECK json_valid (MariaDB)
	decBytes                      // binary/varbinary/blob
	decFloat32                    // float, read as CAST(... AS DOUBLE)
	decFloat64                    // double
	decDate                       // date
	decDatetime                   // datetime → timestamp (no zone)
	decTimestamp                  // timestamp → timestamptz (session zone UTC)
	decTime                       // time → time of day
	decBit                        // bit(n): big-endian bytes → bool/int64/decimal(20,0)
	decGeometry                   // geometry: SRID + WKB → WKB
	decUUID                       // MariaDB uuid
	decCastDecimal                // any value's text, landed as decimal(p,s) only when exact
)

// myColumn is one described column: its neutral type and how to read it.
type myColumn struct {
	col coltype.Column
	dec decoder
	// dataType is information_schema's DATA_TYPE (lower case), e.g. "int".
	dataType string
	// selectFmt, when set, is the SELECT-list expression with %[1]s for the
	// quoted column (a cast the catalog asked for).
	selectFmt string
}

// selectExpr is the column as it appears in the SELECT list.
func (c *myColumn) selectExpr() string {
	if c.selectFmt != "" {
		return fmt.Sprintf(c.selectFmt, quoteIdent(c.col.Name))
	}
	if c.dec == decFloat32 {
		// FLOAT is sent as text with 6 significant digits; as a DOUBLE it
		// is exact, and converts back to the same float32.
		return "CAST(" + quoteIdent(c.col.Name) + " AS DOUBLE)"
	}
	return quoteIdent(c.col.Name)
}

// liveTable is a table as the information schema shows it.
type liveTable struct {
	ref    source.TableRef // schema resolved
	cols   []myColumn
	unsup  *coltype.UnsupportedError // first column whose type wharf cannot land
	nUnsup int
}

func (t *liveTable) ident() string { return quoteIdent(t.ref.Schema) + "." + quoteIdent(t.ref.Name) }

func (t *liveTable) column(name string) *myColumn {
	for i := range t.cols {
		if t.cols[i].col.Name == name {
			return &t.cols[i]
		}
	}
	return nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const columnsSQL = `
SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, LOWER(DATA_TYPE), COLUMN_TYPE, IS_NULLABLE,
       COALESCE(NUMERIC_PRECISION, 0), COALESCE(NUMERIC_SCALE, 0)
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
ORDER BY ORDINAL_POSITION`

// MariaDB's JSON is LONGTEXT with a CHECK (json_valid(col)) constraint.
const jsonChecksSQL = `
SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ? AND LEVEL = 'Column'`

// candidatesSQL lists the tables and views a missing name may have meant:
// those of the databases named like the one asked for, ignoring case.
const candidatesSQL = `
SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES
WHERE LOWER(TABLE_SCHEMA) = LOWER(?)
ORDER BY TABLE_SCHEMA, TABLE_NAME
LIMIT 10000`

// didYouMean names the table a missing ref most likely meant, or "".
func didYouMean(ctx context.Context, q querier, ref source.TableRef, schema string) string {
	rows, err := q.QueryContext(ctx, candidatesSQL, schema)
	if err != nil {
		return ""
	}
	defer rows.Close()
	var cands []source.TableRef
	for rows.Next() {
		var c source.TableRef
		if rows.Scan(&c.Schema, &c.Name) != nil {
			return ""
		}
		cands = append(cands, c)
	}
	return source.DidYouMeanTable(ref, cands)
}

// describe reads a table's columns. The information schema compares names
// case-insensitively; only an exact match counts.
func (s *Source) describe(ctx context.Context, q querier, ref source.TableRef) (*liveTable, error) {
	schema, err := s.schemaOf(ref)
	if err != nil {
		return nil, err
	}
	t := &liveTable{ref: source.TableRef{Schema: schema, Name: ref.Name}}
	rows, err := q.QueryContext(ctx, columnsSQL, schema, ref.Name)
	if err != nil {
		return nil, fmt.Errorf("describe table %s: %w", t.ref, err)
	}
	defer rows.Close()
	var raw []rawColumn
	for rows.Next() {
		var db, table string
		var rc rawColumn
		var nullable string
		if err := rows.Scan(&db, &table, &rc.name, &rc.dataType, &rc.columnType, &nullable, &rc.precision, &rc.scale); err != nil {
			return nil, fmt.Errorf("describe table %s: %w", t.ref, err)
		}
		if db != schema || table != ref.Name {
			continue
		}
		rc.nullable = nullable == "YES"
		raw = append(raw, rc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("describe table %s: %w", t.ref, err)
	}
	if len(raw) == 0 {
		// Worded as PostgreSQL's; information_schema hides the tables the
		// role may not read, hence the privilege.
		return nil, fmt.Errorf("table %s: no table or view %q in database %s (or no privilege on it)%s: %w",
			t.ref, ref.Name, schema, didYouMean(ctx, q, ref, schema), source.ErrNotFound)
	}
	jsonCols := map[string]bool{}
	if s.mariadb {
		if jsonCols, err = mariadbJSONColumns(ctx, q, schema, ref.Name); err != nil {
			return nil, fmt.Errorf("describe table %s: %w", t.ref, err)
		}
	}
	for _, rc := range raw {
		c, uerr := mapColumn(rc, jsonCols[rc.name])
		if uerr != nil {
			uerr.Table = t.ref.String()
			if t.unsup == nil {
				t.unsup = uerr
			}
			t.nUnsup++
			continue
		}
		t.cols = append(t.cols, c)
	}
	return t, nil
}

func mariadbJSONColumns(ctx context.Context, q querier, schema, table string) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, jsonChecksSQL, schema, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var clause string
		if err := rows.Scan(&clause); err != nil {
			return nil, err
		}
		if name, ok := strings.CutPrefix(clause, "json_valid("); ok {
			if name, ok = strings.CutSuffix(name, ")"); ok && len(name) >= 2 && name[0] == '`' && name[len(name)-1] == '`' {
				out[strings.ReplaceAll(name[1:len(name)-1], "``", "`")] = true
			}
		}
	}
	return out, rows.Err()
}

// rawColumn is one row of information_schema.COLUMNS.
type rawColumn struct {
	name, dataType, columnType string
	nullable                   bool
	precision, scale           int
}

// mapColumn maps a MySQL column type to a neutral kind (docs/types.md).
func mapColumn(rc rawColumn, isJSON bool) (myColumn, *coltype.UnsupportedError) {
	unsigned := strings.Contains(rc.columnType, "unsigned")
	c := myColumn{dataType: rc.dataType, col: coltype.Column{Name: rc.name, Nullable: rc.nullable, SourceType: rc.columnType}}
	set := func(k coltype.Kind, d decoder) { c.col.Kind, c.dec = k, d }
	switch rc.dataType {
	case "tinyint":
		if strings.HasPrefix(rc.columnType, "tinyint(1)") && !unsigned {
			set(coltype.Bool, decBool)
		} else {
			set(coltype.Int16, decInt)
		}
	case "smallint":
		if unsigned {
			set(coltype.Int32, decInt)
		} else {
			set(coltype.Int16, decInt)
		}
	case "mediumint":
		set(coltype.Int32, decInt)
	case "int", "integer":
		if unsigned {
			set(coltype.Int64, decInt)
		} else {
			set(coltype.Int32, decInt)
		}
	case "bigint":
		if unsigned {
			set(coltype.Decimal, decUint64)
			c.col.Precision = 20
		} else {
			set(coltype.Int64, decInt)
		}
	case "year":
		set(coltype.Int16, decInt)
	case "decimal", "numeric":
		if rc.precision > MaxPrecision {
			set(coltype.String, decText)
		} else {
			set(coltype.Decimal, decDecimal)
			c.col.Precision, c.col.Scale = rc.precision, rc.scale
		}
	case "float":
		set(coltype.Float32, decFloat32)
	case "double", "real", "double precision":
		set(coltype.Float64, decFloat64)
	case "bit":
		switch {
		case rc.precision <= 1:
			set(coltype.Bool, decBit)
		case rc.precision <= 63:
			set(coltype.Int64, decBit)
		default:
			set(coltype.Decimal, decBit)
			c.col.Precision = 20
		}
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set",
		"inet4", "inet6":
		if isJSON {
			set(coltype.JSON, decJSON)
		} else {
			set(coltype.String, decText)
		}
	case "json":
		set(coltype.JSON, decJSON)
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		set(coltype.Bytes, decBytes)
	case "date":
		set(coltype.Date, decDate)
	case "datetime":
		set(coltype.Timestamp, decDatetime)
	case "timestamp":
		set(coltype.TimestampTZ, decTimestamp)
	case "time":
		set(coltype.Time, decTime)
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
		"multipolygon", "geometrycollection", "geomcollection":
		set(coltype.Bytes, decGeometry)
	case "uuid":
		set(coltype.UUID, decUUID)
	default:
		return c, &coltype.UnsupportedError{Column: rc.name, SourceType: rc.columnType}
	}
	return c, nil
}

// castPlan is how live column c is read when the catalog casts it to want
// (want.Cast is set): the server converts the value in the SELECT list.
//   - string: MySQL's own text of the value (FLOAT through DOUBLE, so all
//     its digits; binary values as 0x hex; geometry as WKT; bit as a number)
//   - json: numbers and booleans as JSON numbers, json as is, geometry as
//     GeoJSON, everything else as a JSON string of its text
//   - float64: CAST(... AS DOUBLE)
//   - decimal(P,S): the exact text, landed only if it fits P,S exactly
func castPlan(c myColumn, want coltype.Column) myColumn {
	out := myColumn{col: want, dataType: c.dataType}
	text := "CAST(%[1]s AS CHAR)"
	switch {
	case c.dec == decFloat32:
		text = "CAST(CAST(%[1]s AS DOUBLE) AS CHAR)"
	case c.dec == decBit:
		text = "CAST(%[1]s + 0 AS CHAR)"
	case c.dec == decBytes:
		text = "CONCAT('0x', HEX(%[1]s))"
	case c.dec == decGeometry:
		text = "ST_AsText(%[1]s)"
	}
	switch want.Cast {
	case coltype.CastString:
		out.dec, out.selectFmt = decText, text
	case coltype.CastJSON:
		out.dec = decJSON
		switch c.dec {
		case decInt, decUint64, decDecimal, decFloat32, decFloat64, decBit:
			out.selectFmt = text
		case decBool:
			out.selectFmt = "CASE WHEN %[1]s IS NULL THEN NULL WHEN %[1]s <> 0 THEN 'true' ELSE 'false' END"
		case decJSON:
			out.selectFmt = "%[1]s"
		case decGeometry:
			out.selectFmt = "ST_AsGeoJSON(%[1]s)"
		default:
			out.selectFmt = "JSON_QUOTE(" + text + ")"
		}
	case coltype.CastFloat64:
		out.dec, out.selectFmt = decFloat64, "CAST(%[1]s AS DOUBLE)"
	case coltype.CastDecimal:
		out.dec, out.selectFmt = decCastDecimal, text
	}
	return out
}

// Describe reads a table's columns from the information schema. A table
// written without a database is looked up in the connection's database.
func (s *Source) Describe(ctx context.Context, ref source.TableRef) (*source.Table, error) {
	t, err := s.describe(ctx, s.db, ref)
	if err != nil {
		return nil, err
	}
	if t.unsup != nil {
		return nil, t.unsup
	}
	out := &source.Table{Ref: t.ref, Columns: make([]coltype.Column, len(t.cols))}
	for i, c := range t.cols {
		out.Columns[i] = c.col
	}
	return out, nil
}
