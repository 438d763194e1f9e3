package state

import (
	"context"
	"fmt"
	"time"

	"github.com/wharf-data/wharf/internal/coltype"
)

// SQLStore is the state store, written once over any Driver: the
// backends (statesqlite, statepg) embed it and add only their opening and
// River's client over their own driver (Store.River). It implements every
// other method of Store.
type SQLStore struct {
	d   Driver
	q   *Queries
	now func() time.Time
}

var (
	_ Fleet  = (*SQLStore)(nil)
	_ Queuer = (*SQLStore)(nil)
)

// Option changes how a store is opened.
type Option func(*SQLStore)

// WithClock makes clock the store's one source of the current time
// (default time.Now): every time the store writes on its own comes from it.
func WithClock(clock func() time.Time) Option {
	return func(s *SQLStore) {
		if clock != nil {
			s.now = clock
		}
	}
}

// NewSQLStore returns the store over d.
func NewSQLStore(d Driver, opts ...Option) (*SQLStore, error) {
	q := d.Queries()
	if err := q.Check(); err != nil {
		return nil, err
	}
	s := &SQLStore{d: d, q: q, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Now is the store's current time at the precision it keeps.
func (s *SQLStore) Now() time.Time { return Time(s.now()) }

// Close releases the driver's connections.
func (s *SQLStore) Close() error { return s.d.Close() }

// inTx runs fn in one write transaction, committing when fn returns nil.
func (s *SQLStore) inTx(ctx context.Context, fn func(tx Tx) error) error {
	tx, err := s.d.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// queryEach runs q and calls scan for each row.
func queryEach(ctx context.Context, e Executor, scan func(Rows) error, q string, args ...any) error {
	rows, err := e.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// exists reports whether q returns a row.
func exists(ctx context.Context, e Executor, q string, args ...any) (bool, error) {
	found := false
	err := queryEach(ctx, e, func(Rows) error { found = true; return nil }, q, args...)
	return found, err
}

// ---- runs ----

// runArgs are the run columns' arguments in Queries order.
func (s *SQLStore) runArgs(c *Run) []any {
	fromKind, from := EncodeWatermark(c.WatermarkFrom)
	toKind, to := EncodeWatermark(c.WatermarkTo)
	return []any{c.ID, c.Workflow, c.Trigger, c.Status, s.d.Time(c.StartedAt), s.d.Time(c.FinishedAt),
		c.Rows, c.Bytes, c.Files, fromKind, from, toKind, to, c.FullLoad, c.Error, c.SchemaHash, nullText(c.Schema), c.LakePrefix}
}

// scanRun reads the run columns (Queries.RunColumns).
func scanRun(rows Rows) (Run, error) {
	var (
		r                              Run
		fromKind, from, toKind, toText *string
		schema                         *string
	)
	if err := rows.Scan(&r.ID, &r.Workflow, &r.Trigger, &r.Status, TimeDest(&r.StartedAt), TimeDest(&r.FinishedAt),
		&r.Rows, &r.Bytes, &r.Files, &fromKind, &from, &toKind, &toText, &r.FullLoad, &r.Error,
		&r.SchemaHash, &schema, &r.LakePrefix); err != nil {
		return Run{}, err
	}
	if schema != nil {
		r.Schema = *schema
	}
	var err error
	if r.WatermarkFrom, err = DecodeWatermark("run "+r.ID+" watermark_from", fromKind, from); err != nil {
		return Run{}, err
	}
	if r.WatermarkTo, err = DecodeWatermark("run "+r.ID+" watermark_to", toKind, toText); err != nil {
		return Run{}, err
	}
	return r, nil
}

func (s *SQLStore) queryRuns(ctx context.Context, q string, args ...any) ([]Run, error) {
	var runs []Run
	err := queryEach(ctx, s.d.Executor(), func(rows Rows) error {
		r, err := scanRun(rows)
		runs = append(runs, r)
		return err
	}, q, args...)
	return runs, err
}

// insertRun records c (normalized already) with its job and worker (nil
// = none). A run ID that exists already is a clear error.
func (s *SQLStore) insertRun(ctx context.Context, e Executor, op string, c *Run, jobID *int64, workerID *string) error {
	_, err := e.Exec(ctx, s.q.InsertRun, append(s.runArgs(c), jobID, workerID)...)
	if err == nil {
		return nil
	}
	if err = s.d.InterpretError(err); duplicateKey(err) == "wharf_runs.id" {
		return fmt.Errorf("%s run %s of workflow %s: a run with this ID already exists", op, c.ID, c.Workflow)
	}
	return fmt.Errorf("%s run %s of workflow %s: %w", op, c.ID, c.Workflow, err)
}

// StartRun records r as running.
func (s *SQLStore) StartRun(ctx context.Context, r *Run) error {
	c := *r
	if err := c.PrepareStart(s.Now()); err != nil {
		return err
	}
	if err := s.insertRun(ctx, s.d.Executor(), "start", &c, nil, nil); err != nil {
		return err
	}
	*r = c
	return nil
}

// StartJobRun records r as running on workerID for River job jobID.
func (s *SQLStore) StartJobRun(ctx context.Context, r *Run, jobID int64, workerID string) error {
	c := *r
	if err := c.PrepareStart(s.Now()); err != nil {
		return err
	}
	if err := s.insertRun(ctx, s.d.Executor(), "start", &c, &jobID, &workerID); err != nil {
		return err
	}
	*r = c
	return nil
}

// QueueRun records r as queued together with the job enqueue inserts, in
// one transaction: both or neither. enqueue gets the backend's own
// transaction (Tx.Native). When it reports a skip, r is recorded as
// skipped instead. r is normalized in place (see Run.PrepareQueue).
func (s *SQLStore) QueueRun(ctx context.Context, r *Run, enqueue Enqueue) error {
	c := *r
	err := s.inTx(ctx, func(tx Tx) error {
		jobID, skip, err := enqueue(tx.Native())
		if err != nil {
			return fmt.Errorf("queue run %s of workflow %s: enqueue: %w", c.ID, c.Workflow, err)
		}
		return s.insertQueued(ctx, tx, &c, jobID, skip)
	})
	if err != nil {
		return err
	}
	*r = c
	return nil
}

// insertQueued records c as queued with job jobID, or as skipped with
// reason skip, in tx; c is normalized in place (Run.PrepareQueue).
func (s *SQLStore) insertQueued(ctx context.Context, tx Tx, c *Run, jobID int64, skip string) error {
	if err := c.PrepareQueue(s.Now(), skip); err != nil {
		return err
	}
	var job *int64
	if skip == "" {
		job = &jobID
	}
	return s.insertRun(ctx, tx, "queue", c, job, nil)
}

// setRunIf applies the status change t in e; it says why not (the run is
// missing, in another workflow or in another status) when it changed
// nothing.
func (s *SQLStore) setRunIf(ctx context.Context, e Executor, t transition) error {
	c := t.run
	fromKind, from := EncodeWatermark(c.WatermarkFrom)
	toKind, to := EncodeWatermark(c.WatermarkTo)
	n, err := e.Exec(ctx, s.q.SetRunIf, c.Status, s.d.Time(t.startedAt), t.workerID, s.d.Time(c.FinishedAt),
		c.Rows, c.Bytes, c.Files, fromKind, from, toKind, to, c.FullLoad, c.Error, c.SchemaHash, nullText(c.Schema),
		c.ID, c.Workflow, t.from[0], t.from[1], c.LakePrefix)
	if err != nil {
		return fmt.Errorf("%s: %w", t.what(), err)
	}
	if n == 1 {
		return nil
	}
	var status RunStatus
	var workflow string
	found := false
	err = queryEach(ctx, e, func(rows Rows) error { found = true; return rows.Scan(&status, &workflow) }, s.q.RunStatus, c.ID)
	switch {
	case err != nil:
		return fmt.Errorf("%s: %w", t.what(), err)
	case !found:
		return NotFound(t.op, c.ID)
	}
	return t.refused(workflow, status)
}

// CommitRun marks r succeeded, records its files and moves the watermark,
// in one transaction.
func (s *SQLStore) CommitRun(ctx context.Context, r *Run, files []File, wm *coltype.Watermark, cursor string) error {
	c := *r
	files, err := c.PrepareCommit(s.Now(), files, wm, cursor)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx Tx) error {
		if err := s.setRunIf(ctx, tx, commitOf(&c)); err != nil {
			return err
		}
		for _, f := range files {
			if _, err := tx.Exec(ctx, s.q.InsertFile, f.RunID, f.Workflow, f.Path, f.Rows, f.Bytes, s.d.Time(f.CreatedAt)); err != nil {
				return fmt.Errorf("commit run %s of workflow %s: file %s: %w", c.ID, c.Workflow, f.Path, err)
			}
		}
		if wm != nil {
			if _, err := tx.Exec(ctx, s.q.SetWatermark, c.Workflow, cursor, wm.Kind.String(), wm.Text, c.ID,
				s.d.Time(c.FinishedAt)); err != nil {
				return fmt.Errorf("commit run %s of workflow %s: watermark for cursor %q: %w", c.ID, c.Workflow, cursor, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	*r = c
	return nil
}

// FinishRun records a non-success end of a queued or running run.
func (s *SQLStore) FinishRun(ctx context.Context, r *Run) error {
	c := *r
	if err := c.PrepareFinish(s.Now()); err != nil {
		return err
	}
	if err := s.inTx(ctx, func(tx Tx) error { return s.setRunIf(ctx, tx, finishOf(&c)) }); err != nil {
		return err
	}
	*r = c
	return nil
}

// RecordLakePrefix records where running run r writes in the lake.
func (s *SQLStore) RecordLakePrefix(ctx context.Context, r *Run, prefix string) error {
	c := *r
	c.LakePrefix = prefix
	if err := c.PrepareLakePrefix(); err != nil {
		return err
	}
	if err := s.setRunIf(ctx, s.d.Executor(), lakePrefixOf(&c)); err != nil {
		return err
	}
	*r = c
	return nil
}

// MarkRunning moves queued run r to running on workerID.
func (s *SQLStore) MarkRunning(ctx context.Context, r *Run, workerID string) error {
	c := *r
	if c.StartedAt.IsZero() || c.Status == StatusQueued {
		c.StartedAt = s.Now()
	}
	c.StartedAt = Time(c.StartedAt)
	c.Status = StatusRunning
	if err := s.setRunIf(ctx, s.d.Executor(), markRunningOf(&c, workerID)); err != nil {
		return err
	}
	*r = c
	return nil
}

// StaleRuns lists the runs of a workflow ("" = all) still marked running,
// oldest first.
func (s *SQLStore) StaleRuns(ctx context.Context, workflow string) ([]Run, error) {
	q, args := s.q.StaleRuns, []any(nil)
	if workflow != "" {
		q, args = s.q.StaleRunsOf, []any{workflow}
	}
	runs, err := s.queryRuns(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list stale runs of workflow %q: %w", workflow, err)
	}
	return runs, nil
}

// Runs lists runs newest first.
func (s *SQLStore) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	limit, err := f.EffectiveLimit()
	if err != nil {
		return nil, err
	}
	q := s.q.SelectRuns
	where, args := f.Where(s.d.Param, 2)
	if where != "" {
		q += ` WHERE ` + where
	}
	runs, err := s.queryRuns(ctx, q+" "+s.q.ListRunsOrder, append([]any{limit}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("list runs of workflow %q: %w", f.Workflow, err)
	}
	return runs, nil
}

// Run returns one run, or an error wrapping ErrNotFound.
func (s *SQLStore) Run(ctx context.Context, id string) (*Run, error) {
	runs, err := s.queryRuns(ctx, s.q.RunByID, id)
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, err)
	}
	if len(runs) == 0 {
		return nil, NotFound("get", id)
	}
	return &runs[0], nil
}

// Files lists the files a run landed, by creation time then path.
func (s *SQLStore) Files(ctx context.Context, runID string) ([]File, error) {
	ok, err := exists(ctx, s.d.Executor(), s.q.RunExists, runID)
	if err != nil {
		return nil, fmt.Errorf("list files of run %s: %w", runID, err)
	}
	if !ok {
		return nil, NotFound("list files of", runID)
	}
	var files []File
	err = queryEach(ctx, s.d.Executor(), func(rows Rows) error {
		var f File
		err := rows.Scan(&f.RunID, &f.Workflow, &f.Path, &f.Rows, &f.Bytes, TimeDest(&f.CreatedAt))
		files = append(files, f)
		return err
	}, s.q.Files, runID)
	if err != nil {
		return nil, fmt.Errorf("list files of run %s: %w", runID, err)
	}
	return files, nil
}

// ---- watermarks ----

// Watermark returns the committed watermark of a workflow and its cursor
// column; (nil, "", nil) when there is none.
func (s *SQLStore) Watermark(ctx context.Context, workflow string) (*coltype.Watermark, string, error) {
	var cursor, kind, text string
	found := false
	err := queryEach(ctx, s.d.Executor(), func(rows Rows) error {
		found = true
		return rows.Scan(&cursor, &kind, &text)
	}, s.q.Watermark, workflow)
	if err != nil {
		return nil, "", fmt.Errorf("read watermark of workflow %s: %w", workflow, err)
	}
	if !found {
		return nil, "", nil
	}
	wm, err := DecodeWatermark("watermark of workflow "+workflow, &kind, &text)
	if err != nil {
		return nil, "", err
	}
	return wm, cursor, nil
}

// Watermarks returns the committed watermark of every workflow that has
// one, in one query.
func (s *SQLStore) Watermarks(ctx context.Context) (map[string]*coltype.Watermark, error) {
	out := map[string]*coltype.Watermark{}
	err := queryEach(ctx, s.d.Executor(), func(rows Rows) error {
		var workflow, kind, text string
		if err := rows.Scan(&workflow, &kind, &text); err != nil {
			return err
		}
		wm, err := DecodeWatermark("watermark of workflow "+workflow, &kind, &text)
		out[workflow] = wm
		return err
	}, s.q.Watermarks)
	if err != nil {
		return nil, fmt.Errorf("read watermarks: %w", err)
	}
	return out, nil
}

// ResetWatermark forgets a workflow's watermark.
func (s *SQLStore) ResetWatermark(ctx context.Context, workflow string) error {
	if _, err := s.d.Executor().Exec(ctx, s.q.DeleteWatermark, workflow); err != nil {
		return fmt.Errorf("reset watermark of workflow %s: %w", workflow, err)
	}
	return nil
}

// nullText encodes "" as NULL.
func nullText(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}
