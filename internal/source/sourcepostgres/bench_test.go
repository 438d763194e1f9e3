package sourcepostgres

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/testdb"
)

const benchSchema = "wharf_bench"

// benchRows is 200,000 unless WHARF_BENCH_ROWS says otherwise (the design
// notes compare against psql on 5,000,000).
var benchRows = func() int64 {
	if v, err := strconv.ParseInt(os.Getenv("WHARF_BENCH_ROWS"), 10, 64); err == nil && v > 0 {
		return v
	}
	return 200_000
}()

// benchTable creates (once, kept between runs) a table of benchRows rows
// with the mixed columns of the measurements in the design notes.
func benchTable(b *testing.B) source.TableRef {
	b.Helper()
	conn := testdb.Postgres(b)
	ctx := context.Background()
	name := fmt.Sprintf("mixed_%d", benchRows)
	ref := source.TableRef{Schema: benchSchema, Name: name}
	ident := pgx.Identifier{benchSchema, name}.Sanitize()
	// Serialise creation between concurrent benchmark runs.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext('wharf_bench'))"); err != nil {
		b.Fatal(err)
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtext('wharf_bench'))")
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+ident).Scan(&n); err == nil && n == benchRows {
		return ref
	}
	sql := fmt.Sprintf(`
CREATE SCHEMA IF NOT EXISTS %[1]s;
DROP TABLE IF EXISTS %[2]s;
CREATE TABLE %[2]s (
  id bigint NOT NULL, qty integer, amount numeric(12,2), name text, note varchar(40),
  created_at timestamptz, updated_at timestamptz, day date, active boolean,
  attrs jsonb, ref uuid, score double precision);
INSERT INTO %[2]s
SELECT g, (g %% 1000)::int, (g %% 100000) / 100.0, 'customer ' || g,
       CASE WHEN g %% 5 = 0 THEN NULL ELSE md5(g::text) END,
       timestamptz '2020-01-01' + g * interval '1 second', timestamptz '2024-01-01' + g * interval '1 millisecond',
       date '2020-01-01' + (g %% 2000), g %% 2 = 0,
       jsonb_build_object('k', g, 'tag', 't' || (g %% 10)), md5(g::text)::uuid, g / 7.0
FROM generate_series(1, %[3]d) g;
ANALYZE %[2]s;`, pgx.Identifier{benchSchema}.Sanitize(), ident, benchRows)
	if _, err := conn.Exec(ctx, sql); err != nil {
		b.Fatal(err)
	}
	return ref
}

// BenchmarkExtract measures rows/s of COPY + Arrow decoding with an empty
// sink, and with a sink that encodes Parquet (snappy, no dictionary, to
// io.Discard) to show what pipelining buys when the sink works.
func BenchmarkExtract(b *testing.B) {
	ref := benchTable(b)
	ctx := context.Background()
	src, err := Open(ctx, testdb.PostgresURL())
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	tbl, err := src.Describe(ctx, ref)
	if err != nil {
		b.Fatal(err)
	}
	schema := coltype.ArrowSchema(tbl.Columns)
	for _, sinkKind := range []string{"none", "parquet"} {
		for _, pipelined := range []bool{true, false} {
			b.Run(fmt.Sprintf("sink=%s/pipelined=%v", sinkKind, pipelined), func(b *testing.B) {
				src.pipelined = pipelined
				b.ReportAllocs()
				var rows int64
				for b.Loop() {
					sink := func(arrow.RecordBatch) error { return nil }
					var fw *pqarrow.FileWriter
					if sinkKind == "parquet" {
						props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy),
							parquet.WithDictionaryDefault(false), parquet.WithMaxRowGroupLength(1<<20))
						fw, err = pqarrow.NewFileWriter(schema, io.Discard, props, pqarrow.NewArrowWriterProperties())
						if err != nil {
							b.Fatal(err)
						}
						sink = fw.WriteBuffered
					}
					res, err := src.Extract(ctx, source.Request{Table: tbl}, sink)
					if err != nil {
						b.Fatal(err)
					}
					if fw != nil {
						if err := fw.Close(); err != nil {
							b.Fatal(err)
						}
					}
					if res.Rows != benchRows {
						b.Fatalf("%d rows, want %d", res.Rows, benchRows)
					}
					rows += res.Rows
				}
				b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}

// copyMessages records a COPY stream as the decoder receives it: one Write
// per CopyData message (PostgreSQL sends one per row).
type copyMessages struct {
	buf  []byte
	ends []int
}

func (m *copyMessages) Write(p []byte) (int, error) {
	m.buf = append(m.buf, p...)
	m.ends = append(m.ends, len(m.buf))
	return len(p), nil
}

// BenchmarkDecode measures the COPY decoder alone (no socket, no sink) on
// the benchmark table's stream, replayed message by message: all columns,
// then each column by itself (COPY of a one-column SELECT), to see what
// each type costs per value. CPU profiles of it are not diluted by pgx,
// Parquet or zstd.
func BenchmarkDecode(b *testing.B) {
	ref := benchTable(b)
	conn := testdb.Postgres(b)
	ctx := context.Background()
	live, err := describe(ctx, conn, ref, DefaultNumericScale)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, cols []pgColumn, sql string) {
		var msgs copyMessages
		if _, err := conn.PgConn().CopyTo(ctx, &msgs, sql); err != nil {
			b.Fatal(err)
		}
		want := make([]coltype.Column, len(cols))
		for i, c := range cols {
			want[i] = c.col
		}
		schema := coltype.ArrowSchema(want)
		b.ReportAllocs()
		b.SetBytes(int64(len(msgs.buf)))
		for b.Loop() {
			if rows := replayCopy(b, &msgs, ref.String(), cols, schema); rows != benchRows {
				b.Fatalf("%d rows, want %d", rows, benchRows)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*benchRows), "ns/row")
	}
	b.Run("all", func(b *testing.B) {
		run(b, live.cols, "COPY "+live.ident()+" TO STDOUT (FORMAT binary)")
	})
	for i, c := range live.cols {
		b.Run(fmt.Sprintf("col=%s", c.col.SourceType), func(b *testing.B) {
			run(b, live.cols[i:i+1], "COPY (SELECT "+pgx.Identifier{c.col.Name}.Sanitize()+" FROM "+live.ident()+") TO STDOUT (FORMAT binary)")
		})
	}
}

// replayCopy decodes msgs with a new decoder and returns the rows it emitted
// (see "Where wharf's CPU per row goes" in docs/design-notes.md for
// counting its instructions).
func replayCopy(b *testing.B, msgs *copyMessages, table string, cols []pgColumn, schema *arrow.Schema) int64 {
	rows := int64(0)
	dec, err := newCopyDecoder(memory.DefaultAllocator, table, cols, schema, source.DefaultBatchRows, func(r arrow.RecordBatch) error {
		rows += r.NumRows()
		r.Release()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Release()
	start := 0
	for _, end := range msgs.ends {
		if _, err := dec.Write(msgs.buf[start:end]); err != nil {
			b.Fatal(err)
		}
		start = end
	}
	if err := dec.finish(); err != nil {
		b.Fatal(err)
	}
	return rows
}
