package sourcepostgres

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/testdb"
)

func TestPasswordNeverInErrors(t *testing.T) {
	const pw = "S3cretPw0rd"
	ctx := context.Background()
	cases := []string{
		"postgres://postgres:" + pw + "@127.0.0.1:1/postgres?connect_timeout=2",
		"postgres://postgres:" + pw + "@127.0.0.1:notaport/postgres",
		"postgres://postgres:" + pw + "%zz@127.0.0.1:5432/postgres",
		"postgres://postgres:" + pw + "@[::1/postgres",
		"postgresql://postgres@127.0.0.1:1/postgres?password=" + pw + "&connect_timeout=2",
		"host=127.0.0.1 port=1 user=postgres password=" + pw + " connect_timeout=2",
		"host=127.0.0.1 port=1 user=postgres password='" + pw + " with space' connect_timeout=2",
		"host=127.0.0.1 port=notaport user=postgres password=" + pw,
		"host=127.0.0.1 user=postgres password='" + pw + " S3cretTail",
		"host=127.0.0.1 port=5432 user=wharf_no_such_role password=" + pw + " dbname=postgres connect_timeout=5",
	}
	for _, dsn := range cases {
		src, err := Open(ctx, dsn)
		if err == nil {
			src.Close()
			t.Errorf("Open(%q) succeeded, want an error", strings.ReplaceAll(dsn, pw, "…"))
			continue
		}
		if strings.Contains(err.Error(), pw) || strings.Contains(err.Error(), "S3cret") {
			t.Errorf("error leaks the password: %v", err)
		}
	}

	// Errors from a live connection pass the same filter: a table named
	// like the password is not echoed.
	u, err := url.Parse(testdb.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	if _, has := u.User.Password(); has {
		t.Skip("TEST_DATABASE_URL carries a password; this check adds its own under trust auth")
	}
	testdb.Postgres(t) // skips or fails when the server is missing
	u.User = url.UserPassword(u.User.Username(), pw)
	src, err := Open(ctx, u.String())
	if err != nil {
		t.Fatalf("Open with a password under trust auth: %v", err)
	}
	defer src.Close()
	_, err = src.Describe(ctx, source.TableRef{Name: pw})
	if !errors.Is(err, source.ErrNotFound) || strings.Contains(err.Error(), pw) {
		t.Errorf("Describe error %v: want ErrNotFound without the password", err)
	}
}

// TestCancelLongCopy cancels a COPY of an endless-looking view: Extract must
// return promptly, and the Source reconnects for the next call.
func TestCancelLongCopy(t *testing.T) {
	for _, pipelined := range []bool{true, false} {
		src, db := openTestSchema(t, DefaultOptions())
		src.pipelined = pipelined
		// A set-returning function in the select list streams (in FROM it
		// would be materialised first).
		mustExec(t, db, "CREATE VIEW endless AS SELECT s.id, md5(s.id::text) AS h FROM (SELECT generate_series(1, 1000000000)::bigint AS id) s")
		ctx, cancel := context.WithCancel(context.Background())
		tbl, err := src.Describe(ctx, source.TableRef{Name: "endless"})
		if err != nil {
			t.Fatal(err)
		}
		var calls int
		var cancelled time.Time
		_, err = src.Extract(ctx, source.Request{Table: tbl, BatchRows: 1000}, func(arrow.RecordBatch) error {
			calls++
			if calls == 3 {
				cancelled = time.Now()
				cancel()
			}
			return nil
		})
		elapsed := time.Since(cancelled)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("pipelined=%v: err = %v, want context.Canceled", pipelined, err)
		}
		if elapsed > 5*time.Second || calls > 5 {
			t.Errorf("pipelined=%v: cancel took %v and %d sink calls", pipelined, elapsed, calls)
		}
		mustExec(t, db, "CREATE TABLE after_cancel (id int)")
		if _, err := src.Describe(context.Background(), source.TableRef{Name: "after_cancel"}); err != nil {
			t.Errorf("pipelined=%v: source unusable after cancel: %v", pipelined, err)
		}
	}
}

func TestReconnectAfterTerminate(t *testing.T) {
	src, db := openTestSchema(t, DefaultOptions())
	ctx := context.Background()
	mustExec(t, db, "CREATE TABLE r (id int)")
	pid := src.conn.PgConn().PID()
	if _, err := db.conn.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	// The first call may see the dead connection; the next one reconnects.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := src.Describe(ctx, source.TableRef{Name: "r"})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reconnect after the backend was terminated: %v", err)
		}
	}
	if src.conn.PgConn().PID() == pid {
		t.Error("still on the terminated backend")
	}
}

