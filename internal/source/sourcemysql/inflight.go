package sourcemysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
)

// inFlight is the oldest start of the write transactions in flight on the
// server, read from information_schema.innodb_trx (docs/guarantees.md). A
// row such a transaction writes with the server's clock (NOW(6),
// CURRENT_TIMESTAMP defaults, ON UPDATE) has a cursor at or after the start
// of its statement, so at or after the transaction's start: capping the
// window below the oldest start keeps every such row for the next run
// instead of letting the watermark pass it before it commits.
//
// innodb_trx does not say which tables a transaction writes, so every
// other transaction that has modified rows or is running a statement
// counts, on any table (a read-only one, like another run's snapshot,
// does not). Its start is shown to the second, rounded down: the bound only
// gets lower. It is read before and after the snapshot starts, and the
// older start wins: a writer in flight at the snapshot is seen by one of
// the two reads unless it both began after the first and committed before
// the second (a window of two statements on one connection; settle covers
// it, and the application-supplied timestamps the server cannot know).
type inFlight struct {
	oldest time.Time // zero: none seen
	// denied is set when the role may not read innodb_trx (it needs the
	// PROCESS privilege): nothing is known. user is the role, as GRANT
	// names it ('name'@'host', from CURRENT_USER()).
	denied bool
	user   string
}

const inFlightQuery = `SELECT DATE_FORMAT(MIN(trx_started), '%Y-%m-%d %H:%i:%s.%f')
	FROM information_schema.innodb_trx
	WHERE trx_mysql_thread_id <> CONNECTION_ID() AND trx_is_read_only = 0 AND trx_autocommit_non_locking = 0
	  AND (trx_rows_modified > 0 OR trx_query IS NOT NULL)`

// readInFlight adds what innodb_trx shows now to f.
func (f *inFlight) read(ctx context.Context, conn *sql.Conn) error {
	if f.denied {
		return nil
	}
	var started sql.NullString
	err := conn.QueryRowContext(ctx, inFlightQuery).Scan(&started)
	var me *mysql.MySQLError
	if errors.As(err, &me) && (me.Number == 1227 || me.Number == 1142 || me.Number == 1044) {
		f.denied = true
		if err := conn.QueryRowContext(ctx, "SELECT CONCAT(QUOTE(SUBSTRING_INDEX(CURRENT_USER(), '@', 1)), '@', QUOTE(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)))").Scan(&f.user); err != nil {
			f.user = "USER" // the hint still says what to grant
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read transactions in flight (information_schema.innodb_trx): %w", err)
	}
	if !started.Valid {
		return nil
	}
	t, err := time.Parse("2006-01-02 15:04:05.000000", started.String)
	if err != nil {
		return fmt.Errorf("innodb_trx start %q: %w", started.String, err)
	}
	if f.oldest.IsZero() || t.Before(f.oldest) {
		f.oldest = t
	}
	return nil
}

// limit combines the in-flight bound with settle (limit: the server's clock
// minus settle; zero when settle is 0) into the exclusive upper limit on the
// cursor (zero: none), the rule for the run's log, and source.Result's
// Unbounded: what to grant or set when neither bounds the window.
func (f *inFlight) limit(settleLimit time.Time, settle time.Duration) (time.Time, string, string) {
	var limit time.Time
	var rule, unbounded string
	switch {
	case f.denied:
		rule = "transactions in flight unknown (reading information_schema.innodb_trx needs the PROCESS privilege): grant it, or set settle"
		if settle <= 0 {
			unbounded = "the source role may not see the write transactions in flight (information_schema.innodb_trx needs the PROCESS privilege), " +
				"so a row that a long transaction commits after a run, with a cursor value below that run's watermark, is never landed: " +
				"GRANT PROCESS ON *.* TO " + f.user + ", or set settle: on the workflow to more than the longest transaction (docs/guarantees.md)"
		}
	case f.oldest.IsZero():
		rule = "no write transaction in flight"
	default:
		limit, rule = f.oldest, "a transaction in flight since "+stamp(f.oldest)+": later cursor values wait for the next run"
	}
	if settle > 0 && (limit.IsZero() || settleLimit.Before(limit)) {
		limit, rule = settleLimit, fmt.Sprintf("settle %s: cursor values from %s on wait for the next run", settle, stamp(settleLimit))
	}
	return limit, rule, unbounded
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999999Z") }

// Unbounded implements source.InFlightChecker.
func (s *Source) Unbounded(ctx context.Context) (string, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("connect (%s): %w", s.where(), err)
	}
	defer conn.Close()
	var f inFlight
	if err := f.read(ctx, conn); err != nil {
		return "", err
	}
	_, _, unbounded := f.limit(time.Time{}, 0)
	return unbounded, nil
}
