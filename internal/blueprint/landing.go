// Package blueprint holds wharf's job logic. The built-in "landing" blueprint
// lands one workflow: it reads the window (watermark - lookback, high] from the
// source in one snapshot, adds ingestion_timestamp, writes Parquet into the
// lake under <database>/<table>/ingestion_date=YYYY-MM-DD/, and commits the
// run's files and the new watermark in one state transaction.
package blueprint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/uuid"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/crashpoint"
	"github.com/wharf-data/wharf/internal/icetable"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/state"
)

// batchRows is the number of rows per Arrow record between source and lake.
// 16k rows keep the records in flight (the source decodes one while the lake
// encodes another) small: on the mixed 5M-row benchmark peak RSS fell from
// ~290 MB with 64k-row records to ~225 MB at the same speed.
const batchRows = 16384

// Progress is reported while a workflow lands.
type Progress struct {
	Workflow string
	Rows     int64 // rows read so far
	Bytes    int64 // in-memory (Arrow) bytes read so far
	// Chunks is how many chunks a run read in parallel streams is split
	// into (0 until known, or when it is read in one), ChunksDone how many
	// have landed.
	Chunks, ChunksDone int
}

// Result is the outcome of one landing run: its record's fields (status,
// rows, bytes, window; see landing.result, the one place that derives them)
// and what the run found on the way.
type Result struct {
	Workflow      string
	RunID         string
	Status        state.RunStatus // succeeded | failed | cancelled | skipped
	Rows          int64
	Bytes         int64 // bytes written to the lake
	Files         []lake.FileInfo
	FullLoad      bool
	Cursor        string
	WatermarkFrom *coltype.Watermark
	WatermarkTo   *coltype.Watermark
	Started       time.Time
	Duration      time.Duration
	Notes         []string // e.g. "no updated_at column: full load"
	// Bound is the rule that capped the window's high end below max(cursor)
	// (transactions in flight, settle), from the source; "" = none.
	Bound string
	// Unbounded is source.Result's: what to grant or set when nothing
	// bounded the window below the writes in flight; "" = bounded.
	Unbounded string
	// Chunks and Split say how the window was read in parallel streams
	// (Workflow.Parallel > 1): in how many chunks, split how, or why not.
	Chunks int
	Split  string
	// Schema is what the run landed (nil when it failed before knowing);
	// SchemaChange how it differs from the workflow's previous landed
	// schema (nil when it does not, or there is none).
	Schema       *source.Schema
	SchemaChange *source.SchemaChange
	Err          error
}

// Lander runs landing jobs. It caches open lakes across runs; it is safe for
// concurrent use by several goroutines.
type Lander struct {
	State state.Store
	// Secrets is the provider URI for bare secret names (file:DIR, ...).
	Secrets string
	Logger  *slog.Logger
	// OnProgress, if set, is called as batches arrive.
	OnProgress func(Progress)
	// WorkerID names this process in the state store's heartbeats
	// (state.Fleet): runs are recorded with it, so that other processes can
	// tell a run in progress from one whose process died. "" = not tracked.
	WorkerID string
	// OpenSource opens a source for a connection (default: by engine, and
	// a finished run's source serves the next run of its connection: see
	// sourcePool).
	OpenSource func(ctx context.Context, conn *catalog.Connection, secrets string) (source.Source, error)
	// QueueChunks, if set, inserts one River job per chunk of a run read in
	// chunks, in the state transaction tx that records the chunks
	// (state.Chunks.RecordChunks): processes of the fleet then read them
	// (LandChunk) beside the run's own stream. nil = the run's own
	// streams read every chunk (wharf run).
	QueueChunks func(ctx context.Context, tx any, orders []ChunkOrder) error
	// StreamSlots, if set, takes a slot of conn for each stream after the
	// first of a run read in parallel in this process (Connection.StreamCap:
	// the engine's leases across the fleet, wharf run's across its runs):
	// it returns how many of want it got (the run reads with that many more
	// streams) and what releases them. nil = no cap beyond the run's own.
	StreamSlots func(ctx context.Context, conn *catalog.Connection, runID string, want int) (got int, release func())
	// RunWatch is how often a process reading a chunk (LandChunk) looks
	// whether the chunk's run ended (cancelled, failed), to stop reading
	// it (0 = DefaultRunWatch).
	RunWatch time.Duration
	// AllowReset lets a run whose workflow's cursor column is not the one
	// its watermark was committed with, or whose table is not the one the
	// run that committed it landed, forget the watermark and load the whole
	// table again (a parquet lake then holds every row twice). false
	// (wharf run without --allow-reset): such a run fails with a
	// *ResetRefusedError. The engine sets it: it runs deployed specs, and
	// deploy already asks --allow-reset for a changed cursor or table.
	AllowReset bool

	lakes    lakeCache
	catalogs catalogCache
	sources  sourcePool
	// running holds the IDs of the runs this Lander is executing. A run
	// recorded on WorkerID that is not among them was left unfinished by
	// this very process (its end could not be recorded: the state was
	// unreachable) and is a leftover, like a dead process's.
	running sync.Map
}

