package blueprint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/state"
)

// LandRun runs the landing blueprint for run, which the caller has already
// recorded as running: the one path of every run (Land records one for
// wharf run; the engine queues runs before a worker starts them, so that
// `wharf trigger` can print their IDs). Like Land, the returned Result
// always names the workflow and its Err is set when it failed; the run
// ends succeeded, failed, skipped, or cancelled when ctx was cancelled (its
// error then names the cancellation's cause).
func (l *Lander) LandRun(ctx context.Context, job *catalog.Resolved, run *state.Run) (*Result, error) {
	wf := &job.Workflow
	if run.Workflow != wf.Name {
		return nil, fmt.Errorf("land run %s: it belongs to workflow %s, not %s", run.ID, run.Workflow, wf.Name)
	}
	if run.StartedAt.IsZero() {
		run.StartedAt = l.now()
	}
	l.running.Store(run.ID, struct{}{})
	defer l.running.Delete(run.ID)
	ld := l.newLanding(job, run)
	if err := ld.execute(ctx); err != nil {
		if !errors.Is(err, errCommitUnknown) {
			ld.fail(ctx, err)
			if ld.afterFail != nil {
				ld.afterFail(context.WithoutCancel(ctx))
			}
		}
		err = fmt.Errorf("workflow %s: %w", wf.Name, err)
		return ld.result(err), err
	}
	if ld.afterCommit != nil {
		err := fmt.Errorf("workflow %s: %w", wf.Name, ld.afterCommit)
		return ld.result(err), err
	}
	return ld.result(nil), nil
}

// landing is one run of the landing blueprint on its way from running to
// its end. The run record is the truth about it; the Result is derived
// from the record (result) plus what the run found on the way (res).
type landing struct {
	*Lander
	job *catalog.Resolved
	wf  *catalog.Workflow
	run *state.Run
	log *slog.Logger
	// res holds what the record does not: notes, files, cursor, bound,
	// schema and its change.
	res *Result

	src    source.Source      // set once opened (closed by execute)
	lake   *lake.Lake         // set once opened
	prefix string             // the path under lake the run writes in
	after  *coltype.Watermark // the window's low end (exclusive); nil = full load
	// afterCommit: the run committed, but its snapshot or manifest could
	// not be made; the run is reported failed (the next run makes them).
	afterCommit error
	// streams is how many streams the run reads with in this process
	// (Workflow.Parallel, less what the connection's cap left out);
	// releaseStreams gives back the connection slots of all but the first
	// (Lander.StreamSlots; nil = none taken).
	streams        int
	releaseStreams func()
	// afterFail, if set, runs once the run's failure is recorded: a run
	// read in chunks removes its files then (readChunks).
	afterFail func(ctx context.Context)
}

func (l *Lander) newLanding(job *catalog.Resolved, run *state.Run) *landing {
	return &landing{Lander: l, job: job, wf: &job.Workflow, run: run, res: &Result{},
		log: l.logger().With("workflow", job.Workflow.Name, "run", run.ID)}
}

// result is the Result of the run as its record stands, with err.
func (ld *landing) result(err error) *Result {
	r, res := ld.run, *ld.res
	res.Workflow, res.RunID, res.Status, res.Err = r.Workflow, r.ID, r.Status, err
	res.Rows, res.Bytes = r.Rows, r.Bytes
	res.FullLoad, res.WatermarkFrom, res.WatermarkTo = r.FullLoad, r.WatermarkFrom, r.WatermarkTo
	res.Started, res.Duration = r.StartedAt, ld.now().Sub(r.StartedAt)
	if err != nil && (r.Status == state.StatusSucceeded || !r.Status.Final()) {
		// Committed, but its snapshot or manifest is missing; or its
		// commit's outcome is unknown (the record stays running).
		res.Status = state.StatusFailed
	}
	return &res
}

// fail records the end of a run that did not commit: failed, cancelled
// (ctx cancelled) or skipped (ErrAlreadyRunning), with the reason.
func (ld *landing) fail(ctx context.Context, err error) {
	run := ld.run
	run.Status = state.StatusFailed
	switch {
	case errors.Is(err, context.Canceled):
		run.Status = state.StatusCancelled
	case errors.Is(err, ErrAlreadyRunning):
		run.Status = state.StatusSkipped
	}
	run.FinishedAt = time.Time{} // the store's clock says when
	run.Rows, run.Bytes, run.Files = 0, 0, 0
	ld.res.Files = nil
	msg := err.Error()
	// Say why the context ended when its cause says more than
	// "context canceled" (e.g. wharf cancel, a shutdown, a timeout).
	if ctx.Err() != nil {
		if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
			msg += " (" + cause.Error() + ")"
		}
	}
	run.Error = secret.RedactString(msg)
	// The run's context may be cancelled; record the end regardless.
	if ferr := ld.State.FinishRun(context.WithoutCancel(ctx), run); ferr != nil {
		ld.log.Error("record run failure", "err", ferr)
	}
}

