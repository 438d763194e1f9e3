package sourcemysql

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestInFlightBound: with a write transaction in flight, a role that may
// read innodb_trx (PROCESS) keeps the transaction's row, and every later
// cursor value, above High; a role without it cannot, and says so. Other
// tests' transactions on the same server can only be older than this one's
// (or later than the run): they lower the bound further, never raise it, so
// the assertions hold with them.
func TestInFlightBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tdb := testdb.MySQL(t)
	db := &myDB{db: tdb.DB, name: tdb.Name}
	exec(t, db, "CREATE TABLE ev (id int NOT NULL, at timestamp(6) NOT NULL, local datetime(6) NOT NULL)")
	exec(t, db, "INSERT INTO ev VALUES (1, '2024-01-01', '2024-01-01')")
	open := func(dsn string) *Source {
		t.Helper()
		src, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = src.Close() })
		return src
	}
	admin, own := open(tdb.AdminDSN), open(tdb.DSN)
	tbl, err := own.Describe(ctx, source.TableRef{Name: "ev"})
	if err != nil {
		t.Fatal(err)
	}

	a, err := tdb.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, q := range []string{"BEGIN", "INSERT INTO ev VALUES (2, NOW(6), NOW(6))"} {
		if _, err := a.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	defer a.ExecContext(ctx, "ROLLBACK") //nolint:errcheck // the connection is closed next
	time.Sleep(10 * time.Millisecond)
	exec(t, db, "INSERT INTO ev VALUES (3, NOW(6), NOW(6))")

	none := func(arrow.RecordBatch) error { return nil }
	for _, cursor := range []string{"at", "local"} {
		res, err := admin.Extract(ctx, source.Request{Table: tbl, Cursor: cursor}, none)
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != 1 || !strings.HasPrefix(res.Bound, "a transaction in flight since ") || res.Unbounded != "" {
			t.Errorf("cursor %s, a role with PROCESS: %d rows, bound %q, unbounded %q; want 1 row (id 1) and the in-flight rule", cursor, res.Rows, res.Bound, res.Unbounded)
		}
		res, err = own.Extract(ctx, source.Request{Table: tbl, Cursor: cursor}, none)
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != 2 || !strings.HasPrefix(res.Bound, "transactions in flight unknown (reading information_schema.innodb_trx needs the PROCESS privilege)") {
			t.Errorf("cursor %s, a role without PROCESS: %d rows, bound %q; want rows 1 and 3 and the unknown rule", cursor, res.Rows, res.Bound)
		}
		// The run warns with what to grant: the role, as GRANT names it.
		if grant := "GRANT PROCESS ON *.* TO '" + tdb.User + "'@'"; !strings.Contains(res.Unbounded, grant) || !strings.Contains(res.Unbounded, "set settle:") {
			t.Errorf("cursor %s, a role without PROCESS: unbounded %q; want it to say %s... or set settle:", cursor, res.Unbounded, grant)
		}
		// settle bounds the window instead: nothing to warn of.
		res, err = own.Extract(ctx, source.Request{Table: tbl, Cursor: cursor, Settle: time.Minute}, none)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.Bound, "settle 1m0s") || res.Unbounded != "" {
			t.Errorf("cursor %s, a role without PROCESS, settle 1m: bound %q, unbounded %q; want the settle rule and none", cursor, res.Bound, res.Unbounded)
		}
	}
}
