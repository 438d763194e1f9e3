// Package sourcepostgres reads PostgreSQL tables for wharf.
//
// Rows are streamed with binary COPY (COPY (SELECT ...) TO STDOUT (FORMAT
// binary)) and decoded straight into Arrow builders, one record per
// Request.BatchRows rows. The COPY stream is parsed incrementally: CopyData
// message boundaries are not row boundaries, and a row is appended only once
// all its bytes have arrived. Decoding runs in its own goroutine while the
// caller's goroutine runs the sink, so the sink's work (Parquet encoding)
// overlaps with network reads and decoding; at most two finished records wait
// for the sink.
//
// # Type mapping
//
// Describe maps each column's type (after resolving domains to their base
// type) as follows. Anything not listed is rejected with a
// *coltype.UnsupportedError naming table, column and type: wharf never lands
// silently altered data.
//
//	PostgreSQL                              wharf kind         Arrow
//	smallint (int2)                         Int16              int16
//	integer (int4)                          Int32              int32
//	bigint (int8)                           Int64              int64
//	real (float4)                           Float32            float32
//	double precision (float8)               Float64            float64
//	numeric(p,s), 1 <= p <= 38, 0 <= s <= p Decimal(p,s)       decimal128(p,s)
//	numeric(p,s), s < 0 (PostgreSQL 15+)    Decimal(p-s,0)     decimal128(p-s,0)
//	numeric(p,s), s > p (PostgreSQL 15+)    Decimal(s,s)       decimal128(s,s)
//	numeric(p,s) needing precision > 38     unsupported
//	numeric (unconstrained)                 Decimal(38,S)      decimal128(38,S), S = Options.NumericScale (default 9)
//	text, varchar(n), char(n)/bpchar        String             utf8 (char(n) keeps its blank padding)
//	name, citext, enum types                String             utf8 (an enum lands as its label)
//	boolean                                 Bool               bool
//	date                                    Date               date32
//	timestamp [without time zone]           Timestamp          timestamp[us]
//	timestamp with time zone                TimestampTZ        timestamp[us, UTC]
//	time [without time zone]                Time               time64[us]
//	bytea                                   Bytes              binary
//	uuid                                    UUID               arrow.uuid extension (fixed_size_binary(16))
//	json, jsonb                             JSON               arrow.json extension over utf8
//	domain over any of the above            as its base type
//	arrays, interval, timetz, money, bit, "char", oid, inet, cidr, macaddr,
//	xml, tsvector, ranges, composite, geometric, hstore, ...      unsupported
//
// Nullability comes from the column's NOT NULL flag (views and domain
// constraints report nullable). A NULL arriving in a column described NOT NULL
// fails the run instead of landing a made-up value.
//
// # Values that need a policy
//
//   - Unconstrained numeric lands as Decimal(38, Options.NumericScale). A value
//     with more fractional digits than that scale, or more integer digits than
//     38-scale, fails the run with an error naming table, column and value;
//     nothing is rounded.
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