// now is the store's clock (state.WithClock), shared with the engine.
func (l *Lander) now() time.Time { return l.State.Now() }

func (l *Lander) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Close releases the lakes and idle sources the lander opened.
func (l *Lander) Close() error {
	return errors.Join(l.catalogs.close(), l.lakes.close(), l.sources.close())
}

// Land runs the landing blueprint for one workflow now: it records a run
// (on this process, when WorkerID is set) and lands it with LandRun. The
// returned Result always names the workflow; Result.Err (also returned) is
// set when it failed.
func (l *Lander) Land(ctx context.Context, job *catalog.Resolved, trigger string) (*Result, error) {
	wf := &job.Workflow
	// The run is recorded first, so that every failure is in the run history.
	run := &state.Run{
		ID: uuid.Must(uuid.NewV7()).String(), Workflow: wf.Name, Trigger: trigger,
		Status: state.StatusRunning, StartedAt: l.now(),
	}
	var err error
	if l.WorkerID != "" {
		err = l.State.StartJobRun(ctx, run, 0, l.WorkerID)
	} else {
		err = l.State.StartRun(ctx, run)
	}
	if err != nil {
		run.Status = state.StatusFailed
		err = fmt.Errorf("workflow %s: record run start: %w", wf.Name, err)
		return l.newLanding(job, run).result(err), err
	}
	return l.LandRun(ctx, job, run)
}

