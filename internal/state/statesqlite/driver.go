package statesqlite

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strconv"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wharf-data/wharf/internal/state"
)

// driver maps state.SQLStore onto database/sql and this package's SQL.
// Times are INTEGER microseconds since the epoch.
type driver struct{ db *sql.DB }

var _ state.Driver = driver{}

func (d driver) Queries() *state.Queries  { return &queries }
func (d driver) Executor() state.Executor { return executor{q: d.db, retry: true} }
func (d driver) Param(i int) string       { return "?" + strconv.Itoa(i) }
func (d driver) Close() error             { return d.db.Close() }
func (d driver) Time(t time.Time) any     { return micros(t) }
func (d driver) Begin(ctx context.Context) (state.Tx, error) {
	// BEGIN IMMEDIATE (the DSN's _txlock): writers queue for the lock,
	// and once it is taken no statement of the transaction waits for it.
	var tx *sql.Tx
	err := retryBusy(ctx, func() (err error) {
		tx, err = d.db.BeginTx(ctx, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return txn{executor{q: tx}, tx}, nil
}

// uniqueFailed finds "table.column" in SQLite's "UNIQUE constraint
// failed: wharf_runs.id" message.
var uniqueFailed = regexp.MustCompile(`UNIQUE constraint failed: ([a-z_]+\.[a-z_]+)`)

// InterpretError turns primary key and unique violations into
// *state.DuplicateError.
func (d driver) InterpretError(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		if m := uniqueFailed.FindStringSubmatch(se.Error()); m != nil {
			return &state.DuplicateError{Key: m[1], Err: err}
		}
	}
	return err
}

// micros encodes a time as the stored integer; the zero time is NULL.
func micros(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixMicro()
	return &v
}

// execQuerier is what *sql.DB and *sql.Tx share.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// executor runs statements on the database (retry: a statement that
// found the database locked runs again, see retryBusy) or in a transaction
// (which holds the write lock already).
type executor struct {
	q     execQuerier
	retry bool
}

func (e executor) run(ctx context.Context, fn func() error) error {
	if e.retry {
		return retryBusy(ctx, fn)
	}
	return fn()
}

func (e executor) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	var res sql.Result
	err := e.run(ctx, func() (err error) {
		res, err = e.q.ExecContext(ctx, query, args...)
		return err
	})
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (e executor) Query(ctx context.Context, query string, args ...any) (state.Rows, error) {
	var rows *sql.Rows
	err := e.run(ctx, func() (err error) {
		rows, err = e.q.QueryContext(ctx, query, args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

type txn struct {
	executor
	tx *sql.Tx
}

func (t txn) Commit(context.Context) error   { return t.tx.Commit() }
func (t txn) Rollback(context.Context) error { return t.tx.Rollback() }
func (t txn) Native() any                    { return t.tx }
