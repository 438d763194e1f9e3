package sourcepostgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestInFlightBound: a row written by a transaction still open at the
// snapshot, and any row with a later cursor, stays above High; settle holds
// back cursor values newer than the server's clock minus settle.
func TestInFlightBound(t *testing.T) {
	src, db := openTestSchema(t, DefaultOptions())
	ctx := context.Background()
	mustExec(t, db, "CREATE TABLE ev (id int NOT NULL, at timestamptz NOT NULL, local timestamp NOT NULL)")
	mustExec(t, db, "INSERT INTO ev VALUES (1, '2024-01-01Z', '2024-01-01')")
	tbl, err := src.Describe(ctx, source.TableRef{Name: "ev"})
	if err != nil {
		t.Fatal(err)
	}
	extract := func(cursor string, settle time.Duration) source.Result {
		t.Helper()
		res, err := src.Extract(ctx, source.Request{Table: tbl, Cursor: cursor, Settle: settle}, discard)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	// A transaction in flight: its row and a later committed one wait.
	other, err := pgx.Connect(ctx, testdb.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "INSERT INTO "+pgx.Identifier{db.Schema(), "ev"}.Sanitize()+" VALUES (2, clock_timestamp(), localtimestamp)"); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "INSERT INTO ev VALUES (3, clock_timestamp(), localtimestamp)")
	for _, cursor := range []string{"at", "local"} {
		res := extract(cursor, 0)
		if res.Rows != 1 || !strings.HasPrefix(res.Bound, "a transaction in flight since") {
			t.Errorf("cursor %s with a transaction in flight: %d rows, bound %q; want 1 row (id 1) and the rule", cursor, res.Rows, res.Bound)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	// Settle: rows 2 and 3 are seconds old, so a settle of an hour keeps them back.
	if res := extract("at", time.Hour); res.Rows != 1 || !strings.HasPrefix(res.Bound, "settle 1h0m0s") {
		t.Errorf("settle 1h: %d rows, bound %q; want 1 row and the settle rule", res.Rows, res.Bound)
	}
	// Integer cursors are not bounded (docs/guarantees.md).
	if res := extract("id", 0); res.Bound != "" || res.Rows != 3 {
		t.Errorf("integer cursor: %d rows, bound %q; want 3 rows, no bound", res.Rows, res.Bound)
	}
}
