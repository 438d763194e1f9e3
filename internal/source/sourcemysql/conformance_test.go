package sourcemysql

import (
	"context"
	"database/sql"
	"fmt"
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

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, pipelined := range []bool{true, false} {
		t.Run(fmt.Sprintf("pipelined=%v", pipelined), func(t *testing.T) {
			sourcetest.Run(t, sourcetest.Harness{Open: func(t *testing.T) (source.Source, sourcetest.DB) {
				src, db := openTest(t)
				src.pipelined = pipelined
				return src, db
			}})
		})
	}
}
