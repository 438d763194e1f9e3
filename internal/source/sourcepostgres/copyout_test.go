package sourcepostgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestCopyOutMatchesCopyTo reads the same COPY with copyOut, at read sizes
// that split the messages' headers and bodies everywhere, and with
// pgconn.CopyTo: the bytes and the command tag are the same, notices
// among the rows are passed over, and the connection serves the next
// statement.
func TestCopyOutMatchesCopyTo(t *testing.T) {
	t.Parallel()
	_, db := openTestSchema(t, DefaultOptions())
	ctx := context.Background()
	mustExec(t, db, "CREATE TABLE rows_ (id int, body text, raw bytea)")
	// Small rows, NULLs, and (big_) rows larger than copyReadSize.
	mustExec(t, db, `INSERT INTO rows_ SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE repeat(md5(g::text), g % 7) END,
		CASE WHEN g % 5 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END FROM generate_series(1, 300) g`)
	mustExec(t, db, "CREATE TABLE big_ AS SELECT * FROM rows_ WHERE id < 10")
	mustExec(t, db, "INSERT INTO big_ VALUES (1000, repeat('x', 700000), NULL), (1001, NULL, decode(repeat('ab', 300000), 'hex'))")
	mustExec(t, db, `CREATE FUNCTION noisy(i int) RETURNS int LANGUAGE plpgsql AS $$
		BEGIN IF i % 50 = 0 THEN RAISE NOTICE 'row %', i; END IF; RETURN i; END $$`)

	for _, sql := range []string{
		"COPY rows_ TO STDOUT (FORMAT binary)",
		"COPY big_ TO STDOUT (FORMAT binary)",
		"COPY (SELECT noisy(id), body FROM rows_ ORDER BY id) TO STDOUT (FORMAT binary)",
		"COPY (SELECT 1 WHERE false) TO STDOUT (FORMAT binary)",
	} {
		var want bytes.Buffer
		wantTag, err := db.conn.PgConn().CopyTo(ctx, &want, sql)
		if err != nil {
			t.Fatalf("%s: CopyTo: %v", sql, err)
		}
		for _, size := range []int{1, 2, 3, 5, 7, 64, 8191, copyReadSize} {
			if size < 64 && strings.Contains(sql, "big_") {
				continue // 1.3 MB a few bytes at a time adds nothing but time
			}
			var got bytes.Buffer
			tag, err := copyOutSized(ctx, db.conn.PgConn(), sql, &got, size)
			if err != nil {
				t.Fatalf("%s, reads of %d bytes: %v", sql, size, err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("%s, reads of %d bytes: %d bytes differ from CopyTo's %d", sql, size, got.Len(), want.Len())
			}
			if tag.String() != wantTag.String() {
				t.Fatalf("%s, reads of %d bytes: tag %q, want %q", sql, size, tag, wantTag)
			}
			var one int
			if err := db.conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
				t.Fatalf("%s, reads of %d bytes: the connection after: %v", sql, size, err)
			}
		}
	}
}

// TestCopyOutServerError: an error the server raises mid-COPY comes back
// as its *pgconn.PgError (SQLSTATE and all, which the retry policy reads),
// and the connection stays in step.
func TestCopyOutServerError(t *testing.T) {
	t.Parallel()
	_, db := openTestSchema(t, DefaultOptions())
	ctx := context.Background()
	var got bytes.Buffer
	_, err := copyOutSized(ctx, db.conn.PgConn(),
		"COPY (SELECT 1 / (g - 3000) FROM generate_series(1, 5000) g) TO STDOUT (FORMAT binary)", &got, 100)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "22012" {
		t.Fatalf("err = %v, want division_by_zero (22012)", err)
	}
	if got.Len() == 0 {
		t.Error("no rows before the error: the test does not reach mid-stream")
	}
	var one int
	if err := db.conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("the connection after a server error: %v", err)
	}

	// In a transaction the error fails it, and pgconn knows (pgx reads
	// its status at the transaction's end).
	tx, err := db.conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := copyOut(ctx, db.conn.PgConn(), "COPY (SELECT 1 / 0) TO STDOUT (FORMAT binary)", &got); !errors.As(err, &pgErr) {
		t.Fatalf("err = %v, want the server's", err)
	}
	if s := db.conn.PgConn().TxStatus(); s != 'E' {
		t.Errorf("transaction status after the error %q, want 'E'", s)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	// A context already done sends nothing and leaves the connection be.
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := copyOut(done, db.conn.PgConn(), "COPY (SELECT 1) TO STDOUT (FORMAT binary)", &got); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context: err = %v", err)
	}
	if err := db.conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("the connection after a COPY with a cancelled context: %v", err)
	}

	// Text instead of binary is refused before any byte is handed on.
	got.Reset()
	if _, err := copyOut(ctx, db.conn.PgConn(), "COPY (SELECT 1) TO STDOUT", &got); err == nil || !strings.Contains(err.Error(), "not binary") {
		t.Errorf("text COPY: err = %v", err)
	}
	if got.Len() != 0 {
		t.Errorf("text COPY handed on %d bytes", got.Len())
	}
}

// failingWriter fails its nth write.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n--; w.n == 0 {
		return 0, fmt.Errorf("decoder says no")
	}
	return len(p), nil
}

// TestCopyOutStopsEarly: the writer's error or a cancelled context ends a
// COPY of many rows without reading them all, and closes the connection,
// whose stream is then in an unknown place.
func TestCopyOutStopsEarly(t *testing.T) {
	t.Parallel()
	// 10^8 rows, streamed (a function scan alone would first materialise
	// all of them).
	const endless = "COPY (SELECT a, b, md5(b::text) FROM generate_series(1, 10000) a, generate_series(1, 10000) b) TO STDOUT (FORMAT binary)"
	t.Run("writer", func(t *testing.T) {
		t.Parallel()
		_, db := openTestSchema(t, DefaultOptions())
		_, err := copyOut(context.Background(), db.conn.PgConn(), endless, &failingWriter{n: 1000})
		if err == nil || err.Error() != "decoder says no" {
			t.Fatalf("err = %v, want the writer's", err)
		}
		if !db.conn.PgConn().IsClosed() {
			t.Error("the connection is still open")
		}
	})
	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		src, db := openTestSchema(t, DefaultOptions())
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		w := writerFunc(func(p []byte) (int, error) {
			cancel() // the reads after this one see the deadline
			return len(p), nil
		})
		// The server stops sending mid-stream for ten minutes: only a
		// cancel request ends its statement before that.
		pid := db.conn.PgConn().PID()
		_, err := copyOut(ctx, db.conn.PgConn(),
			"COPY (SELECT g, CASE WHEN g = 20000 THEN pg_sleep(600)::text END FROM generate_series(1, 30000) g) TO STDOUT (FORMAT binary)", w)
		if err == nil {
			t.Fatal("a cancelled COPY succeeded")
		}
		if !db.conn.PgConn().IsClosed() {
			t.Error("the connection is still open")
		}
		if _, err := copyOut(context.Background(), db.conn.PgConn(), endless, w); err == nil || !strings.Contains(err.Error(), "closed") {
			t.Errorf("a COPY on the closed connection: err = %v", err)
		}
		// The backend goes (within the 15 s abandon allows; the test's
		// own limit is only there to stop a hang).
		for i := 0; ; i++ {
			var n int
			if err := src.conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
			if i == 600 {
				t.Fatalf("backend %d still there after the COPY was abandoned", pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
