package sourcepostgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/source/sourcepostgres/pgzoo"
	"github.com/wharf-data/wharf/internal/source/sourcetest"
	"github.com/wharf-data/wharf/internal/testdb"
)

// pgDB is the conformance suite's handle on a test schema.
type pgDB struct {
	conn   *pgx.Conn
	schema string
}

var _ sourcetest.DB = (*pgDB)(nil)

func (d *pgDB) Schema() string            { return d.schema }
func (d *pgDB) Quote(ident string) string { return pgx.Identifier{ident}.Sanitize() }
func (d *pgDB) Placeholder(n int) string  { return fmt.Sprintf("$%d", n) }

func (d *pgDB) ColumnType(c coltype.Column) (string, bool) {
	switch c.Kind {
	case coltype.Bool:
		return "boolean", true
	case coltype.Int16:
		return "smallint", true
	case coltype.Int32:
		return "integer", true
	case coltype.Int64:
		return "bigint", true
	case coltype.Float32:
		return "real", true
	case coltype.Float64:
		return "double precision", true
	case coltype.Decimal:
		return fmt.Sprintf("numeric(%d,%d)", c.Precision, c.Scale), true
	case coltype.String:
		return "text", true
	case coltype.Bytes:
		return "bytea", true
	case coltype.Date:
		return "date", true
	case coltype.Time:
		return "time", true
	case coltype.Timestamp:
		return "timestamp", true
	case coltype.TimestampTZ:
		return "timestamptz", true
	case coltype.UUID:
		return "uuid", true
	case coltype.JSON:
		return "jsonb", true
	}
	return "", false
}

func (d *pgDB) Exec(ctx context.Context, sql string, args ...any) error {
	conv := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case sourcetest.Decimal:
			var n pgtype.Numeric
			if err := n.Scan(string(v)); err != nil {
				return err
			}
			conv[i] = n
		case sourcetest.Date:
			conv[i] = pgtype.Date{Time: v.Time(), Valid: true}
		case sourcetest.TimeOfDay:
			conv[i] = pgtype.Time{Microseconds: time.Duration(v).Microseconds(), Valid: true}
		case sourcetest.Timestamp:
			conv[i] = pgtype.Timestamp{Time: v.Wall(), Valid: true}
		case sourcetest.UUID:
			conv[i] = pgtype.UUID{Bytes: v, Valid: true}
		case sourcetest.JSON:
			conv[i] = string(v)
		default:
			conv[i] = a
		}
	}
	_, err := d.conn.Exec(ctx, sql, conv...)
	return err
}

// zoo is PostgreSQL's type zoo for the conformance suite.
func zoo(t *testing.T) *sourcetest.Zoo {
	if err := pgzoo.Prepare(context.Background(), testdb.Postgres(t)); err != nil {
		t.Fatal(err)
	}
	return &sourcetest.Zoo{Setup: pgzoo.Setup, Columns: pgzoo.Columns, Rows: pgzoo.Rows,
		QueryJSON: func(ctx context.Context, db sourcetest.DB, sql string) ([]*string, error) {
			return pgzoo.QueryJSON(ctx, db.(*pgDB).conn, sql)
		}}
}

// openTestSchema opens a Source and a plain connection on a fresh schema.
func openTestSchema(t *testing.T, opts Options) (*Source, *pgDB) {
	t.Helper()
	dsn, schema := testdb.PostgresSchema(t)
	return openOnSchema(t, dsn, schema, opts)
}

// openOnSchema opens a Source and a plain connection with dsn, whose
// search_path is schema.
func openOnSchema(t *testing.T, dsn, schema string, opts Options) (*Source, *pgDB) {
	t.Helper()
	ctx := context.Background()
	src, err := OpenWithOptions(ctx, dsn, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = src.Close() })
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return src, &pgDB{conn: conn, schema: schema}
}

func TestConformance(t *testing.T) {
	for _, pipelined := range []bool{true, false} {
		t.Run(fmt.Sprintf("pipelined=%v", pipelined), func(t *testing.T) {
			sourcetest.Run(t, sourcetest.Harness{Open: func(t *testing.T) (source.Source, sourcetest.DB) {
				src, db := openTestSchema(t, DefaultOptions())
				src.pipelined = pipelined
				return src, db
			}, Zoo: zoo(t)})
		})
	}
}
