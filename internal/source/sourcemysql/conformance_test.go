package sourcemysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/source/sourcetest"
	"github.com/wharf-data/wharf/internal/testdb"
)

// myDB is the conformance suite's handle on a test database.
type myDB struct {
	db      *sql.DB
	name    string
	mariadb bool
}

var _ sourcetest.DB = (*myDB)(nil)

func (d *myDB) Schema() string            { return d.name }
func (d *myDB) Quote(ident string) string { return quoteIdent(ident) }
func (d *myDB) Placeholder(int) string    { return "?" }

func (d *myDB) ColumnType(c coltype.Column) (string, bool) {
	switch c.Kind {
	case coltype.Bool:
		return "boolean", true
	case coltype.Int16:
		return "smallint", true
	case coltype.Int32:
		return "int", true
	case coltype.Int64:
		return "bigint", true
	case coltype.Float32:
		return "float", true
	case coltype.Float64:
		return "double", true
	case coltype.Decimal:
		return fmt.Sprintf("decimal(%d,%d)", c.Precision, c.Scale), true
	case coltype.String:
		return "text", true
	case coltype.Bytes:
		return "blob", true
	case coltype.Date:
		return "date", true
	case coltype.Time:
		return "time(6)", true
	case coltype.Timestamp:
		return "datetime(6)", true
	case coltype.TimestampTZ:
		return "timestamp(6)", true
	case coltype.UUID:
		return "uuid", d.mariadb // MariaDB 10.7+; MySQL has no uuid type
	case coltype.JSON:
		return "json", true
	}
	return "", false
}

func (d *myDB) Exec(ctx context.Context, q string, args ...any) error {
	conv := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case sourcetest.Decimal:
			conv[i] = string(v)
		case sourcetest.Date:
			conv[i] = string(v)
		case sourcetest.TimeOfDay:
			conv[i] = time.Time{}.Add(time.Duration(v)).Format("15:04:05.000000")
		case sourcetest.Timestamp:
			conv[i] = v.Wall().Format("2006-01-02 15:04:05.000000")
		case time.Time: // the session zone is UTC
			conv[i] = v.UTC().Format("2006-01-02 15:04:05.000000")
		case sourcetest.UUID:
			conv[i] = uuid.UUID(v).String()
		case sourcetest.JSON:
			conv[i] = string(v)
		case float32:
			conv[i] = float64(v)
		default:
			conv[i] = a
		}
	}
	_, err := d.db.ExecContext(ctx, q, conv...)
	return err
}

// openTest opens a Source and a plain handle on a fresh database.
func openTest(t *testing.T) (*Source, *myDB) {
	t.Helper()
	tdb := testdb.MySQL(t)
	src, err := Open(context.Background(), tdb.DSN)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = src.Close() })
	return src, &myDB{db: tdb.DB, name: tdb.Name, mariadb: src.mariadb}
}

// mariadb reports whether the test server is MariaDB (it has types MySQL lacks).
func mariadb(t *testing.T) bool {
	src, _ := openTest(t)
	return src.mariadb
}