// Abandon ends a run that will never finish (its process died): it removes
// the files the run left in the lake, then records it failed with reason.
// It needs no source: the run recorded where it writes (Run.LakePrefix).
// It wraps state.ErrNotRunning when the run already ended.
func (l *Lander) Abandon(ctx context.Context, job *catalog.Resolved, runID, reason string) error {
	wf := &job.Workflow
	run, err := l.State.Run(ctx, runID)
	if err != nil {
		return err
	}
	if run.Status != state.StatusRunning {
		return fmt.Errorf("abandon run %s of workflow %s: status is %s: %w", runID, wf.Name, run.Status, state.ErrNotRunning)
	}
	lk, err := l.lakes.open(ctx, &job.Lake, l.Secrets)
	if err != nil {
		return err
	}
	// A run that recorded no prefix wrote nothing; only a run started by a
	// wharf older than the lake_prefix column needs its source to say
	// where it wrote.
	var legacy string
	if run.LakePrefix == "" {
		if legacy, err = l.legacyPrefix(ctx, job); err != nil {
			return err
		}
	}
	_, err = l.abandon(ctx, lk, run, legacy, reason)
	return err
}

// legacyPrefix is where a run of job writes, learned from its source: only
// for runs recorded before runs kept their lake prefix.
func (l *Lander) legacyPrefix(ctx context.Context, job *catalog.Resolved) (string, error) {
	src, err := l.openSource(ctx, &job.Connection)
	if err != nil {
		return "", err
	}
	defer src.Close()
	ref, err := catalog.ParseTableRef(job.Workflow.Table)
	if err != nil {
		return "", err
	}
	return LakePrefix(src.Database(), ref), nil
}

// openSource opens conn's source (Lander.OpenSource; by default from the
// lander's pool, to which Close gives it back for the next run).
func (l *Lander) openSource(ctx context.Context, conn *catalog.Connection) (source.Source, error) {
	open := l.OpenSource
	if open == nil {
		open = l.sources.open
	}
	src, err := open(ctx, conn, l.Secrets)
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", conn.Name, err)
	}
	return src, nil
}

// lakeLocation is what a run records as its lake prefix: the lake's URL
// (credentials redacted) and the path prefix under it.
func lakeLocation(lk *lake.Lake, prefix string) string { return lk.URL() + "/" + prefix }

// abandon ends run, unfinished and never to finish (its process died):
// it removes the files the run left under its recorded lake prefix (or
// under fallback, for a run that recorded none) and records it failed with
// reason. A run that wrote into another lake (the workflow's lake changed
// since) cannot have left files in lk: it is closed naming where its files
// are. It returns how many files it removed.
func (l *Lander) abandon(ctx context.Context, lk *lake.Lake, run *state.Run, fallback, reason string) (int, error) {
	path, inLake := fallback, true
	if run.LakePrefix != "" {
		path, inLake = strings.CutPrefix(run.LakePrefix, lk.URL()+"/")
	}
	n := 0
	msg := fmt.Sprintf("abandoned: %s; it wrote under %s, outside the workflow's lake %s now: its files there (part-%s-*) were not removed",
		reason, run.LakePrefix, lk.URL(), run.ID)
	if inLake && path != "" {
		var err error
		if n, err = lk.DeleteRunFiles(ctx, path, run.ID); err != nil {
			return 0, fmt.Errorf("remove files of run %s: %w", run.ID, err)
		}
		msg = fmt.Sprintf("abandoned: %s; %d leftover file(s) removed", reason, n)
	}
	run.Status = state.StatusFailed
	run.FinishedAt = time.Time{} // the store's clock says when
	run.Rows, run.Bytes, run.Files = 0, 0, 0
	run.Error = secret.RedactString(msg)
	if err := l.State.FinishRun(ctx, run); err != nil {
		return n, err
	}
	// Processes reading chunks of the run may have written more files
	// since the listing: once its end is recorded no chunk can be
	// recorded done (a late chunk removes its own files), so a second
	// pass leaves none behind.
	if inLake && path != "" {
		if chunks, err := l.State.RunChunks(ctx, run.ID); err == nil && len(chunks) > 0 {
			m, err := lk.DeleteRunFiles(ctx, path, run.ID)
			if err != nil {
				return n, fmt.Errorf("remove files of run %s: %w", run.ID, err)
			}
			n += m
		}
	}
	return n, nil
}
