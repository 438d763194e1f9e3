package blueprint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"golang.org/x/sync/errgroup"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/crashpoint"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/state"
)

// A run with parallel > 1 whose source can hand its chunks to other
// processes (source.Chunked) and that runs on a tracked process (WorkerID)
// is read in chunks recorded in the state (state.Chunks): its own process
// decides the window and holds its snapshot (the coordinator), records
// the chunks with one River job each (QueueChunks), reads chunks itself,
// and commits once every chunk is done, with every chunk's files. Any
// process of the fleet may read a chunk (LandChunk): it claims it, writes
// files named after the chunk and attempt, and records it done with its
// files in one state transaction.

// ChunkAttempts is how many times a chunk is read before the run fails
// (its job's attempts too).
const ChunkAttempts = 3

// chunkPoll is how often the coordinator looks at the chunks others read.
const chunkPoll = 200 * time.Millisecond

// DefaultRunWatch is how often a chunk read for a run looks whether the
// run ended (Lander.RunWatch): one query of the run's row.
const DefaultRunWatch = 2 * time.Second

// errRunEnded is the cause of a chunk read stopped because its run ended.
var errRunEnded = errors.New("its run ended while the chunk was read")

// ChunkOrder is one chunk of a run read in chunks, as any process reads it
// (LandChunk): the arguments of its River job.
type ChunkOrder struct {
	Workflow string    `json:"workflow"`
	RunID    string    `json:"run_id"`
	Chunk    int       `json:"chunk"`  // from 0
	Chunks   int       `json:"chunks"` // how many the run has
	Read     ChunkRead `json:"read"`
}

// ChunkRead is what reading any chunk of a run needs, decided by the run's
// process; the same for every chunk of the run.
type ChunkRead struct {
	// SpecHash is the deployed spec the run lands (SpecHash): a process
	// whose deployed spec differs leaves the chunk to others.
	SpecHash string `json:"spec_hash"`
	// Streams is how many chunks of the run other processes read at once,
	// fleet-wide, beside the run's own stream.
	Streams int               `json:"streams"`
	Prefix  string            `json:"prefix"`
	Plan    source.SharedPlan `json:"plan"`
	Ref     source.TableRef   `json:"ref"`
	Columns []coltype.Column  `json:"columns"` // as the source reads them (after the column choices)
	Cursor  string            `json:"cursor,omitempty"`
	Masker  *source.Masker    `json:"masker"`
	Schema  []byte            `json:"schema"` // of the records written (Arrow IPC)
	Unwrap  []int             `json:"unwrap,omitempty"`
	Started time.Time         `json:"started"`
}

// SpecHash identifies a workflow's spec as deployed (its canonical JSON).
func SpecHash(job *catalog.Resolved) string { return state.HashSpec(catalog.EncodeSpec(*job)) }

// ErrChunkNotTaken is wrapped by LandChunk's error when it read nothing
// and nothing is left for its job to do: the chunk is done or being read
// by a live process, its run ended, or the deployed spec changed.
var ErrChunkNotTaken = errors.New("chunk not taken")

// chunked returns the source as source.Chunked when the run reads its
// window in recorded chunks.
func (ld *landing) chunked(src source.Source) (source.Chunked, bool) {
	cs, ok := src.(source.Chunked)
	return cs, ok && ld.streams > 1 && ld.WorkerID != ""
}