// zooExpect is, per landed kind, the SQL expression (over the quoted column,
// %[1]s) that makes the server itself print the JSON of the value wharf must
// land, in sourcetest.ZooJSON's form.
func zooExpect(c typeCase) string {
	const trimmed = "TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM %s))"
	switch {
	case c.kind == coltype.Bool:
		return "CASE WHEN %[1]s IS NULL THEN NULL WHEN %[1]s <> 0 THEN 'true' ELSE 'false' END"
	case c.kind == coltype.String && (strings.HasPrefix(c.ddl, "inet") || strings.HasPrefix(c.ddl, "decimal")):
		return "JSON_QUOTE(CAST(%[1]s AS CHAR))"
	case c.kind == coltype.String:
		return "JSON_QUOTE(%[1]s)"
	case c.kind == coltype.UUID:
		return "JSON_QUOTE(CAST(%[1]s AS CHAR))"
	case c.kind == coltype.JSON:
		return "%[1]s"
	case c.kind == coltype.Bytes && strings.Contains(c.literal, "ST_GeomFromText"):
		return `JSON_QUOTE(CONCAT(CHAR(92), 'x', LOWER(HEX(ST_AsBinary(%[1]s)))))`
	case c.kind == coltype.Bytes:
		return `JSON_QUOTE(CONCAT(CHAR(92), 'x', LOWER(HEX(%[1]s))))`
	case c.kind == coltype.Date:
		return "JSON_QUOTE(DATE_FORMAT(%[1]s, '%%Y-%%m-%%d'))"
	case c.kind == coltype.Timestamp:
		return "JSON_QUOTE(" + fmt.Sprintf(trimmed, "DATE_FORMAT(%[1]s, '%%Y-%%m-%%dT%%H:%%i:%%s.%%f')") + ")"
	case c.kind == coltype.TimestampTZ: // the session zone is UTC
		return "JSON_QUOTE(CONCAT(" + fmt.Sprintf(trimmed, "DATE_FORMAT(%[1]s, '%%Y-%%m-%%dT%%H:%%i:%%s.%%f')") + ", '+00:00'))"
	case c.kind == coltype.Time:
		return "JSON_QUOTE(" + fmt.Sprintf(trimmed, "TIME_FORMAT(%[1]s, '%%H:%%i:%%s.%%f')") + ")"
	case c.kind == coltype.Float32:
		// MySQL prints FLOAT with 6 digits; as a DOUBLE it is exact.
		return "CAST(CAST(%[1]s AS DOUBLE) AS CHAR)"
	case strings.HasPrefix(c.ddl, "bit"):
		return "CAST(%[1]s + 0 AS CHAR)"
	}
	return "CAST(%[1]s AS CHAR)" // numbers
}

// utcLiterals replace TestTypes's +05:30 literals: the zoo's session is UTC.
var utcLiterals = map[string]string{"ts": "'2038-01-19 03:14:07.5'", "ts0": "'1970-01-01 00:00:01'"}

// mysqlZoo is the conformance suite's type zoo: every case of TestTypes,
// one row with the value and one NULL row, checked against the server's
// own rendering of each value.
func mysqlZoo(mariadb bool) *sourcetest.Zoo {
	cases := mysqlTypes
	if mariadb {
		cases = append(append([]typeCase{}, mysqlTypes...), mariadbTypes...)
	}
	z := &sourcetest.Zoo{Rows: 2, QueryJSON: func(ctx context.Context, db sourcetest.DB, q string) ([]*string, error) {
		rows, err := db.(*myDB).db.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []*string
		for rows.Next() {
			var v sql.NullString
			if err := rows.Scan(&v); err != nil {
				return nil, err
			}
			if v.Valid {
				out = append(out, &v.String)
			} else {
				out = append(out, nil)
			}
		}
		return out, rows.Err()
	}}
	for _, c := range cases {
		if c.name == "f01" {
			// float32(0.1) lands exactly, but the server can print it only
			// as the exact double 0.10000000149011612, not float32's
			// shortest 0.1 that the zoo compares with (TestTypes checks it).
			continue
		}
		ddl := strings.TrimSuffix(c.ddl, " NULL")
		if strings.HasPrefix(ddl, "timestamp") {
			ddl += " NULL"
		}
		landed := coltype.Column{Kind: c.kind, Precision: c.prec, Scale: c.scale}
		literal := c.literal
		if lit, ok := utcLiterals[c.name]; ok {
			literal = lit
		}
		z.Columns = append(z.Columns, sourcetest.ZooColumn{
			Name: c.name, DDL: ddl, Lands: landed.TypeString(),
			Values: []string{literal, ""}, Expect: zooExpect(c),
		})
	}
	return z
}

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, pipelined := range []bool{true, false} {
		t.Run(fmt.Sprintf("pipelined=%v", pipelined), func(t *testing.T) {
			sourcetest.Run(t, sourcetest.Harness{Open: func(t *testing.T) (source.Source, sourcetest.DB) {
				src, db := openTest(t)
				src.pipelined = pipelined
				return src, db
			}, Zoo: mysqlZoo(mariadb(t))})
		})
	}
}
