package statepg

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wharf-data/wharf/internal/state"
)

// driver maps state.SQLStore onto a pgx pool and this package's SQL.
type driver struct{ pool *pgxpool.Pool }

var _ state.Driver = driver{}

func (d driver) Queries() *state.Queries  { return &queries }
func (d driver) Executor() state.Executor { return executor{d.pool} }
func (d driver) Param(i int) string       { return "$" + strconv.Itoa(i) }
func (d driver) Close() error             { d.pool.Close(); return nil }

func (d driver) Time(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (d driver) Begin(ctx context.Context) (state.Tx, error) {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return txn{executor{tx}, tx}, nil
}

// uniqueKeys names the key behind each unique constraint.
var uniqueKeys = map[string]string{
	"wharf_runs_pkey":        "wharf_runs.id",
	"wharf_workflows_pkey":   "wharf_workflows.name",
	"wharf_workflows_id_key": "wharf_workflows.id",
}

// InterpretError turns unique violations (23505) into
// *state.DuplicateError.
func (d driver) InterpretError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		key, ok := uniqueKeys[pe.ConstraintName]
		if !ok {
			key = pe.TableName + "." + pe.ConstraintName
		}
		return &state.DuplicateError{Key: key, Err: err}
	}
	return err
}

// execQuerier is what a pool and a transaction share.
type execQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

type executor struct{ q execQuerier }

func (e executor) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := e.q.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (e executor) Query(ctx context.Context, query string, args ...any) (state.Rows, error) {
	return e.q.Query(ctx, query, args...)
}

type txn struct {
	executor
	tx pgx.Tx
}

func (t txn) Commit(ctx context.Context) error   { return t.tx.Commit(ctx) }
func (t txn) Rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }
func (t txn) Native() any                        { return t.tx }
