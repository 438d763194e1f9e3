package sourcesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/source/sourcetest"
)

// sqliteDB is the conformance suite's handle on a fresh SQLite file,
// written through its own read-write connection.
type sqliteDB struct{ db *sql.DB }

var _ sourcetest.DB = (*sqliteDB)(nil)

func (d *sqliteDB) Schema() string            { return "main" }
func (d *sqliteDB) Quote(ident string) string { return quoteIdent(ident) }
func (d *sqliteDB) Placeholder(n int) string  { return fmt.Sprintf("?%d", n) }

// ColumnType gives the declared types Describe maps back to each kind.
// SQLite has one integer and one floating-point storage class, so Int16,
// Int32 and Float32 have no type of their own; a DECIMAL column stores
// INTEGER or REAL values (a double keeps 15 significant digits), so wider
// decimals cannot round-trip through SQLite at all.
func (d *sqliteDB) ColumnType(c coltype.Column) (string, bool) {
	switch c.Kind {
	case coltype.Bool:
		return "BOOLEAN", true
	case coltype.Int64:
		return "INTEGER", true
	case coltype.Float64:
		return "REAL", true
	case coltype.Decimal:
		if c.Precision > 15 {
			return "", false
		}
		return fmt.Sprintf("DECIMAL(%d,%d)", c.Precision, c.Scale), true
	case coltype.String:
		return "TEXT", true
	case coltype.Bytes:
		return "BLOB", true
	case coltype.Date:
		return "DATE", true
	case coltype.Time:
		return "TIME", true
	case coltype.Timestamp:
		return "TIMESTAMP", true
	case coltype.TimestampTZ:
		return "TIMESTAMPTZ", true
	case coltype.UUID:
		return "UUID", true
	case coltype.JSON:
		return "JSON", true
	}
	return "", false
}

// Exec binds the suite's values the way SQLite programs store them:
// ISO-8601 text for dates and times (time zones as modernc.org/sqlite
// writes a UTC time.Time), a 16-byte blob for a UUID, text for decimals.
func (d *sqliteDB) Exec(ctx context.Context, q string, args ...any) error {
	conv := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case sourcetest.Decimal:
			conv[i] = string(v)
		case sourcetest.Date:
			conv[i] = string(v)
		case sourcetest.TimeOfDay:
			conv[i] = time.Time{}.Add(time.Duration(v)).Format("15:04:05.999999")
		case sourcetest.Timestamp:
			conv[i] = v.Wall().Format("2006-01-02 15:04:05.999999")
		case time.Time:
			conv[i] = v.UTC().Format("2006-01-02 15:04:05.999999999-07:00")
		case sourcetest.UUID:
			conv[i] = v[:]
		case sourcetest.JSON:
			conv[i] = string(v)
		default:
			conv[i] = a
		}
	}
	_, err := d.db.ExecContext(ctx, q, conv...)
	return err
}

func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{Open: func(t *testing.T) (source.Source, sourcetest.DB) {
		path := filepath.Join(t.TempDir(), "conformance.db")
		// synchronous(OFF): the suite inserts thousands of rows one by one.
		w, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)&_pragma=synchronous(OFF)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		if _, err := w.Exec("PRAGMA user_version = 1"); err != nil { // creates the file
			t.Fatal(err)
		}
		return openTest(t, path), &sqliteDB{db: w}
	}})
}