// TestArrowMemoryReleased runs extracts (good, failing sink, cancelled) with
// a checked allocator over the sources' own: every buffer must be released
// (a buffer never released is never recycled either).
func TestArrowMemoryReleased(t *testing.T) {
	mem := memory.NewCheckedAllocator(source.Buffers)
	opts := DefaultOptions()
	opts.Allocator = mem
	src, db := openTestSchema(t, opts)
	createRoundTrip(t, db)
	ctx := context.Background()
	tbl, err := src.Describe(ctx, source.TableRef{Name: "rt"})
	if err != nil {
		t.Fatal(err)
	}
	for _, pipelined := range []bool{true, false} {
		src.pipelined = pipelined
		if _, err := src.Extract(ctx, source.Request{Table: tbl, BatchRows: 2}, discard); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		n := 0
		if _, err := src.Extract(ctx, source.Request{Table: tbl, BatchRows: 1}, func(arrow.RecordBatch) error {
			if n++; n == 2 {
				return boom
			}
			return nil
		}); !errors.Is(err, boom) {
			t.Fatalf("pipelined=%v: err %v, want boom", pipelined, err)
		}
		cctx, cancel := context.WithCancel(ctx)
		_, err := src.Extract(cctx, source.Request{Table: tbl, BatchRows: 1}, func(arrow.RecordBatch) error { cancel(); return nil })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("pipelined=%v: err %v, want context.Canceled", pipelined, err)
		}
		mem.AssertSize(t, 0)
	}
}

