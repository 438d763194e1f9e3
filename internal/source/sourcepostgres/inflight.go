package sourcepostgres

import (
	"context"
	"fmt"
	"time"

	"github.com/wharf-data/wharf/internal/coltype"
)

// inFlightBound is the upper limit (exclusive) on a timestamp cursor that
// keeps every row a transaction in flight at the run's snapshot may still
// commit above the run's high watermark (docs/guarantees.md): such a row
// lands next run instead of falling below the watermark for good.
//
// It is read as the first statement of the run's REPEATABLE READ
// transaction, so pg_current_snapshot() is the run's snapshot. The
// transactions that write the table hold a RowExclusiveLock on it until
// they end (pg_locks, visible to every role); pg_stat_activity gives their
// start times. A row such a transaction writes with the database's clock
// (now(), clock_timestamp(), DEFAULT now()) has a cursor at or after its
// start, so capping the window below the oldest start keeps them all for
// the next run. Cursor values the application supplies are bounded by
// nothing the server knows: settle (a lag behind the server's clock) covers
// them, and writers the role cannot see (other roles' sessions without
// pg_read_all_stats).
type inFlightBound struct {
	limit time.Time // exclusive; zero = no limit
	rule  string    // for the run's log
	// unknown counts transactions that may write the table unseen: writers
	// of other roles, and transactions of the snapshot's in-progress list
	// that ended before the check (they may have written the table).
	unknown int
}

func readInFlightBound(ctx context.Context, q querier, table string, settle time.Duration) (inFlightBound, error) {
	var now time.Time
	var oldest *time.Time
	var hidden, ended int
	// xid8 → xid: the low 32 bits (pg_stat_activity shows 32-bit xids).
	err := q.QueryRow(ctx, `WITH xip AS (
		  SELECT (x::text::numeric % 4294967296)::text AS xid FROM pg_snapshot_xip(pg_current_snapshot()) AS x),
		writers AS (
		  SELECT a.xact_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		  WHERE l.locktype = 'relation' AND l.relation = to_regclass($1) AND l.mode = 'RowExclusiveLock'
		    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		    AND l.pid <> pg_backend_pid())
		SELECT clock_timestamp(),
		  (SELECT min(xact_start) FROM writers),
		  (SELECT count(*) FROM writers WHERE xact_start IS NULL),
		  (SELECT count(*) FROM xip WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.backend_xid::text = xip.xid))`,
		table).Scan(&now, &oldest, &hidden, &ended)
	if err != nil {
		return inFlightBound{}, fmt.Errorf("read transactions in flight (pg_current_snapshot, pg_locks, pg_stat_activity): %w", err)
	}
	b := inFlightBound{rule: "no transaction writing the table in flight", unknown: hidden + ended}
	if oldest != nil {
		b = inFlightBound{limit: *oldest, rule: "a transaction in flight since " + stamp(*oldest) + ": later cursor values wait for the next run", unknown: b.unknown}
	}
	if hidden > 0 {
		b.rule += fmt.Sprintf("; %d transaction(s) writing the table not visible to this role (grant pg_read_all_stats, or set settle)", hidden)
	}
	if ended > 0 {
		b.rule += fmt.Sprintf("; %d transaction(s) ended between the snapshot and the check", ended)
	}
	if settle > 0 {
		if s := now.Add(-settle); b.limit.IsZero() || s.Before(b.limit) {
			b.limit, b.rule = s, fmt.Sprintf("settle %s: cursor values after %s wait for the next run", settle, stamp(s))
		}
	}
	return b, nil
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999999Z") }

// boundsCursor reports whether an in-flight bound applies to a cursor of
// kind k: timestamps (with or without time zone). Dates are coarser than a
// transaction (the bound would hold back the whole current day) and
// sequences are not transactional (a value drawn by a transaction still in
// flight may be below values already committed); for those, lookback is the
// remedy (docs/guarantees.md).
func boundsCursor(k coltype.Kind) bool {
	return k == coltype.Timestamp || k == coltype.TimestampTZ
}

// sqlLimit renders the bound as a literal comparable with the cursor: a
// timestamptz, or for a timestamp without time zone the same instant in the
// session's time zone (as now() is stored into such a column).
func (b inFlightBound) sqlLimit(k coltype.Kind) string {
	lit := "'" + b.limit.UTC().Format("2006-01-02 15:04:05.999999") + "+00'::timestamptz"
	if k == coltype.Timestamp {
		return "(" + lit + " AT TIME ZONE current_setting('TimeZone'))"
	}
	return lit
}
