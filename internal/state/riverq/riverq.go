// Package riverq is River's client with its transaction type put away, so
// that each state backend builds it over its own driver (riversqlite over
// *sql.DB, riverpgxv5 over a pgx pool: state.Store.River) and the engine
// queues jobs through it without knowing which one it has. The state
// transaction comes in as the backend's native one (state.Tx.Native).
package riverq

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
	"riverqueue.com/riverui"
	"riverqueue.com/riverui/uiendpoints"
)

// Client is a River client over one backend's driver.
type Client interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	PeriodicJobs() *river.PeriodicJobBundle
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobCancel(ctx context.Context, jobID int64) (*rivertype.JobRow, error)
	JobGet(ctx context.Context, jobID int64) (*rivertype.JobRow, error)
	// InsertTx and InsertManyTx insert in the state transaction tx, the
	// backend's native one; any other type is an error.
	InsertTx(ctx context.Context, tx any, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertManyTx(ctx context.Context, tx any, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	// Executor runs River's queries outside a transaction, in Schema.
	Executor() riverdriver.Executor
	Schema() string
	// UIEndpoints is River's job UI (riverui) over this client.
	UIEndpoints() uiendpoints.Bundle
}

// New builds the River client over drv; cfg.Schema is the schema River's
// tables live in ("" = the search path).
func New[TTx any](drv riverdriver.Driver[TTx], cfg *river.Config) (Client, error) {
	c, err := river.NewClient(drv, cfg)
	if err != nil {
		return nil, fmt.Errorf("river: %w", err)
	}
	return &client[TTx]{Client: c, driver: drv, schema: cfg.Schema}, nil
}

type client[TTx any] struct {
	*river.Client[TTx]
	driver riverdriver.Driver[TTx]
	schema string
}

func (c *client[TTx]) InsertTx(ctx context.Context, native any, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	tx, err := nativeTx[TTx](native)
	if err != nil {
		return nil, err
	}
	return c.Client.InsertTx(ctx, tx, args, opts)
}

func (c *client[TTx]) InsertManyTx(ctx context.Context, native any, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error) {
	tx, err := nativeTx[TTx](native)
	if err != nil {
		return nil, err
	}
	return c.Client.InsertManyTx(ctx, tx, params)
}

func (c *client[TTx]) Executor() riverdriver.Executor { return c.driver.GetExecutor() }
func (c *client[TTx]) Schema() string                 { return c.schema }
func (c *client[TTx]) UIEndpoints() uiendpoints.Bundle {
	return riverui.NewEndpoints(c.Client, nil)
}

// nativeTx is the state transaction as River's driver wants it.
func nativeTx[TTx any](native any) (TTx, error) {
	tx, ok := native.(TTx)
	if !ok {
		return tx, fmt.Errorf("the state transaction is a %T, River's driver wants a %T", native, tx)
	}
	return tx, nil
}
