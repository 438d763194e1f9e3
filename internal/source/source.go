// Package source defines how wharf reads a table from a relational database.
// Implementations live in sub-packages (sourcepostgres, sourcesqlite, ...) and
// all pass the conformance suite in sourcetest.
package source

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wharf-data/wharf/internal/coltype"
)

// Table is a described table: its columns in ordinal order.
type Table struct {
	Ref     TableRef
	Columns []coltype.Column
}

// Column returns the named column (exact match first, then case-insensitive), or nil.
func (t *Table) Column(name string) *coltype.Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return &t.Columns[i]
		}
	}
	return nil
}

// ErrNotFound is wrapped by errors about a missing table or column.
var ErrNotFound = errors.New("not found")

// Request asks for the rows of one window of a table.
type Request struct {
	Table *Table // as returned by Describe; Columns are read in this order
	// Cursor is the cursor column name ("" = full load: every row, no watermark).
	Cursor string
	// After is the exclusive lower bound of the window (nil = from the start:
	// a full load that still reports the high watermark). Rows whose cursor is
	// NULL are read only when After is nil.
	After *coltype.Watermark
	// BatchRows is the number of rows per Arrow record (0 = 65,536).
	BatchRows int
	// Settle holds back date/time cursor values newer than the source's
	// clock minus Settle (the catalog's settle): they land next run.
	Settle time.Duration
}

// Result summarises an extract.
type Result struct {
	Rows int64
	// High is max(cursor) within the window, read in the same snapshot as the
	// rows (nil when there is no cursor or the window had no rows). Rows with
	// cursor <= High and > After are exactly the rows delivered.
	High *coltype.Watermark
	// Bound says which rule capped High below max(cursor), for the run's
	// log ("" = none applied): rows a source transaction still in flight
	// may write must stay above High, so that they land next run.
	Bound string
	// Unbounded, when not "", says that no rule could bound the window
	// below the writes in flight (a MySQL/MariaDB role without PROCESS,
	// and no settle), so a row committed late can be skipped for good,
	// and what to grant or set: the run warns with it.
	Unbounded string
	// Chunks is how many chunks the window was read in (0 or 1: one), and
	// Split how it was split, or why it was not, for the run's log.
	Chunks int
	Split  string
}

// InFlightChecker is a source whose bound on a window below the writes in
// flight needs a privilege its role may lack (MySQL/MariaDB: PROCESS, to
// read information_schema.innodb_trx). wharf validate asks it once per
// connection.
type InFlightChecker interface {
	// Unbounded returns what Result.Unbounded would say of a window
	// without settle: "" when the role sees the writes in flight.
	Unbounded(ctx context.Context) (string, error)
}

// RecordSink receives the records of an extract in order. The record is
// released by the caller after Write returns; Write must Retain it to keep it.
type RecordSink func(arrow.RecordBatch) error

// Source is one open connection to a source database.
type Source interface {
	// Database is the source's database name, used in the lake layout.
	Database() string
	// Describe reads a table's columns from the information schema. A missing
	// table wraps ErrNotFound; an unsupported column type returns a
	// *coltype.UnsupportedError naming table, column and type.
	Describe(ctx context.Context, ref TableRef) (*Table, error)
	// Extract streams the window's rows as Arrow records with schema
	// coltype.ArrowSchema(req.Table.Columns). The upper bound (High) and the
	// rows come from one consistent snapshot.
	Extract(ctx context.Context, req Request, sink RecordSink) (Result, error)
	Close() error
}

// Qualifier is implemented by sources where a table named without a
// schema is in one the connection decides (Describe's own rule), so that
// two spellings of one table can be told to be one.
type Qualifier interface {
	// DefaultSchema is the schema of a table named without one: MySQL's
	// connection database, PostgreSQL's current_schema() (public, or the
	// first schema of the connection's search_path that exists).
	DefaultSchema(ctx context.Context) (string, error)
}

// Qualify returns ref with the schema src reads it from when ref names
// none and src is a Qualifier; else ref.
func Qualify(ctx context.Context, src Source, ref TableRef) (TableRef, error) {
	q, ok := src.(Qualifier)
	if !ok || ref.Schema != "" {
		return ref, nil
	}
	schema, err := q.DefaultSchema(ctx)
	ref.Schema = schema
	return ref, err
}

