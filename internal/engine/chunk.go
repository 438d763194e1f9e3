package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/state"
)

// River's kind and queue of chunk jobs.
const (
	KindChunk  = "wharf_chunk"
	QueueChunk = "wharf_chunk"
)

// ChunkArgs is one chunk of a run read in chunks (blueprint.ChunkOrder):
// any process of the fleet may read it, while the run's own process
// coordinates.
type ChunkArgs struct {
	blueprint.ChunkOrder
}

// Kind is the River job kind.
func (ChunkArgs) Kind() string { return KindChunk }

// queueChunks inserts the jobs of a run's chunks in tx, the state
// transaction that records them (blueprint.Lander.QueueChunks).
func (e *Engine) queueChunks(ctx context.Context, tx any, orders []blueprint.ChunkOrder) error {
	params := make([]river.InsertManyParams, len(orders))
	for i, o := range orders {
		params[i] = river.InsertManyParams{Args: ChunkArgs{o}, InsertOpts: &river.InsertOpts{Queue: QueueChunk, MaxAttempts: blueprint.ChunkAttempts}}
	}
	return e.q.insertManyTx(ctx, tx, params)
}

// chunkWorker runs chunk jobs.
type chunkWorker struct {
	river.WorkerDefaults[ChunkArgs]
	e *Engine
}

// Timeout: a chunk is part of a run, which ends at --run-timeout.
func (w *chunkWorker) Timeout(*river.Job[ChunkArgs]) time.Duration {
	return w.e.cfg.RunTimeout + time.Minute
}

// Work reads the job's chunk, if it is still to be read: with a slot of
// the run's streams (at most parallel - 1 chunk jobs read one run at
// once, fleet-wide) and one of its connection's (Connection.StreamCap), or it
// waits for them without using an attempt. A chunk that is done, in
// hand elsewhere, or of a run that ended completes the job; so does a run
// whose snapshot is gone (its process died: the run is abandoned and
// lands again as a new run). A failure is retried (elsewhere, or by the
// run's own stream, whichever claims it first).
func (w *chunkWorker) Work(ctx context.Context, job *river.Job[ChunkArgs]) error {
	e, a := w.e, job.Args.ChunkOrder
	log := e.log.With("workflow", a.Workflow, "run", a.RunID, "chunk", a.Chunk+1, "chunks", a.Chunks, "job", job.ID, "attempt", job.Attempt)
	d, err := deploy.Get(ctx, e.store, a.Workflow)
	if errors.Is(err, state.ErrNotFound) {
		log.Info("chunk not read: the workflow is not deployed any more")
		return nil
	}
	if err != nil {
		return e.waitIfBusy(log, err)
	}
	// At most parallel - 1 chunk jobs read one run at once, fleet-wide
	// (its own stream is the other), each on a connection slot.
	holder := "chunk/" + strconv.FormatInt(job.ID, 10)
	release, err := e.takeSlot(ctx, log, "run/"+a.RunID, max(a.Read.Streams, 1), holder)
	if err != nil {
		return err
	}
	defer release()
	releaseConn, err := e.connSlot(ctx, log, &d.Spec.Connection, holder)
	if err != nil {
		return err
	}
	defer releaseConn()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(e.releaseCtx, func() { cancel(context.Cause(e.releaseCtx)) })
	defer stop()
	err = e.lander.LandChunk(ctx, &d.Spec, a)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, blueprint.ErrChunkNotTaken):
		log.Debug("chunk not read", "why", err)
		return nil
	case errors.Is(err, source.ErrSnapshotGone):
		log.Info("chunk not read: the run's snapshot is gone (its process ended it or died); the run lands again as a new run", "err", err)
		return nil
	case errors.Is(context.Cause(ctx), errReleased):
		log.Warn("chunk released: this process is stopping")
		return river.JobSnooze(0)
	case errors.Is(context.Cause(ctx), rivertype.ErrJobCancelledRemotely):
		return err
	}
	return fmt.Errorf("chunk %d of %d of run %s: %w", a.Chunk+1, a.Chunks, a.RunID, err)
}

// streamSlots takes up to want slots of conn for the extra streams of run
// runID read in this process (blueprint.Lander.StreamSlots).
func (e *Engine) streamSlots(ctx context.Context, conn *catalog.Connection, runID string, want int) (int, func()) {
	var held []string
	release := func() {
		for _, h := range held {
			if err := e.store.ReleaseLease(context.WithoutCancel(ctx), conn.Name, h); err != nil {
				e.log.Warn("release connection slot", "connection", conn.Name, "err", err)
			}
		}
	}
	limit := conn.StreamCap(e.cfg.PerConnection)
	if limit == 0 {
		return want, release
	}
	for i := range want {
		h := runID + "/" + strconv.Itoa(i+1)
		ok, err := e.store.AcquireLease(ctx, conn.Name, limit, h, e.self.ID, e.now())
		if err != nil {
			e.log.Warn("take a connection slot for a stream", "connection", conn.Name, "err", err)
			break
		}
		if !ok {
			break
		}
		held = append(held, h)
	}
	return len(held), release
}
