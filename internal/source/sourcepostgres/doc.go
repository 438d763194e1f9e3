// Package sourcepostgres reads PostgreSQL tables for wharf.
//
// Rows are streamed with binary COPY (COPY (SELECT ...) TO STDOUT (FORMAT
// binary)) and decoded straight into Arrow buffers (columns.go) or builders,
// one record per Request.BatchRows rows or source.BatchBytes of them. The
// COPY stream is parsed incrementally: CopyData message boundaries are not
// row boundaries, and a row is appended only once all its bytes have
// arrived. Decoding runs in its own goroutine while the
// caller's goroutine runs the sink, so the sink's work (Parquet encoding)
// overlaps with network reads and decoding; at most two finished records wait
// for the sink.
//
// # Type mapping
//
// Describe maps each column's type after resolving domains; docs/types.md
// has the table (one row per type, checked by TestDocTypesTable). Types with
// a binary decoder here (numbers, text, dates and times, bytea, uuid, json,
// money, interval, arrays, composites, hstore) are decoded from binary COPY;
// every other type is selected as col::text (arrays of them as col::text[])
// so that PostgreSQL itself renders its text form, and lands as a string.
// No column type fails a table.
//
// Nullability comes from the column's NOT NULL flag (views and domain
// constraints report nullable). A NULL arriving in a column described NOT NULL
// fails the run instead of landing a made-up value.
//
// # Values that need a policy
//
//   - Unconstrained numeric lands as Decimal(38, Options.NumericScale). A value
//     with more fractional digits than that scale, or more integer digits than
//     38-scale, fails the run with an error naming table, column, key and
//     value, and the catalog cast that lands it; nothing is rounded.
//   - An array value whose dimensions differ from the column's declared ones
//     fails the run the same way (its cast is json).
//   - numeric NaN, Infinity and -Infinity fail the run with an error naming
//     table, column and value; they never become NULL.
//   - date and timestamp ±infinity are clamped: -infinity lands as 0001-01-01
//     (00:00:00.000000 for timestamps) and infinity as 9999-12-31
//     (23:59:59.999999 for timestamps). Finite values outside years 1..9999
//     land unchanged, except timestamps after year 294246 (PostgreSQL allows
//     up to 294276), which do not fit microseconds since 1970 and fail the run.
//   - time 24:00:00 (which PostgreSQL accepts) lands as 23:59:59.999999, the
//     largest time of day Arrow and Parquet allow.
//   - jsonb lands as PostgreSQL's canonical jsonb text (keys sorted, spacing
//     normalised); json lands exactly as stored.
//
// # Incremental windows
//
// Extract runs in one REPEATABLE READ, READ ONLY transaction: it reads
// max(cursor) over the window (cursor > After), then copies the rows with
// After < cursor <= High from the same snapshot. COPY takes no bind
// parameters, so bounds are rendered as quoted literals of the validated
// canonical watermark text with an explicit cast to the cursor column's type.
// Rows whose cursor is NULL are read only when After is nil.
//
// A date or timestamp cursor whose maximum is infinity (or beyond year 9999)
// reports High as 9999-12-31 (…T23:59:59.999999); a bound equal to that value
// is sent to PostgreSQL as 'infinity', so those rows land once and are not read
// again. A maximum of -infinity or before year 1 reports 0001-01-01.
//
// The session runs with standard_conforming_strings=on and, unless the
// connection string sets timezone, TimeZone=UTC.
package sourcepostgres