// readChunks is the coordinator: it plans the chunks (holding the
// window's snapshot until every chunk is done), records them with their
// jobs, reads chunks in its own streams (one when other processes read
// too, else wf.Parallel), waits for the others' chunks, and returns every
// chunk's files. A window of one chunk is read here into w, unrecorded.
func (ld *landing) readChunks(ctx context.Context, cs source.Chunked, req source.Request, o *output, w *lake.RunWriter,
	count func(rows, size int64), chunkDone func(done, total int)) ([]lake.FileInfo, source.Result, error) {
	l, wf, run, log := ld.Lander, ld.wf, ld.run, ld.log
	plan, err := cs.PlanChunks(ctx, req, ld.streams)
	if err != nil {
		return nil, source.Result{}, err
	}
	defer plan.Close(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after the Close below
	out, shared := plan.Result(), plan.Shared()
	n := len(shared.Chunks)
	if n <= 1 {
		if n == 1 {
			sink, release := o.sink(w, count)
			defer release()
			if out.Rows, err = plan.Read(ctx, 0, sink); err != nil {
				return nil, out, err
			}
		}
		files, err := w.Close()
		if err == nil {
			err = plan.Close(ctx)
		}
		return files, out, err
	}

	rd, err := ld.chunkRead(req, o, shared)
	if err != nil {
		return nil, out, err
	}
	streams := ld.streams
	if l.QueueChunks != nil {
		// The others are the chunk jobs, on any process, each with a
		// connection slot of its own.
		streams = 1
		if ld.releaseStreams != nil {
			ld.releaseStreams()
		}
	}
	rd.Streams = ld.streams - streams
	err = l.State.RecordChunks(ctx, run.ID, wf.Name, n, func(tx any) error {
		if l.QueueChunks == nil {
			return nil
		}
		orders := make([]ChunkOrder, n)
		for k := range orders {
			orders[k] = ChunkOrder{Workflow: wf.Name, RunID: run.ID, Chunk: k, Chunks: n, Read: *rd}
		}
		return l.QueueChunks(ctx, tx, orders)
	})
	if err != nil {
		return nil, out, err
	}
	chunkDone(0, n)
	log.Info("reading in chunks", "chunks", n, "split", out.Split, "own_streams", streams, "fleet_streams", rd.Streams)

	lk := ld.lake
	g, gctx := errgroup.WithContext(ctx)
	for i := range streams {
		// The first stream reads on the plan's connection; the others
		// import its snapshot on connections of their own.
		read, r := plan.Read, (*reusedReader)(nil)
		if i > 0 {
			r = &reusedReader{cs: cs, req: req, plan: shared}
			read = r.Read
		}
		g.Go(func() error {
			defer r.Close()
			return ld.chunkStream(gctx, lk, w, o, n, read, count, chunkDone, log)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, out, err
	}
	chunks, err := l.State.RunChunks(ctx, run.ID)
	if err != nil {
		return nil, out, err
	}
	var files []lake.FileInfo
	out.Rows = 0
	for _, c := range chunks {
		if c.Status != state.ChunkDone {
			return nil, out, fmt.Errorf("internal error: chunk %d of %d is %s after every stream ended", c.Chunk+1, n, c.Status)
		}
		out.Rows += c.Rows
		for _, f := range c.Files {
			files = append(files, lake.FileInfo{Path: f.Path, Rows: f.Rows, Bytes: f.Bytes})
		}
	}
	if err := plan.Close(ctx); err != nil {
		return nil, out, err
	}
	return files, out, nil
}

// chunkStream is one of the coordinator's streams: it claims and reads
// chunks until every chunk of the run is done, taking over chunks that
// failed or whose process died. It fails the run when a chunk failed
// ChunkAttempts times.
func (ld *landing) chunkStream(ctx context.Context, lk *lake.Lake, w *lake.RunWriter, o *output, n int,
	read func(ctx context.Context, k int, sink source.RecordSink) (int64, error),
	count func(rows, size int64), chunkDone func(done, total int), log *slog.Logger) error {
	l, run := ld.Lander, ld.run
	for {
		chunks, err := l.State.RunChunks(ctx, run.ID)
		if err != nil {
			return err
		}
		done, pending, claimed, attempt := 0, 0, -1, 0
		// From the last chunk down: chunk jobs are fetched first to last.
		for j := len(chunks) - 1; j >= 0; j-- {
			c := chunks[j]
			if c.Status == state.ChunkDone {
				done++
				continue
			}
			if c.Status == state.ChunkPending {
				pending++
			}
			if c.Status == state.ChunkPending && c.Attempts >= ChunkAttempts {
				return fmt.Errorf("chunk %d of %d failed %d times: %s", c.Chunk+1, n, c.Attempts, c.Error)
			}
			if claimed >= 0 {
				continue
			}
			if attempt, err = l.State.ClaimChunk(ctx, run.ID, c.Chunk, l.WorkerID, l.now()); err != nil {
				return err
			}
			if attempt > 0 {
				claimed = c.Chunk
			}
		}
		chunkDone(done, n)
		if done == n {
			return nil
		}
		if claimed < 0 && pending == 0 && l.QueueChunks == nil {
			// Only the run's own streams read its chunks: the others in
			// hand are theirs, and a stream whose chunk fails reads it
			// again itself.
			return nil
		}
		if claimed < 0 {
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-time.After(chunkPoll):
			}
			continue
		}
		rows, err := l.workChunk(ctx, lk, w, o, ld.prefix, run.ID, claimed, attempt, n, read, count, log)
		switch {
		case err != nil && ctx.Err() != nil:
			return err
		case err != nil:
			log.Warn("chunk failed: it is read again", "chunk", claimed+1, "chunks", n, "attempt", attempt, "err", err)
		default:
			log.Debug("chunk done", "chunk", claimed+1, "chunks", n, "attempt", attempt, "rows", rows)
		}
	}
}

// chunkRead is what any process needs to read a chunk of this run.
func (ld *landing) chunkRead(req source.Request, o *output, shared source.SharedPlan) (*ChunkRead, error) {
	var buf bytes.Buffer
	iw := ipc.NewWriter(&buf, ipc.WithSchema(o.schema))
	if err := iw.Close(); err != nil {
		return nil, fmt.Errorf("encode the run's schema: %w", err)
	}
	return &ChunkRead{
		SpecHash: SpecHash(ld.job), Prefix: ld.prefix, Plan: shared, Ref: req.Table.Ref, Columns: req.Table.Columns,
		Cursor: req.Cursor, Masker: o.masker, Schema: buf.Bytes(), Unwrap: o.unwrap, Started: o.started,
	}, nil
}

// workChunk reads attempt of chunk k (claimed by this process) into files
// of its own and records it done with them; a failed attempt removes its
// files and puts the chunk back (state.Chunks.FailChunk). A chunk read
// again first removes what earlier attempts left.
func (l *Lander) workChunk(ctx context.Context, lk *lake.Lake, w *lake.RunWriter, o *output, prefix, runID string, k, attempt, n int,
	read func(ctx context.Context, k int, sink source.RecordSink) (int64, error), count func(rows, size int64), log *slog.Logger) (int64, error) {
	cw := w.Chunk(k, attempt)
	var rows int64
	err := func() error {
		if attempt > 1 {
			removed, err := lk.DeleteChunkFiles(ctx, prefix, runID, k)
			if err != nil {
				return err
			}
			log.Info("reading a chunk again", "chunk", k+1, "chunks", n, "attempt", attempt, "files_removed", removed)
		}
		sink, release := o.sink(cw, count)
		defer release()
		var err error
		if rows, err = read(ctx, k, sink); err != nil {
			return err
		}
		files, err := cw.Close()
		if err != nil {
			return err
		}
		st := make([]state.File, len(files))
		for i, f := range files {
			st[i] = state.File{Path: f.Path, Rows: f.Rows, Bytes: f.Bytes}
		}
		err = l.State.FinishChunk(ctx, runID, k, l.WorkerID, rows, st)
		if err != nil && !errors.Is(err, state.ErrChunkLost) && l.chunkDoneBy(ctx, runID, k, len(files)) {
			return nil // the record reached the state after all
		}
		return err
	}()
	if err == nil {
		return rows, nil
	}
	if aerr := cw.Abort(); aerr != nil {
		log.Error("remove files of a failed chunk", "chunk", k+1, "err", aerr)
	}
	l.failChunk(ctx, runID, k, err, log)
	return 0, fmt.Errorf("chunk %d of %d: %w", k+1, n, err)
}

// failChunk puts chunk k, claimed by this process, back to be read again,
// recording why.
func (l *Lander) failChunk(ctx context.Context, runID string, k int, why error, log *slog.Logger) {
	err := l.State.FailChunk(context.WithoutCancel(ctx), runID, k, l.WorkerID, secret.RedactString(why.Error()))
	if err != nil && !errors.Is(err, state.ErrChunkLost) {
		log.Warn("record a failed chunk", "chunk", k+1, "err", err)
	}
}

// chunkDoneBy reports whether chunk k is recorded done by this process
// with files files (read back after FinishChunk returned an error).
func (l *Lander) chunkDoneBy(ctx context.Context, runID string, k, files int) bool {
	chunks, err := l.State.RunChunks(context.WithoutCancel(ctx), runID)
	return err == nil && k < len(chunks) && chunks[k].Status == state.ChunkDone &&
		chunks[k].WorkerID == l.WorkerID && len(chunks[k].Files) == files
}

// LandChunk reads one chunk of a run another process (or this one)
// coordinates, if it is still to be read: it opens the source and the lake,
// claims the chunk, imports the run's snapshot, writes its files and
// records it done. It then goes on with the run's next pending chunks
// (first to last; the run's own stream takes them last to first) while
// the caller holds its slots, until none is left to claim: the other chunk
// jobs wait for the run's slot a few seconds at a time, and a job that
// stopped after one chunk would leave the fleet's share of the run idle
// meanwhile (their jobs then find their chunk done). A process that
// cannot open them (no secret, no route to the source) fails before
// claiming: the chunk is left to others, its attempts untouched. It
// returns an error wrapping ErrChunkNotTaken when there was nothing for it
// to do, and one wrapping source.ErrSnapshotGone when the run's process
// ended its snapshot (it died: the run will be abandoned, and the chunk is
// not worth trying again). A later chunk that fails otherwise is put back
// for another stream, and ends the job without an error.
func (l *Lander) LandChunk(ctx context.Context, job *catalog.Resolved, order ChunkOrder) error {
	rd := &order.Read
	k, n := order.Chunk, order.Chunks
	log := l.logger().With("workflow", order.Workflow, "run", order.RunID)
	wrap := func(err error) error {
		return fmt.Errorf("workflow %s: run %s: chunk %d of %d: %w", order.Workflow, order.RunID, k+1, n, err)
	}
	if SpecHash(job) != rd.SpecHash {
		return wrap(fmt.Errorf("the workflow was deployed again since the run started: %w", ErrChunkNotTaken))
	}
	if l.WorkerID == "" {
		return wrap(errors.New("this process has no ID to claim it with"))
	}
	r, err := l.chunkReader(ctx, job, order)
	if err != nil {
		return wrap(err)
	}
	defer r.src.Close()
	defer r.read.Close()
	// Fault tests kill a process reading another's chunk (OtherChunk).
	_, coordinator, err := l.State.RunJob(ctx, order.RunID)
	if err != nil {
		return wrap(err)
	}
	other := coordinator != l.WorkerID
	attempt, err := l.State.ClaimChunk(ctx, order.RunID, k, l.WorkerID, l.now())
	if err != nil {
		return wrap(err)
	}
	if attempt == 0 {
		return wrap(fmt.Errorf("done, being read by a live process, or its run ended: %w", ErrChunkNotTaken))
	}
	count := func(int64, int64) {
		if other {
			crashpoint.Hit(crashpoint.OtherChunk)
		}
	}
	ctx, stopWatch := l.watchRun(ctx, order.RunID, log)
	defer stopWatch()
	for first := true; attempt > 0; first = false {
		log.Info("reading a chunk", "chunk", k+1, "chunks", n, "attempt", attempt)
		rows, err := l.workChunk(ctx, r.lake, r.w, r.o, rd.Prefix, order.RunID, k, attempt, n, r.read.Read, count, log)
		if cause := context.Cause(ctx); err != nil && errors.Is(cause, errRunEnded) {
			log.Info("chunk stopped: its run ended", "chunk", k+1, "chunks", n, "why", cause)
			return wrap(fmt.Errorf("%w: %w", cause, ErrChunkNotTaken))
		}
		switch {
		case err != nil && (first || ctx.Err() != nil || errors.Is(err, source.ErrSnapshotGone)):
			return fmt.Errorf("workflow %s: run %s: %w", order.Workflow, order.RunID, err)
		case errors.Is(err, state.ErrChunkLost):
			log.Info("chunk not recorded: its run ended or another stream took it over", "chunk", k+1, "chunks", n, "attempt", attempt)
			return nil
		case err != nil:
			log.Warn("chunk failed: it is read again", "chunk", k+1, "chunks", n, "attempt", attempt, "err", err)
			return nil
		}
		log.Info("chunk done", "chunk", k+1, "chunks", n, "attempt", attempt, "rows", rows)
		if k, attempt, err = l.claimNext(ctx, order.RunID); err != nil {
			// This job's own chunk is done: nothing to try it again for.
			if !errors.Is(context.Cause(ctx), errRunEnded) {
				log.Warn("no next chunk taken: the run's other streams read the rest", "err", err)
			}
			return nil
		}
	}
	return nil
}

// claimNext claims the first chunk of run runID that is still to be read
// (pending, or running on a dead process) and has attempts left (one that
// has none fails the run in its own stream): its number and the attempt
// the claim starts, or attempt 0 when there is none.
func (l *Lander) claimNext(ctx context.Context, runID string) (k, attempt int, err error) {
	chunks, err := l.State.RunChunks(ctx, runID)
	if err != nil {
		return 0, 0, err
	}
	for _, c := range chunks {
		if c.Status == state.ChunkDone || c.Attempts >= ChunkAttempts {
			continue
		}
		if attempt, err = l.State.ClaimChunk(ctx, runID, c.Chunk, l.WorkerID, l.now()); err != nil || attempt > 0 {
			return c.Chunk, attempt, err
		}
	}
	return 0, 0, nil
}

// watchRun returns ctx cancelled (cause errRunEnded) once run runID is
// seen ended, looking every RunWatch, so that a chunk of a cancelled or
// failed run stops being read instead of being read whole and refused
// (state.Chunks.FinishChunk). stop ends the watch.
func (l *Lander) watchRun(ctx context.Context, runID string, log *slog.Logger) (_ context.Context, stop func()) {
	every := l.RunWatch
	if every <= 0 {
		every = DefaultRunWatch
	}
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			run, err := l.State.Run(ctx, runID)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Debug("look whether the chunk's run ended", "err", err)
			case err == nil && run.Status.Final():
				cancel(fmt.Errorf("%w (%s)", errRunEnded, run.Status))
				return
			}
		}
	}()
	return ctx, func() {
		close(done)
		cancel(nil)
	}
}