// TestCopyStreamSplitAnywhere feeds a real binary COPY stream to the decoder
// in chunks of every small size: rows split across CopyData messages (and
// the header split from the first row) must decode exactly as one piece.
func TestCopyStreamSplitAnywhere(t *testing.T) {
	_, db := openTestSchema(t, DefaultOptions())
	createRoundTrip(t, db)
	live, stream, schema := copyStream(t, db, "rt")
	decodeAll := func(chunk int) []arrow.RecordBatch {
		var recs []arrow.RecordBatch
		dec, err := newCopyDecoder(memory.DefaultAllocator, "rt", live.cols, schema, 4, func(r arrow.RecordBatch) error {
			recs = append(recs, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Release()
		b := stream.Bytes()
		for len(b) > 0 {
			n := min(chunk, len(b))
			// A fresh copy per write: the decoder must not keep p.
			p := bytes.Clone(b[:n])
			if _, err := dec.Write(p); err != nil {
				t.Fatalf("chunk %d: %v", chunk, err)
			}
			clear(p)
			b = b[n:]
		}
		if err := dec.finish(); err != nil {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
		return recs
	}
	whole := decodeAll(stream.Len())
	defer release(whole)
	for _, chunk := range []int{1, 2, 3, 5, 7, 13, 19, 64, 100, 1000} {
		parts := decodeAll(chunk)
		if len(parts) != len(whole) {
			t.Fatalf("chunk %d: %d records, want %d", chunk, len(parts), len(whole))
		}
		for i := range whole {
			if !array.RecordApproxEqual(whole[i], parts[i], array.WithNaNsEqual(true)) {
				t.Errorf("chunk %d: record %d differs", chunk, i)
			}
		}
		release(parts)
	}

	// A truncated stream is an error, not a short result.
	dec, err := newCopyDecoder(memory.DefaultAllocator, "rt", live.cols, schema, 4, func(r arrow.RecordBatch) error { r.Release(); return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Release()
	if _, err := dec.Write(stream.Bytes()[:stream.Len()-10]); err != nil {
		t.Fatal(err)
	}
	if err := dec.finish(); err == nil || !strings.Contains(err.Error(), "table rt") {
		t.Errorf("truncated stream: %v, want an error naming the table", err)
	}
}

// TestDecoderRejectsNullInNotNull feeds a NULL to a column described NOT NULL.
func TestDecoderRejectsNullInNotNull(t *testing.T) {
	_, db := openTestSchema(t, DefaultOptions())
	mustExec(t, db, "CREATE TABLE nn (v int)")
	mustExec(t, db, "INSERT INTO nn VALUES (1), (NULL)")
	ctx := context.Background()
	live, err := describe(ctx, db.conn, source.TableRef{Name: "nn"}, DefaultNumericScale)
	if err != nil {
		t.Fatal(err)
	}
	live.cols[0].col.Nullable = false
	var stream bytes.Buffer
	if _, err := db.conn.PgConn().CopyTo(ctx, &stream, "COPY nn TO STDOUT (FORMAT binary)"); err != nil {
		t.Fatal(err)
	}
	schema := coltype.ArrowSchema([]coltype.Column{live.cols[0].col})
	dec, err := newCopyDecoder(memory.DefaultAllocator, "nn", live.cols, schema, 10, func(r arrow.RecordBatch) error { r.Release(); return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Release()
	if _, err := dec.Write(stream.Bytes()); err == nil || !strings.Contains(err.Error(), `column "v": NULL`) {
		t.Errorf("NULL in NOT NULL: %v", err)
	}
}

// copyStream describes table and returns its whole binary COPY stream with
// the Arrow schema of all its columns.
func copyStream(t *testing.T, db *pgDB, table string) (*liveTable, *bytes.Buffer, *arrow.Schema) {
	t.Helper()
	ctx := context.Background()
	live, err := describe(ctx, db.conn, source.TableRef{Name: table}, DefaultNumericScale)
	if err != nil {
		t.Fatal(err)
	}
	var stream bytes.Buffer
	if _, err := db.conn.PgConn().CopyTo(ctx, &stream, "COPY "+quoteIdent(table)+" TO STDOUT (FORMAT binary)"); err != nil {
		t.Fatal(err)
	}
	cols := make([]coltype.Column, len(live.cols))
	for i, c := range live.cols {
		cols[i] = c.col
	}
	return live, &stream, coltype.ArrowSchema(cols)
}

func release(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// growthCounter counts reallocations that must move a buffer.
type growthCounter struct {
	memory.Allocator
	grown atomic.Int64
}

func (g *growthCounter) Reallocate(size int, b []byte) []byte {
	if size > cap(b) {
		g.grown.Add(1)
	}
	return g.Allocator.Reallocate(size, b)
}

// TestDecoderSizesBuildersOnce checks that after the first batch the
// builders start every batch with room for all of it: no column grows (and
// so zeroes and copies its buffers again) while a batch fills.
func TestDecoderSizesBuildersOnce(t *testing.T) {
	_, db := openTestSchema(t, DefaultOptions())
	mustExec(t, db, "CREATE TABLE sized (id bigint NOT NULL, name text, doc jsonb)")
	mustExec(t, db, `INSERT INTO sized SELECT g, 'name ' || lpad(g::text, 6, '0'), jsonb_build_object('k', g % 10)
		FROM generate_series(1, 4000) g`)
	live, stream, schema := copyStream(t, db, "sized")
	mem := &growthCounter{Allocator: memory.DefaultAllocator}
	var grownInFirst int64 = -1
	batches := 0
	dec, err := newCopyDecoder(mem, "sized", live.cols, schema, 1000, func(r arrow.RecordBatch) error {
		defer r.Release()
		if batches++; batches == 1 {
			grownInFirst = mem.grown.Load()
		}
		return nil
	})
	decodeAll(t, dec, err, stream)
	if batches != 4 {
		t.Fatalf("%d batches, want 4", batches)
	}
	if later := mem.grown.Load() - grownInFirst; later != 0 {
		t.Errorf("buffers grew %d times after the first batch (%d times in it), want none", later, grownInFirst)
	}
}

// Wide rows cut a record at source.BatchBytes, not at batchRows: a stream
// holds a few records at once, and 1,000 rows of 64 KiB would be 64 MiB
// each. The next batch's builders are sized for as few rows.
func TestDecoderCutsRecordsByBytes(t *testing.T) {
	t.Parallel()
	_, db := openTestSchema(t, DefaultOptions())
	mustExec(t, db, "CREATE TABLE wide (id bigint NOT NULL, body text)")
	mustExec(t, db, "INSERT INTO wide SELECT g, repeat(chr(65 + g % 26), 65536) FROM generate_series(1, 300) g")
	live, stream, schema := copyStream(t, db, "wide")
	var sizes []int64
	rows := int64(0)
	dec, err := newCopyDecoder(memory.DefaultAllocator, "wide", live.cols, schema, 1000, func(r arrow.RecordBatch) error {
		defer r.Release()
		rows += r.NumRows()
		sizes = append(sizes, r.NumRows())
		n := 0
		for _, c := range r.Columns() {
			for _, b := range c.Data().Buffers() {
				if b != nil {
					n += b.Len()
				}
			}
		}
		if n > source.BatchBytes+70000 {
			t.Errorf("record %d: %d rows, %d bytes, want at most source.BatchBytes (%d) and one row", len(sizes), r.NumRows(), n, source.BatchBytes)
		}
		return nil
	})
	decodeAll(t, dec, err, stream)
	if rows != 300 || len(sizes) < 4 {
		t.Errorf("%d rows in records of %v rows, want 300 rows in records of about %d", rows, sizes, source.BatchBytes/65536)
	}
}

// After a record cut by bytes (wide rows), the builders are reserved for as
// few rows; when narrow rows follow, the batch outgrows that reserve and
// the decoder must grow the builders before appending without checks
// (copyDecoder.makeRoom). Every flat type's value must land intact.
func TestDecoderGrowsPastItsReserve(t *testing.T) {
	t.Parallel()
	_, db := openTestSchema(t, DefaultOptions())
	mustExec(t, db, `CREATE TABLE grow (id bigint NOT NULL, body text, n numeric(12,2), ts timestamptz,
		day date, ok boolean, u uuid, f float8, i int, s smallint, j jsonb)`)
	mustExec(t, db, `INSERT INTO grow SELECT g, CASE WHEN g <= 100 THEN repeat('w', 65536) ELSE 'v' || g END,
		g / 100.0, timestamptz '2000-01-01 00:00:00+00' + g * interval '1 second', date '2000-01-01' + g,
		g % 2 = 0, md5(g::text)::uuid, g / 4.0, g, g % 1000, jsonb_build_object('k', g)
		FROM generate_series(1, 5000) g`)
	live, stream, schema := copyStream(t, db, "grow")
	seen := map[int64]bool{}
	dec, err := newCopyDecoder(memory.DefaultAllocator, "grow", live.cols, schema, 100000, func(r arrow.RecordBatch) error {
		defer r.Release()
		for row := 0; row < int(r.NumRows()); row++ {
			g := r.Column(0).(*array.Int64).Value(row) // rows come in the heap's order
			seen[g] = true
			sum := md5.Sum([]byte(strconv.FormatInt(g, 10)))
			body := "v" + strconv.FormatInt(g, 10)
			if g <= 100 {
				body = strings.Repeat("w", 65536)
			}
			got := []any{
				r.Column(0).(*array.Int64).Value(row), r.Column(1).(*array.String).Value(row),
				r.Column(2).(*array.Decimal128).Value(row).LowBits(), r.Column(3).(*array.Timestamp).Value(row),
				r.Column(4).(*array.Date32).Value(row), r.Column(5).(*array.Boolean).Value(row),
				string(r.Column(6).(*extensions.UUIDArray).Storage().(*array.FixedSizeBinary).Value(row)),
				r.Column(7).(*array.Float64).Value(row), r.Column(8).(*array.Int32).Value(row),
				r.Column(9).(*array.Int16).Value(row), r.Column(10).(array.ExtensionArray).Storage().(*array.String).Value(row),
			}
			want := []any{g, body, uint64(g), arrow.Timestamp(pgEpochMicros + g*1e6), arrow.Date32(pgEpochDays + g),
				g%2 == 0, string(sum[:]), float64(g) / 4, int32(g), int16(g % 1000), fmt.Sprintf(`{"k": %d}`, g)}
			for c := range want {
				if got[c] != want[c] {
					t.Fatalf("row %d column %s: %v, want %v", g, r.ColumnName(c), got[c], want[c])
				}
			}
		}
		return nil
	})
	decodeAll(t, dec, err, stream)
	if len(seen) != 5000 || !seen[1] || !seen[5000] {
		t.Errorf("%d distinct rows, want 1 to 5000", len(seen))
	}
}

// decodeAll feeds a whole COPY stream to a decoder newCopyDecoder returned
// (with err) and finishes it.
func decodeAll(t *testing.T, dec *copyDecoder, err error, stream *bytes.Buffer) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Release()
	if _, err := dec.Write(stream.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := dec.finish(); err != nil {
		t.Fatal(err)
	}
}
