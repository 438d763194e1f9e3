package sourcepostgres

import (
	"context"
	"crypto/tls"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sys/unix"

	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestLowWaterMarkNeverHoldsBackTheTail: while a COPY streams, the socket's
// receive low-water mark is copyLowat bytes, and what the server sends after
// a pause (the stream's last rows and its end, an error, a closed
// connection) is less than that. Each case pauses the server after ~1 MB of
// rows, with wharf's reader parked on the high mark; the COPY must still
// end as it should (the rescue drops the mark), never at the test's own
// deadline, and leave the mark at 1 byte for the statements that follow.
func TestLowWaterMarkNeverHoldsBackTheTail(t *testing.T) {
	const rows, pauseAt = 30001, 20001
	cases := []struct {
		name    string
		tls     bool
		pause   string // seconds the server sleeps before row pauseAt
		opts    func(*Options)
		atPause func(ctx context.Context, cancel context.CancelFunc, db *pgDB, pid uint32) error
		wantErr string
	}{
		{name: "end", pause: "0.3"},
		{name: "end over TLS", tls: true, pause: "0.3"},
		{name: "statement_timeout", pause: "600",
			opts:    func(o *Options) { o.StatementTimeout = 2 * time.Second },
			wantErr: "canceling statement due to statement timeout"},
		{name: "backend terminated", pause: "600",
			atPause: func(ctx context.Context, _ context.CancelFunc, db *pgDB, pid uint32) error {
				_, err := db.conn.Exec(ctx, "SELECT pg_terminate_backend($1)", pid)
				return err
			},
			wantErr: "terminating connection due to administrator command"},
		{name: "cancelled", pause: "600",
			atPause: func(_ context.Context, cancel context.CancelFunc, _ *pgDB, _ uint32) error {
				cancel()
				return nil
			},
			wantErr: context.Canceled.Error()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			src, db := openLowatSchema(t, opts, tc.tls)
			mustExec(t, db, `CREATE FUNCTION pause_at(id bigint, at bigint, secs float8) RETURNS bigint LANGUAGE plpgsql AS
				$$ BEGIN IF id = at THEN PERFORM pg_sleep(secs); END IF; RETURN id; END $$`)
			// A set-returning function in the select list streams its rows.
			mustExec(t, db, `CREATE VIEW paused AS SELECT pause_at(s.id, `+strconv.Itoa(pauseAt)+`, `+tc.pause+`) AS id, md5(s.id::text) AS h
				FROM (SELECT generate_series(1, `+strconv.Itoa(rows)+`)::bigint AS id) s`)

			// The test's own deadline only stops a hang: no case comes near it.
			guard, stop := context.WithTimeout(context.Background(), 60*time.Second)
			defer stop()
			ctx, cancel := context.WithCancel(guard)
			defer cancel()
			tbl, err := src.Describe(ctx, source.TableRef{Name: "paused"})
			if err != nil {
				t.Fatal(err)
			}
			lc := streamLowat(src.conn.PgConn().Conn())
			if lc == nil {
				t.Fatal("the source's connection has no low-water mark")
			}
			if _, isTLS := src.conn.PgConn().Conn().(*tls.Conn); isTLS != tc.tls {
				t.Fatalf("TLS = %v, want %v", isTLS, tc.tls)
			}
			pid := src.conn.PgConn().PID()
			var got int64
			acted := false
			_, err = src.Extract(ctx, source.Request{Table: tbl, BatchRows: 1000}, func(rec arrow.RecordBatch) error {
				got += rec.NumRows()
				// The server holds back up to 8 KiB (~160 rows) while it sleeps.
				if got >= pauseAt-1001 && tc.atPause != nil && !acted {
					acted = true
					// Act once the reader has parked at the pause (its
					// rescue counts it), not while it is still reading the
					// rows before it: on a loaded machine the records can
					// reach here first, and the case then tests nothing. The
					// reader is not blocked on this sink meanwhile: the
					// record after this one waits for rows held back by the
					// pause.
					for lc.rescues.Load() == 0 && guard.Err() == nil {
						time.Sleep(time.Millisecond)
					}
					return tc.atPause(guard, cancel, db, pid)
				}
				return nil
			})
			if errors.Is(err, context.DeadlineExceeded) || guard.Err() != nil {
				t.Fatalf("the COPY hung until the test's deadline (%d rows, %d rescues): %v", got, lc.rescues.Load(), err)
			}
			if tc.wantErr == "" && (err != nil || got != rows) {
				t.Fatalf("Extract: %d rows, err %v; want %d rows", got, err, rows)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("Extract: err %v, want one saying %q", err, tc.wantErr)
			}
			if lc.rescues.Load() == 0 {
				t.Error("the reader never waited on the high mark: the case tests nothing")
			}
			if tc.wantErr == "" {
				if mark := lowatOf(t, lc); mark != 1 {
					t.Errorf("low-water mark after the COPY = %d, want 1", mark)
				}
				var one int
				if err := src.conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
					t.Errorf("a query after the COPY: %d, %v", one, err)
				}
			}
		})
	}
}

// openLowatSchema is openTestSchema over TCP, with TLS required when useTLS.
func openLowatSchema(t *testing.T, opts Options, useTLS bool) (*Source, *pgDB) {
	t.Helper()
	dsn, schema := testdb.PostgresSchema(t)
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Skipf("TEST_DATABASE_URL is not a URL: %v", err)
	}
	q := u.Query()
	if q.Get("host") != "" {
		t.Skip("the low-water mark is TCP's; TEST_DATABASE_URL is a Unix socket")
	}
	if useTLS {
		q.Set("sslmode", "require")
		u.RawQuery = q.Encode()
		conn, err := pgx.Connect(context.Background(), u.String())
		if err != nil {
			t.Skipf("the server takes no TLS: %v", err)
		}
		conn.Close(context.Background())
	}
	return openOnSchema(t, u.String(), schema, opts)
}

func lowatOf(t *testing.T, lc *lowatConn) int {
	t.Helper()
	var mark int
	var err error
	if cerr := lc.raw.Control(func(fd uintptr) {
		mark, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT)
	}); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return mark
}