// execute lands the run: source, window, lake, cleanup of leftovers, schema
// policy, then extractAndCommit. It returns why the run failed; LandRun
// names the workflow in front, so these errors do not.
func (ld *landing) execute(ctx context.Context) error {
	l, wf, conn, lk, run, res, log := ld.Lander, ld.wf, &ld.job.Connection, &ld.job.Lake, ld.run, ld.res, ld.log
	ref, err := catalog.ParseTableRef(wf.Table)
	if err != nil {
		return err
	}

	// Every stream of a parallel run is a connection: at most the
	// connection's max_parallel; under serve/worker the run also takes a
	// slot for each before it starts, and reads with as many streams as
	// it got (at least one).
	ld.streams = max(wf.Parallel, 1)
	if c := conn.MaxParallel; c > 0 && ld.streams > c {
		log.Info("connection's max_parallel: fewer streams", "connection", conn.Name, "parallel", wf.Parallel, "streams", c)
		ld.streams = c
	}
	if ld.streams > 1 && l.StreamSlots != nil {
		got, release := l.StreamSlots(ctx, conn, run.ID, ld.streams-1)
		ld.releaseStreams = sync.OnceFunc(release)
		defer ld.releaseStreams()
		if got < ld.streams-1 {
			log.Info("connection at its cap (max_parallel, --per-connection) with other runs' streams: fewer streams",
				"connection", conn.Name, "parallel", wf.Parallel, "streams", got+1)
		}
		ld.streams = got + 1
	}

	src, err := l.openSource(ctx, conn)
	if err != nil {
		return err
	}
	defer src.Close()
	ld.src = src

	table, err := src.Describe(ctx, ref)
	if err != nil {
		return err
	}
	if err := CheckAddedColumn(wf, table); err != nil {
		return err
	}

	// Cursor: explicit, defaulted (used only if the table has it), or none.
	cursor := ""
	if wf.Cursor != "" {
		col := table.Column(wf.Cursor)
		switch {
		case col != nil && coltype.CursorKind(col.Kind):
			cursor = col.Name
		case col != nil:
			return fmt.Errorf("table %s: cursor column %q has type %s, which cannot be a cursor", ref, col.Name, col.SourceType)
		case wf.CursorAuto:
			res.Notes = append(res.Notes, fmt.Sprintf("no %s column: full load", wf.Cursor))
		default:
			return fmt.Errorf("table %s: cursor column %q: %w", ref, wf.Cursor, source.ErrNotFound)
		}
	}
	// The cursor was checked on the table as described: a cursor need
	// not land. What lands is the table after the column choices.
	described := table
	table, masker, err := source.Choose(table, Choices(wf))
	if err != nil {
		return err
	}
	if masker, err = l.salted(ctx, wf, masker); err != nil {
		return err
	}
	if wf.PartitionBy != "" && table.Column(wf.PartitionBy) == nil {
		if described.Column(wf.PartitionBy) != nil {
			return fmt.Errorf("table %s: partition column %q does not land (columns / exclude_columns)", ref, wf.PartitionBy)
		}
		return fmt.Errorf("table %s: partition column %q: %w", ref, wf.PartitionBy, source.ErrNotFound)
	}
	res.Cursor = cursor

	prefix := LakePrefix(src.Database(), ref)
	var after *coltype.Watermark
	if cursor != "" {
		wm, wmCursor, err := l.State.Watermark(ctx, wf.Name)
		if err != nil {
			return fmt.Errorf("read watermark: %w", err)
		}
		var landedAt string // where the run that committed the watermark landed
		if wm != nil && wmCursor == cursor {
			if landedAt, err = l.lastLanded(ctx, wf.Name); err != nil {
				return err
			}
		}
		colKind := described.Column(cursor).Kind
		switch {
		case wm == nil:
		case wmCursor != cursor:
			if !l.AllowReset {
				return &ResetRefusedError{fmt.Sprintf("table %s: the watermark was committed with cursor %s, and the workflow's cursor is now %s: "+
					"running would forget the watermark and load the whole table again (on a parquet lake every row would then be there twice); "+
					"put cursor: %s back, or run with --allow-reset to start over from a full load", ref, wmCursor, cursor, wmCursor)}
			}
			res.Notes = append(res.Notes, fmt.Sprintf("cursor changed from %s to %s: full load", wmCursor, cursor))
		case landedAt != "" && !strings.HasSuffix(landedAt, "/"+prefix):
			// The table (or its database) changed since: the watermark
			// bounds another table's rows.
			if !l.AllowReset {
				return &ResetRefusedError{fmt.Sprintf("table %s: the watermark was committed by a run that landed %s, and this run lands %s "+
					"(the workflow's table, its database or the way the table is written changed): this folder does not hold the rows "+
					"below that watermark, and another table's watermark would skip this one's older rows; "+
					"put table: back, or run with --allow-reset to start over from a full load", ref, landedAt, prefix)}
			}
			res.Notes = append(res.Notes, fmt.Sprintf("table changed (the watermark's run landed %s): full load", landedAt))
		case !sameCursorFamily(wm.Kind, colKind):
			res.Notes = append(res.Notes, fmt.Sprintf("cursor %s changed type from %s to %s: full load", cursor, wm.Kind, colKind))
		default:
			run.WatermarkFrom = wm
			if after, err = wm.Minus(wf.Lookback); err != nil {
				return fmt.Errorf("cursor %s: %w", cursor, err)
			}
		}
	}
	run.FullLoad = after == nil
	ld.after = after

	lakeH, err := l.lakes.open(ctx, lk, l.Secrets)
	if err != nil {
		return err
	}
	ld.lake, ld.prefix = lakeH, prefix
	// Where the run writes is recorded before it writes anything, so that
	// its files can be removed if it dies, without its source.
	if err := l.State.RecordLakePrefix(ctx, run, lakeLocation(lakeH, prefix)); err != nil {
		return err
	}
	// Leftovers of runs that crashed before committing are removed before this
	// run can commit, so every row of a window lands once.
	if err := l.cleanStale(ctx, lakeH, prefix, wf.Name, run.ID, log); err != nil {
		return err
	}
	// A committed run whose process died before its manifest gets it now.
	if _, err := l.repairManifests(ctx, lakeH, prefix, wf, log); err != nil {
		return err
	}
	if table, masker, described, err = l.schemaPolicy(ctx, wf, lakeH, described, table, masker, res, log); err != nil {
		return err
	}
	log.Info("landing", "table", wf.Table, "cursor", cursor, "after", after.String(), "lake", lakeH.URL())
	if err := ld.extractAndCommit(ctx, described, table, masker); err != nil {
		return err
	}
	if wf.Parallel > 1 {
		log.Info("read in parallel", "streams", ld.streams, "chunks", res.Chunks, "split", res.Split)
	}
	attrs := []any{"rows", run.Rows, "files", run.Files, "bytes", run.Bytes, "watermark", run.WatermarkTo.String()}
	if res.Bound != "" { // only timestamp cursors are bounded below max(cursor)
		attrs = append(attrs, "bounded_by", res.Bound)
	}
	log.Info("landed", attrs...)
	if res.Unbounded != "" { // once a run, and in wharf run's summary
		log.Warn("rows committed late may be skipped", "why", res.Unbounded)
		res.Notes = append(res.Notes, "rows committed late may be skipped: "+res.Unbounded)
	}
	return nil
}

// errCommitUnknown marks a run whose commit may or may not have reached the
// state: it is left running, for the workflow's next run to settle
// (cleanStale) once the state answers.
var errCommitUnknown = errors.New("commit outcome unknown")