// remoteChunk is what a process needs to read a chunk of a run it does not
// coordinate, opened from the chunk's order and the deployed spec.
type remoteChunk struct {
	src  source.Source
	lake *lake.Lake
	w    *lake.RunWriter
	o    *output
	read *reusedReader
}

// chunkReader opens what reading a chunk of order's run takes: the source
// (closed by the caller), the lake, the run's writer and output.
func (l *Lander) chunkReader(ctx context.Context, job *catalog.Resolved, order ChunkOrder) (*remoteChunk, error) {
	rd, wf := &order.Read, &job.Workflow
	schema, err := ipc.NewReader(bytes.NewReader(rd.Schema))
	if err != nil {
		return nil, fmt.Errorf("decode the run's schema: %w", err)
	}
	outSchema := schema.Schema()
	schema.Release()
	masker := rd.Masker
	if masker == nil {
		masker = &source.Masker{}
	}
	masker, err = l.salted(ctx, wf, masker)
	if err != nil {
		return nil, err
	}
	table := &source.Table{Ref: rd.Ref, Columns: rd.Columns}
	part, err := partitioner(wf, job.Lake.Iceberg(), table, rd.Started)
	if err != nil {
		return nil, err
	}
	lk, err := l.lakes.open(ctx, &job.Lake, l.Secrets)
	if err != nil {
		return nil, err
	}
	w, err := lk.NewRunWriter(ctx, rd.Prefix, order.RunID, outSchema, part, writerOptions(&job.Lake))
	if err != nil {
		return nil, err
	}
	src, err := l.openSource(ctx, &job.Connection)
	if err != nil {
		return nil, err
	}
	cs, ok := src.(source.Chunked)
	if !ok {
		src.Close()
		return nil, fmt.Errorf("connection %s: this source cannot read a chunk of another process's run", job.Connection.Name)
	}
	req := source.Request{Table: table, Cursor: rd.Cursor, BatchRows: batchRows}
	return &remoteChunk{
		src: src, lake: lk, w: w,
		o:    &output{schema: outSchema, masker: masker, unwrap: rd.Unwrap, started: rd.Started},
		read: &reusedReader{cs: cs, req: req, plan: rd.Plan},
	}, nil
}

// reusedReader reads chunks of a plan with one source.ChunkReader
// (source.Chunked.OpenChunks), opened at its first chunk and kept for the
// next, again after a failed one: a stream that reads several chunks
// imports the snapshot once.
type reusedReader struct {
	cs   source.Chunked
	req  source.Request
	plan source.SharedPlan
	r    source.ChunkReader
}

// Read reads chunk k into sink (source.ChunkReader.Read).
func (rr *reusedReader) Read(ctx context.Context, k int, sink source.RecordSink) (int64, error) {
	if rr.r == nil {
		var err error
		if rr.r, err = rr.cs.OpenChunks(ctx, rr.req, rr.plan); err != nil {
			return 0, err
		}
	}
	rows, err := rr.r.Read(ctx, k, sink)
	if err != nil {
		rr.Close()
	}
	return rows, err
}

// Close closes the reader, if one is open (nil: nothing to close).
func (rr *reusedReader) Close() {
	if rr != nil && rr.r != nil {
		rr.r.Close()
		rr.r = nil
	}
}
