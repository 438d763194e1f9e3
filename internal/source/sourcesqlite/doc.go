// Package sourcesqlite reads tables from a SQLite database file, read-only,
// with modernc.org/sqlite (pure Go). It implements source.Source.
//
// # Schemas
//
// SQLite has no schemas: a table is named "table" or "main.table". Any
// other schema is reported as not found.
//
// # Types
//
// SQLite accepts any text as a column's declared type and stores each value
// with its own storage class (INTEGER, REAL, TEXT, BLOB). Describe maps the
// declared type to a neutral kind: known names first, then SQLite's own
// affinity rules, so a column lands as what SQLite stores in it.
//
//	declared type (case-insensitive)                     kind
//	BOOLEAN, BOOL                                        bool     (integer 0/1, or text 'true'/'false')
//	DATE                                                 date     (text YYYY-MM-DD)
//	DATETIME, TIMESTAMP                                  timestamp   (ISO-8601 text, ' ' or 'T'; or integer Unix seconds)
//	TIMESTAMPTZ, TIMESTAMP WITH TIME ZONE                timestamptz (ISO-8601 text with Z or ±HH:MM, none = UTC; or Unix seconds)
//	TIME                                                 time     (text HH:MM[:SS[.ffffff]])
//	UUID                                                 uuid     (16-byte blob or UUID text)
//	JSON                                                 json     (valid JSON text, or a bare number)
//	DECIMAL(p,s), NUMERIC(p,s), NUMBER(p,s); (p) = (p,0) decimal(p,s), 1 <= p <= 38
//	DECIMAL, NUMERIC without (p,s)                       float64  (SQLite stores them as INTEGER or REAL)
//	contains INT (INTEGER, BIGINT, SMALLINT, ...)        int64    (SQLite does not enforce widths)
//	contains CHAR, CLOB or TEXT                          string
//	contains BLOB                                        bytes    (text values land as their UTF-8 bytes)
//	contains REAL, FLOA or DOUB                          float64
//	no declared type, ANY                                string   (integers and reals as decimal text; a blob is an error)
//	anything else (NUMERIC affinity, e.g. MONEY)         float64
//
// A value that cannot be converted exactly to its column's kind (text in an
// INTEGER column, 12.345 in a DECIMAL(8,2) column, a non-zero UTC offset in
// a zone-less TIMESTAMP column, a blob in a TEXT column) fails the extract
// with a *ConversionError naming table, column, row (primary key or rowid)
// and the value's storage class; it never becomes NULL or a rounded value.
// The value itself is not put in the message, since it may be personal data.
// Timestamps are truncated to microseconds.
//
// A column is nullable unless declared NOT NULL, or it is an INTEGER
// PRIMARY KEY (the rowid), or a primary-key column of a WITHOUT ROWID table.
//
// # Incremental windows
//
// Extract runs in one read transaction: max(cursor), then the rows with
// cursor > After and cursor <= that max, so High and the rows come from one
// snapshot. Comparisons run in SQL on the stored values, so the bound sent
// for After is written the way the column stores its values: a number for
// INTEGER or REAL values; for timestamps stored as text, the same date/time
// separator and UTC offset as the stored values, with the fraction padded
// so that '2024-01-02 10:00:00', '2024-01-02 10:00:00.5' and
// '2024-01-02 10:00:00.500000' all compare by their time. Values written in
// mixed forms (both integers and text, 'T' and ' ' separators, different
// offsets) are detected where possible and fail the extract with a message
// saying so rather than skip rows.
package sourcesqlite