// commitOutcome reads back the record of a run whose commit returned an
// error: succeeded (it committed after all), running (it did not), or nil
// when the state cannot tell within 30 s.
func (l *Lander) commitOutcome(ctx context.Context, runID string) *state.Run {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for wait := 100 * time.Millisecond; ; wait *= 2 {
		r, err := l.State.Run(ctx, runID)
		if err == nil && (r.Status == state.StatusSucceeded || r.Status == state.StatusRunning) {
			return r
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// ErrAlreadyRunning is wrapped by the error of a run that found another run
// of its workflow in progress in a live process; the run is recorded as
// skipped and touches nothing.
var ErrAlreadyRunning = errors.New("already running")

// cleanStale removes what unfinished runs of the workflow left behind, so
// that every row of a window lands once. A run recorded on a process that
// still heartbeats is in progress, not a leftover: this run then stops with
// ErrAlreadyRunning instead of deleting the other's files.
func (l *Lander) cleanStale(ctx context.Context, lk *lake.Lake, prefix, workflow, current string, log *slog.Logger) error {
	stale, err := l.State.StaleRuns(ctx, workflow)
	if err != nil {
		return fmt.Errorf("list unfinished runs: %w", err)
	}
	live, err := l.liveRuns(ctx, stale, current)
	if err != nil {
		return err
	}
	for _, r := range stale {
		if r.ID == current {
			continue
		}
		if worker, ok := live[r.ID]; ok {
			return fmt.Errorf("run %s is in progress on %s: %w", r.ID, worker, ErrAlreadyRunning)
		}
		n, err := l.abandon(ctx, lk, &r, prefix, "the run ended before committing")
		if err != nil {
			return fmt.Errorf("clean up unfinished run %s: %w", r.ID, err)
		}
		log.Warn("cleaned up an unfinished run", "abandoned_run", r.ID, "files_removed", n)
	}
	return nil
}

// liveRuns returns, among runs, those recorded on a process that is still
// alive (state.Worker.Alive, judged by that process's own dead-after), with
// that process's ID. Runs recorded without a process are never live: only a
// crashed run of an untracked process can be unfinished with nobody
// heartbeating for it.
func (l *Lander) liveRuns(ctx context.Context, runs []state.Run, current string) (map[string]string, error) {
	if len(runs) == 0 || (len(runs) == 1 && runs[0].ID == current) {
		return nil, nil
	}
	ws, err := l.State.Workers(ctx)
	if err != nil {
		return nil, fmt.Errorf("list wharf processes: %w", err)
	}
	workers := make(map[string]state.Worker, len(ws))
	for _, w := range ws {
		workers[w.ID] = w
	}
	now := l.now()
	live := map[string]string{}
	for _, r := range runs {
		if r.ID == current {
			continue
		}
		_, worker, err := l.State.RunJob(ctx, r.ID)
		if err != nil {
			return nil, fmt.Errorf("read process of run %s: %w", r.ID, err)
		}
		if worker != "" && worker == l.WorkerID {
			if _, ok := l.running.Load(r.ID); !ok {
				continue // this process's, not running any more
			}
		}
		if w, ok := workers[worker]; ok && w.Alive(now) {
			live[r.ID] = worker
		}
	}
	return live, nil
}

// extractAndCommit reads the window into the lake and commits the run with
// its files and new watermark; a failure before the commit removes what it
// wrote. A snapshot or manifest that cannot be made after the commit is
// ld.afterCommit.
func (ld *landing) extractAndCommit(ctx context.Context, described, table *source.Table, masker *source.Masker) error {
	l, wf, lakeCfg, src, lk, prefix, run, res, log := ld.Lander, ld.wf, &ld.job.Lake, ld.src, ld.lake, ld.prefix, ld.run, ld.res, ld.log
	cursor, after := res.Cursor, ld.after

	schema := coltype.ArrowSchema(table.Columns)
	outFields := append(schema.Fields(), arrow.Field{Name: wf.AddedColumn(), Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}})
	// Every file carries the schema the run landed (source.SchemaKey), with
	// the source's own columns beside it (what drift is judged on).
	landed := source.LandedSchema(table.Columns, described.Columns)
	res.Schema = &landed
	meta := arrow.NewMetadata([]string{source.SchemaKey}, []string{landed.JSON()})
	outSchema := arrow.NewSchema(outFields, &meta)
	var snaps *snapshotter
	var unwrap []int // columns written with extension types as their storage (icetable.PlainArray)
	if lakeCfg.Iceberg() {
		landedSchema := outSchema
		var err error
		if snaps, outSchema, err = l.prepareIceberg(ctx, lakeCfg, lk, src.Database(), prefix, wf, outSchema, run, log); err != nil {
			return err
		}
		for i, f := range landedSchema.Fields() {
			if !arrow.TypeEqual(f.Type, outSchema.Field(i).Type) { // an extension type, or one nested
				unwrap = append(unwrap, i)
			}
		}
	}

	part, err := partitioner(wf, snaps != nil, table, run.StartedAt)
	if err != nil {
		return err
	}
	w, err := lk.NewRunWriter(ctx, prefix, run.ID, outSchema, part, writerOptions(lakeCfg))
	if err != nil {
		return err
	}
	o := &output{schema: outSchema, masker: masker, unwrap: unwrap, started: run.StartedAt}

	var (
		mu        sync.Mutex // guards run.Rows, readBytes and chunks
		readBytes int64
		chunks    [2]int // done, total
	)
	progress := func() {
		if l.OnProgress != nil {
			l.OnProgress(Progress{Workflow: wf.Name, Rows: run.Rows, Bytes: readBytes, ChunksDone: chunks[0], Chunks: chunks[1]})
		}
	}
	count := func(rows, size int64) {
		mu.Lock()
		defer mu.Unlock()
		run.Rows += rows
		readBytes += size
		progress()
	}
	chunkDone := func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		chunks = [2]int{done, total}
		progress()
	}
	req := source.Request{Table: table, Cursor: cursor, After: after, BatchRows: batchRows, Settle: wf.Settle}
	var (
		files []lake.FileInfo
		out   source.Result
		abort func()
	)
	committed := false
	defer func() {
		if !committed {
			abort()
		}
	}()
	if cs, ok := ld.chunked(src); ok {
		abort = func() {
			if aerr := w.Abort(); aerr != nil {
				log.Error("remove files of failed run", "err", aerr)
			}
			// Other processes may still write chunks of the run: its files
			// are removed once its end is recorded (LandRun), when no
			// chunk can be recorded done any more.
			ld.afterFail = func(ctx context.Context) {
				if _, err := lk.DeleteRunFiles(ctx, prefix, run.ID); err != nil {
					log.Error("remove files of failed run", "err", err)
				}
			}
		}
		files, out, err = ld.readChunks(ctx, cs, req, o, w, count, chunkDone)
		if err == nil {
			run.Rows = out.Rows // the chunks read elsewhere too
		}
	} else {
		writers := []*lake.RunWriter{w}
		abort = func() {
			for _, w := range writers {
				if aerr := w.Abort(); aerr != nil {
					log.Error("remove files of failed run", "err", aerr)
				}
			}
		}
		// One writer per stream: parallel streams encode Parquet at once,
		// each into files of its own.
		for range ld.streams - 1 {
			writers = append(writers, w.Stream())
		}
		files, out, err = readStreams(ctx, src, req, o, writers, count, chunkDone)
	}
	res.Bound, res.Unbounded, res.Chunks, res.Split = out.Bound, out.Unbounded, out.Chunks, out.Split
	if err != nil {
		return err
	}
	slices.SortFunc(files, func(a, b lake.FileInfo) int { return strings.Compare(a.Path, b.Path) })
	res.Files = files
	run.Bytes, run.Files = 0, len(files)
	for _, f := range files {
		run.Bytes += f.Bytes
	}
	if run.Rows != out.Rows {
		return fmt.Errorf("internal error: source reported %d rows, %d were written", out.Rows, run.Rows)
	}

	stFiles := make([]state.File, len(files))
	for i, f := range files {
		stFiles[i] = state.File{RunID: run.ID, Workflow: wf.Name, Path: f.Path, Rows: f.Rows, Bytes: f.Bytes, CreatedAt: run.StartedAt}
	}
	var newWM *coltype.Watermark
	if cursor != "" && out.High != nil {
		newWM = out.High
	}
	run.WatermarkTo = run.WatermarkFrom
	if newWM != nil {
		run.WatermarkTo = newWM
	}
	run.SchemaHash, run.Schema = landed.Hash, landed.JSON()
	crashpoint.Hit(crashpoint.BeforeCommit)
	if err := l.State.CommitRun(ctx, run, stFiles, newWM, cursor); err != nil {
		// A connection lost during COMMIT leaves the outcome unknown: the
		// files stay unless the state says the run did not commit.
		stored := l.commitOutcome(ctx, run.ID)
		switch {
		case stored != nil && stored.Status == state.StatusSucceeded:
			log.Warn("the state reported an error, but the run's commit reached it", "err", err)
			run.Status, run.FinishedAt = stored.Status, stored.FinishedAt
		case stored != nil:
			return fmt.Errorf("commit run: %w", err)
		default:
			committed = true // keep the files: the workflow's next run settles them
			return fmt.Errorf("commit run (outcome unknown; the workflow's next run keeps or removes its files): %w: %w", err, errCommitUnknown)
		}
	}
	committed = true
	crashpoint.Hit(crashpoint.AfterCommit)
	// The run is committed (its rows will not land again). Its snapshot
	// (Iceberg lakes) comes next, then its manifest; either failing still
	// fails the run, and the next run of the workflow makes what is missing.
	committedRes := ld.result(nil)
	if snaps != nil { // a run that landed nothing makes an empty snapshot
		if err := snaps.publish(ctx, run, committedRes); err != nil {
			ld.afterCommit = fmt.Errorf("%d rows landed and committed (run %s), but its Iceberg snapshot could not be made (the next run makes it): %w", run.Rows, run.ID, err)
			return nil
		}
	}
	// A manifest that
	// cannot be written still fails it, since a lake where manifests cannot
	// be written needs attention, and the next run writes it.
	if err := writeManifest(ctx, lk, prefix, run, committedRes, w.FileSchema(), after); err != nil {
		ld.afterCommit = fmt.Errorf("%d rows landed and committed (run %s), but its manifest could not be written (the next run writes it): %w", run.Rows, run.ID, err)
	}
	return nil
}

// SchemaDriftError is a run refused by on_schema_change (freeze, or
// ignore_new on a dropped or changed column): the table changed since the
// workflow's last run. Retrying cannot help until someone changes the table
// or the workflow, so it is permanent (see Permanent): serve does not retry
// it attempts times.
type SchemaDriftError struct {
	Policy, Table, PrevRun, Drift string
}

func (e *SchemaDriftError) Error() string {
	return fmt.Sprintf("on_schema_change %s: table %s changed since run %s: %s; nothing was written (set on_schema_change: evolve to land the new schema)",
		e.Policy, e.Table, e.PrevRun, e.Drift)
}

// Permanent reports true: the same run fails the same way until the table
// or the workflow's on_schema_change changes.
func (e *SchemaDriftError) Permanent() bool { return true }

// ResetRefusedError is a run refused because the workflow's watermark was
// committed with another cursor column or by a run of another table
// (Lander.AllowReset): running would forget it.
type ResetRefusedError struct{ msg string }

func (e *ResetRefusedError) Error() string { return e.msg }

// Permanent: the same catalog gets the same answer on every attempt.
func (e *ResetRefusedError) Permanent() bool { return true }

// lastLanded is where the newest succeeded run of workflow landed (its
// recorded lake location, the lake's URL and the table's folder; "" when
// none recorded one).
func (l *Lander) lastLanded(ctx context.Context, workflow string) (string, error) {
	runs, err := l.State.Runs(ctx, state.RunFilter{Workflow: workflow, Status: state.StatusSucceeded, Limit: 1})
	if err != nil {
		return "", fmt.Errorf("read the last succeeded run: %w", err)
	}
	if len(runs) == 0 {
		return "", nil
	}
	return runs[0].LakePrefix, nil
}

// readStreams reads the window in this process into writers, one stream
// per writer (the source's own parallel read when there are several), and
// closes them.
func readStreams(ctx context.Context, src source.Source, req source.Request, o *output, writers []*lake.RunWriter,
	count func(rows, size int64), chunkDone func(done, total int)) ([]lake.FileInfo, source.Result, error) {
	sinks := make([]source.RecordSink, len(writers))
	for i, w := range writers {
		sink, release := o.sink(w, count)
		defer release()
		sinks[i] = sink
	}
	var out source.Result
	var err error
	if ps, ok := src.(source.Parallel); ok && len(sinks) > 1 {
		out, err = ps.ExtractParallel(ctx, req, sinks, chunkDone)
	} else {
		out, err = src.Extract(ctx, req, sinks[0])
		if len(sinks) > 1 {
			out.Split = "one stream: this source reads one stream"
		}
	}
	if err != nil {
		return nil, out, err
	}
	var files []lake.FileInfo
	for _, w := range writers {
		fs, err := w.Close()
		if err != nil {
			return nil, out, err
		}
		files = append(files, fs...)
	}
	return files, out, nil
}

// output is how the records a source reads become the run's lake files:
// masked, stamped with the run's start (the added column), unwrapped where
// the lake keeps an extension type's storage. Every process reading a
// chunk of the run writes the same way (ChunkRead carries it).
type output struct {
	schema  *arrow.Schema // of the records written
	masker  *source.Masker
	unwrap  []int // columns written with extension types as their storage, at every level
	started time.Time
}

// sink returns a sink writing into w that reports each record's rows and
// in-memory bytes to count, and the release of what it holds.
func (o *output) sink(w *lake.RunWriter, count func(rows, size int64)) (source.RecordSink, func()) {
	stamp := newStampColumn(o.started)
	return func(rec arrow.RecordBatch) error {
		n := rec.NumRows()
		ts := stamp.slice(int(n))
		defer ts.Release()
		base := rec.Columns()
		if !o.masker.Empty() {
			// Masked values replace the raw ones before anything is written.
			masked, err := o.masker.Apply(memory.DefaultAllocator, rec)
			if err != nil {
				return err
			}
			defer func() {
				for _, c := range masked {
					c.Release()
				}
			}()
			base = masked
		}
		cols := append(base[:len(base):len(base)], ts)
		for _, i := range o.unwrap {
			cols[i] = icetable.PlainArray(cols[i], o.schema.Field(i).Type)
			defer cols[i].Release()
		}
		outRec := array.NewRecordBatch(o.schema, cols, n)
		defer outRec.Release()
		if err := w.Write(outRec); err != nil {
			return err
		}
		var size int64
		for _, c := range rec.Columns() {
			size += int64(c.Data().SizeInBytes())
		}
		count(n, size)
		return nil
	}, stamp.release
}

// salted returns masker with the workflow's mask_salt when a sha256 mask
// needs it (a copy: see source.Masker.WithSalt), else masker itself.
func (l *Lander) salted(ctx context.Context, wf *catalog.Workflow, masker *source.Masker) (*source.Masker, error) {
	if !masker.NeedsSalt() {
		return masker, nil
	}
	salt, err := secret.ResolveValue(ctx, wf.Choices.MaskSalt, l.Secrets)
	if err != nil {
		return nil, fmt.Errorf("mask_salt: %w", err)
	}
	return masker.WithSalt([]byte(salt.Reveal())), nil
}

// partitioner is how a run of wf lays its files out: by the partition
// column (kept in the files of an Iceberg lake), or in the run's
// ingestion_date directory.
func partitioner(wf *catalog.Workflow, iceberg bool, table *source.Table, started time.Time) (lake.Partitioner, error) {
	if wf.PartitionBy == "" {
		return lake.StaticPartition("ingestion_date=" + started.Format("2006-01-02")), nil
	}
	partition := lake.ColumnPartition
	if iceberg {
		partition = lake.ColumnPartitionInFiles
	}
	col := table.Column(wf.PartitionBy)
	if col == nil {
		return nil, fmt.Errorf("table %s: partition column %q: %w", table.Ref, wf.PartitionBy, source.ErrNotFound)
	}
	return partition(col.Name)
}

// writerOptions are the lake's Parquet settings.
func writerOptions(lk *catalog.Lake) lake.WriterOptions {
	return lake.WriterOptions{Compression: lk.Compression, RowGroupRows: lk.RowGroupRows, FileBytes: lk.FileBytes}
}

// schemaPolicy compares the columns about to land with what the workflow's
// last run landed and applies on_schema_change: evolve lands the new schema
// and reports the change; freeze fails on any change before anything is
// written; ignore_new leaves new columns out and fails on a dropped or
// changed one. Whether the table changed is judged on the source's own
// columns where the last run recorded them, so editing the workflow's
// column choices is never drift (it lands, and is reported as a change).
// It returns the table (and masker) to land, and the source's columns to
// record with it: those ignore_new left out are not recorded, so they stay
// new, and left out, on every later run.
func (l *Lander) schemaPolicy(ctx context.Context, wf *catalog.Workflow, lk *lake.Lake, described, table *source.Table,
	masker *source.Masker, res *Result, log *slog.Logger) (*source.Table, *source.Masker, *source.Table, error) {
	prev, prevRun, err := l.previousSchema(ctx, lk, wf.Name)
	if err != nil || prev == nil {
		return table, masker, described, err
	}
	change := source.DiffSchemas(*prev, source.SchemaOf(table.Columns))
	if change == nil { // a source change the choices leave out changes nothing landed
		return table, masker, described, nil
	}
	drift := change
	if prevSource, ok := prev.SourceSchema(); ok {
		drift = source.DiffSchemas(prevSource, source.SchemaOf(described.Columns))
	}
	policy := wf.Choices.OnSchemaChange
	switch {
	case drift != nil && policy == catalog.SchemaFreeze,
		drift != nil && policy == catalog.SchemaIgnoreNew && len(drift.Dropped)+len(drift.Changed) > 0:
		return nil, nil, nil, &SchemaDriftError{Policy: policy, Table: wf.Table, PrevRun: prevRun, Drift: drift.String()}
	case drift != nil && policy == catalog.SchemaIgnoreNew && len(drift.Added) > 0:
		added := drift.Added
		ch := Choices(wf)
		ch.ExcludeColumns = append(slices.Clone(ch.ExcludeColumns), added...)
		ch.Columns = slices.DeleteFunc(slices.Clone(ch.Columns), func(c string) bool { return slices.Contains(added, c) })
		if table, masker, err = source.Choose(described, ch); err != nil {
			return nil, nil, nil, err
		}
		if masker, err = l.salted(ctx, wf, masker); err != nil {
			return nil, nil, nil, err
		}
		recorded := &source.Table{Ref: described.Ref, Columns: slices.DeleteFunc(slices.Clone(described.Columns),
			func(c coltype.Column) bool { return slices.Contains(added, c.Name) })}
		res.Notes = append(res.Notes, "new columns left out (on_schema_change: ignore_new): "+strings.Join(added, ", "))
		log.Warn("new columns left out", "columns", added)
		described = recorded
		if change = source.DiffSchemas(*prev, source.SchemaOf(table.Columns)); change == nil {
			return table, masker, described, nil
		}
		// What else changed is the workflow's own column choices.
	}
	res.SchemaChange = change
	res.Notes = append(res.Notes, "schema changed: "+change.String())
	log.Warn("schema changed", "change", change.String(), "previous_run", prevRun)
	return table, masker, described, nil
}

// previousSchema returns the schema the workflow's last successful run
// landed, and that run's ID: from the run record, or, for runs recorded
// before runs kept their schema, from its first file's metadata; nil when
// there is none (or it landed before wharf recorded schemas).
func (l *Lander) previousSchema(ctx context.Context, lk *lake.Lake, workflow string) (*source.Schema, string, error) {
	runs, err := l.State.Runs(ctx, state.RunFilter{Workflow: workflow, Status: state.StatusSucceeded, Limit: 50})
	if err != nil {
		return nil, "", fmt.Errorf("read previous runs: %w", err)
	}
	for _, r := range runs {
		if r.Schema != "" { // recorded with the run: no need to read the lake
			s, err := source.ParseSchema(r.Schema)
			if err != nil {
				return nil, "", fmt.Errorf("the schema run %s recorded: %w", r.ID, err)
			}
			return &s, r.ID, nil
		}
		if r.Files == 0 {
			continue
		}
		files, err := l.State.Files(ctx, r.ID)
		if err != nil {
			return nil, "", fmt.Errorf("read the files of run %s: %w", r.ID, err)
		}
		if len(files) == 0 {
			continue
		}
		_, sch, err := lk.ReadFooter(ctx, files[0].Path)
		if err != nil {
			return nil, "", fmt.Errorf("read the schema run %s landed: %w", r.ID, err)
		}
		text, ok := sch.Metadata().GetValue(source.SchemaKey)
		if !ok {
			return nil, "", nil
		}
		s, err := source.ParseSchema(text)
		if err != nil {
			return nil, "", fmt.Errorf("the schema run %s landed (%s): %w", r.ID, files[0].Path, err)
		}
		return &s, r.ID, nil
	}
	return nil, "", nil
}

// Choices are a workflow's column choices as the source-neutral step
// (source.Choose) takes them.
func Choices(wf *catalog.Workflow) source.Choices {
	c := wf.Choices
	return source.Choices{Columns: c.Columns, ExcludeColumns: c.ExcludeColumns, Cast: c.Cast, Mask: c.Mask, Optional: c.Defaulted}
}

// sameCursorFamily reports whether a watermark of kind a can bound a cursor of
// kind b: the same kind, or both integers or both floats (a column widened
// from integer to bigint keeps its watermark).
func sameCursorFamily(a, b coltype.Kind) bool {
	family := func(k coltype.Kind) coltype.Kind {
		switch k {
		case coltype.Int16, coltype.Int32:
			return coltype.Int64
		case coltype.Float32:
			return coltype.Float64
		}
		return k
	}
	return family(a) == family(b)
}

// stampColumn holds one ingestion_timestamp array long enough for any batch;
// batches take zero-copy slices of it.
type stampColumn struct {
	value arrow.Timestamp
	arr   *array.Timestamp
}

func newStampColumn(t time.Time) *stampColumn {
	return &stampColumn{value: arrow.Timestamp(t.UnixMicro())}
}

func (s *stampColumn) slice(n int) arrow.Array {
	if s.arr == nil || s.arr.Len() < n {
		if s.arr != nil {
			s.arr.Release()
		}
		b := array.NewTimestampBuilder(memory.DefaultAllocator, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"})
		defer b.Release()
		size := max(n, source.DefaultBatchRows)
		b.Reserve(size)
		for range size {
			b.UnsafeAppend(s.value)
		}
		s.arr = b.NewTimestampArray()
	}
	return array.NewSlice(s.arr, 0, int64(n))
}

func (s *stampColumn) release() {
	if s.arr != nil {
		s.arr.Release()
	}
}

// LakePrefix is where a table lands in the lake: <database>/<schema>.<table>,
// or <database>/<table> when the catalog names no schema. Each name is
// escaped like a Hive path name, dots included, so any table name (quotes,
// slashes, dots) is one safe path segment, and plain names stay as written.
func LakePrefix(database string, ref catalog.TableRef) string {
	esc := func(name string) string { return strings.ReplaceAll(lake.EscapePathName(name), ".", "%2E") }
	if ref.Schema == "" {
		return database + "/" + esc(ref.Name)
	}
	return database + "/" + esc(ref.Schema) + "." + esc(ref.Name)
}

// CheckAddedColumn fails when table already has a column named as the one
// the landing blueprint adds to every row (the run's start time, UTC,
// microseconds, the same for every row of a run): wf.AddedColumn.
func CheckAddedColumn(wf *catalog.Workflow, table *source.Table) error {
	if c := table.Column(wf.AddedColumn()); c != nil {
		return fmt.Errorf("table %s already has a column named %s, which the landing blueprint adds: set ingestion_column (Glue: WharfIngestionColumn) to another name for the added column", table.Ref, c.Name)
	}
	return nil
}