// Parallel is implemented by sources that can read one window in several
// streams at once.
type Parallel interface {
	// ExtractParallel reads what Extract reads, as one consistent picture
	// with one High, in up to len(sinks) streams at once, each on a
	// connection of its own: the window is split into chunks that the
	// streams take in turn, and stream i hands its records to sinks[i]
	// (one goroutine per sink; different sinks run concurrently). chunkDone,
	// if not nil, is called after each chunk with the chunks done and the
	// total, one call at a time.
	ExtractParallel(ctx context.Context, req Request, sinks []RecordSink, chunkDone func(done, total int)) (Result, error)
}

// Chunked is implemented by sources whose chunks can be read by any
// process: the run's process plans them (PlanChunks), holding the window's
// snapshot, and hands the plan's Shared part to the streams, which read
// chunks on connections of their own (OpenChunks), in this process or
// another. Together the chunks are exactly what Extract reads.
type Chunked interface {
	// PlanChunks decides the window, as Extract would, and cuts it into
	// chunks for up to streams streams. The Plan holds the window's
	// snapshot until it is closed: no other call on this source runs
	// meanwhile.
	PlanChunks(ctx context.Context, req Request, streams int) (Plan, error)
	// OpenChunks starts reading in the snapshot of a plan (its Shared
	// part, from any process), or in a snapshot of its own when the plan
	// shares none (MySQL/MariaDB: the window's bounds keep its chunks
	// exact), to read chunks of it, on a connection no other reader uses:
	// the source's own idle one when nothing else holds the source (which
	// then waits for the reader's Close), else a new one. req is the
	// request the plan was made for. The error wraps ErrSnapshotGone
	// when the snapshot cannot be imported any more (the planning process
	// ended it, or died).
	OpenChunks(ctx context.Context, req Request, plan SharedPlan) (ChunkReader, error)
}

// ChunkReader reads chunks of a plan on a connection no other reader uses.
type ChunkReader interface {
	// Read reads chunk k into sink and returns the rows read; one call
	// at a time.
	Read(ctx context.Context, k int, sink RecordSink) (int64, error)
	// Close ends the reader's snapshot and its connection, or gives the
	// source its connection back.
	Close() error
}

// Plan is a window cut into chunks, held open by the process that decided
// it (Chunked.PlanChunks).
type Plan interface {
	// Result is the window's High and Bound and how it was split (Chunks,
	// Split); Rows is left to the caller.
	Result() Result
	// Shared is what a stream on any process needs to read a chunk.
	Shared() SharedPlan
	// Read reads chunk k on the plan's own connection (in the snapshot
	// that decided the window), one call at a time.
	Read(ctx context.Context, k int, sink RecordSink) (int64, error)
	// Close ends the snapshot: no chunk can be read after it. It may be
	// called more than once.
	Close(ctx context.Context) error
}

// SharedPlan is the part of a plan any process can read a chunk with: it
// is stored with the run's chunk jobs (JSON).
type SharedPlan struct {
	// Snapshot is the exported snapshot the chunks are read in ("" = each
	// stream starts one of its own).
	Snapshot string `json:"snapshot,omitempty"`
	// Where is the window's predicate ("" = every row).
	Where string `json:"where,omitempty"`
	// Chunks holds one predicate per chunk ("" = the whole window).
	Chunks []string `json:"chunks"`
}

// ErrSnapshotGone is wrapped by OpenChunks errors when the plan's snapshot
// cannot be imported any more: the process that holds it ended it or died,
// and the chunk can only be read in a new run.
var ErrSnapshotGone = errors.New("the run's snapshot is gone")

// DefaultBatchRows is used when Request.BatchRows is 0.
const DefaultBatchRows = 65536

// BatchBytes caps a record by size as BatchRows caps it by rows: a decoder
// emits its record once the rows in it came to this many bytes from the
// source (values as sent, about their size in Arrow), whichever limit comes
// first. Each stream holds a few records at once (one being built, one
// waiting, one being encoded, and the garbage collector's slack), so rows of
// kilobytes would otherwise take hundreds of MB per stream; narrow rows
// (the 12-column benchmark table: ~180 bytes, 3 MB per 16k-row record) do
// not reach it.
const BatchBytes = 4 << 20

// ValueBytes is what a database/sql value counts towards BatchBytes: the
// length of text and bytes, 8 for anything else.
func ValueBytes(v any) int {
	switch v := v.(type) {
	case []byte:
		return len(v)
	case string:
		return len(v)
	}
	return 8
}
