package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/state"
)

func (a *app) runCommand() *cobra.Command {
	var all bool
	var parallel int
	var runTimeout time.Duration
	var allowReset bool
	cmd := &cobra.Command{
		Use:   "run [-c FILE] [--state URL] (WORKFLOW... | --all)",
		Short: "Land workflows now, in the foreground, with progress",
		Long: `run lands the named workflows (or every workflow with --all) now. It shows progress on
a terminal (plain log lines otherwise), prints a summary, and exits non-zero if any workflow failed,
after finishing the others. Table patterns are expanded against their sources first, so their
workflows (NAME_<table>) can be named or run with --all.

A workflow whose cursor column is not the one its watermark was committed with, or whose table
is not the one the run that committed it landed, is refused: --allow-reset runs it as a full load. A deployed
workflow whose cursor or table differs from the catalog's is refused either way: deploy the change
(wharf deploy --allow-reset) first, so that its schedule and this run agree.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return &exitError{code: ExitUsage, err: errors.New("name one or more workflows, or pass --all")}
			}
			if runTimeout < 0 {
				return &exitError{code: ExitUsage, err: fmt.Errorf("--run-timeout %s: want a positive duration, or 0 for none", runTimeout)}
			}
			if parallel < 1 {
				return &exitError{code: ExitUsage, err: fmt.Errorf("--parallel %d: must be at least 1", parallel)}
			}
			cat, err := a.loadCatalog()
			if err != nil {
				return err
			}
			jobs, err := a.expand(cmd.Context(), cat)
			if err != nil {
				return err
			}
			if err := checkLandings(cmd.Context(), a.secrets, jobs); err != nil {
				return err
			}
			jobs, err = selectWorkflows(cat.Path, jobs, args, all)
			if err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
			if err := checkLakesHere(cmd.Context(), cat.Path, jobs); err != nil {
				return err
			}
			results, err := a.land(cmd.Context(), jobs, parallel, runTimeout, allowReset)
			if err != nil {
				return err
			}
			if exit := interruptedExit(cmd.Context()); exit != nil {
				// No summary: a table of rows read would look like rows landed.
				for _, r := range results {
					if r.Status == state.StatusSucceeded {
						fmt.Fprintf(a.stderr, "interrupted: %s landed before the signal (run %s)\n", r.Workflow, r.RunID)
					} else {
						fmt.Fprintf(a.stderr, "interrupted: nothing landed for %s, run again\n", r.Workflow)
					}
				}
				return exit
			}
			return summarize(a, results)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "run every workflow in the catalog")
	cmd.Flags().IntVar(&parallel, "parallel", 4, "workflows to land at once (the catalog's parallel: is the streams reading one workflow)")
	cmd.Flags().DurationVar(&runTimeout, "run-timeout", time.Hour, "stop and fail a workflow's run that takes longer (0 = no limit)")
	cmd.Flags().BoolVar(&allowReset, "allow-reset", false, "run workflows whose cursor column or table changed since their watermark as full loads")
	return cmd
}

// expand resolves the catalog's workflows and expands its table patterns
// against their sources (as plan and deploy do), in catalog order.
func (a *app) expand(ctx context.Context, cat *catalog.Catalog) ([]*catalog.Resolved, error) {
	var lister deploy.Lister
	if len(cat.Patterns) > 0 {
		l := &sourceLister{secrets: a.secrets}
		defer l.close()
		lister = l
	}
	e, err := deploy.Expand(ctx, cat, lister)
	if err != nil {
		return nil, failed(err)
	}
	for _, n := range e.Notes {
		a.note("%s", n)
	}
	jobs := make([]*catalog.Resolved, len(e.Workflows))
	for i := range e.Workflows {
		jobs[i] = &e.Workflows[i]
	}
	return jobs, nil
}

// checkLandings refuses a catalog two of whose workflows land into one
// folder of one lake, or land one table twice, in ways only their sources
// tell (sourceLister.checkLandings): every workflow of the catalog is
// checked, not only those run. A source that cannot be opened (within
// sourceCheckTimeout) is left to its workflows' runs, which report it.
func checkLandings(ctx context.Context, secrets string, jobs []*catalog.Resolved) error {
	workflows := make([]catalog.Resolved, len(jobs))
	for i, j := range jobs {
		workflows[i] = *j
	}
	l := &sourceLister{secrets: secrets, openTimeout: sourceCheckTimeout}
	defer l.close()
	if err := l.checkLandings(ctx, workflows, func(string, error) {}); err != nil {
		return failed(err)
	}
	return nil
}

// checkLakesHere refuses, before any run starts, a lake of the jobs that
// cannot be opened on this machine (lake.Check: an s3:// URL's query
// parameters and region), as validate does, instead of one failed run per
// workflow.
func checkLakesHere(ctx context.Context, catPath string, jobs []*catalog.Resolved) error {
	var errs []error
	seen := map[string]bool{}
	for _, j := range jobs {
		if l := &j.Lake; !seen[l.Name] {
			seen[l.Name] = true
			if err := lake.Check(ctx, l.URL); err != nil {
				errs = append(errs, fmt.Errorf("%s: lake %s: %w", catPath, l.Name, err))
			}
		}
	}
	if len(errs) > 0 {
		return failed(errors.Join(errs...))
	}
	return nil
}

// selectWorkflows returns the named workflows in catalog order, or all.
func selectWorkflows(catPath string, jobs []*catalog.Resolved, names []string, all bool) ([]*catalog.Resolved, error) {
	if all {
		return jobs, nil
	}
	byName := make(map[string]bool, len(jobs))
	for _, j := range jobs {
		byName[j.Workflow.Name] = true
	}
	var missing []string
	want := map[string]bool{}
	for _, n := range names {
		if !byName[n] {
			missing = append(missing, n)
		}
		want[n] = true
	}
	if len(missing) > 0 {
		known := make([]string, 0, len(jobs))
		for _, j := range jobs {
			known = append(known, j.Workflow.Name)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("no workflow %s in %s (it has: %s)", strings.Join(quoteAll(missing), ", "), catPath, abbreviate(known, 10))
	}
	var out []*catalog.Resolved
	for _, j := range jobs {
		if want[j.Workflow.Name] {
			out = append(out, j)
		}
	}
	return out, nil
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

func abbreviate(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(s[:n], ", "), len(s)-n)
}

// land runs the workflows with at most parallel at once, showing progress.
// Every workflow runs even when others fail; results come back in input order.
func (a *app) land(ctx context.Context, jobs []*catalog.Resolved, parallel int, runTimeout time.Duration, allowReset bool) ([]*blueprint.Result, error) {
	log, err := a.logger()
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	st, err := a.openState(ctx, 0, false)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	refused, err := deployedResets(ctx, st, jobs)
	if err != nil {
		return nil, err
	}

	workerID, stopHeartbeat := heartbeat(ctx, st, log)
	defer stopHeartbeat()

	prog := newProgress(a.stderr, a.isTTY, len(jobs))
	defer prog.stop()
	slots := &connSlots{log: log}
	lander := &blueprint.Lander{State: st, Secrets: a.secrets, Logger: log, OnProgress: prog.update, WorkerID: workerID,
		StreamSlots: slots.more, AllowReset: allowReset}
	defer lander.Close()

	results := make([]*blueprint.Result, len(jobs))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, job := range jobs {
		if err := refused[job.Workflow.Name]; err != nil {
			results[i] = &blueprint.Result{Workflow: job.Workflow.Name, Status: state.StatusFailed, Err: err}
			prog.done(results[i])
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The connection's slot first: a run waiting for it holds
			// none of the parallel runs' places.
			release, err := slots.first(ctx, &job.Connection, job.Workflow.Name)
			if err == nil {
				defer release()
				sem <- struct{}{}
				defer func() { <-sem }()
			}
			if ctx.Err() != nil {
				results[i] = &blueprint.Result{Workflow: job.Workflow.Name, Status: state.StatusCancelled, Err: ctx.Err()}
				return
			}
			prog.start(job.Workflow.Name)
			runCtx := ctx
			if runTimeout > 0 {
				var cancel context.CancelFunc
				runCtx, cancel = context.WithTimeoutCause(ctx, runTimeout, fmt.Errorf("the run took longer than --run-timeout %s", runTimeout))
				defer cancel()
			}
			res, _ := lander.Land(runCtx, job, state.TriggerManual)
			if res.Err != nil && ctx.Err() == nil && runCtx.Err() != nil {
				res.Err = fmt.Errorf("%w (%v)", res.Err, context.Cause(runCtx)) // say it was the timeout
			}
			prog.done(res)
			results[i] = res
		}()
	}
	wg.Wait()
	return results, nil
}

// deployedResets returns, by workflow, why a job may not run: its catalog
// entry changes the cursor column or table of its deployed workflow
// (deploy.ResetsWatermark), so the run would reset the watermark while the
// schedule keeps the deployed settings, whose next run would reset it
// again. deploy asks --allow-reset for that change; the run follows it.
func deployedResets(ctx context.Context, st state.Store, jobs []*catalog.Resolved) (map[string]error, error) {
	deployed, err := st.DeployedWorkflows(ctx) // one query, not one a workflow
	if err != nil {
		return nil, failed(err)
	}
	byName := make(map[string]*state.Deployed, len(deployed))
	for i := range deployed {
		byName[deployed[i].Name] = &deployed[i]
	}
	refused := map[string]error{}
	for _, job := range jobs {
		d := byName[job.Workflow.Name]
		if d == nil {
			continue
		}
		dw, err := deploy.Decode(*d)
		if err != nil {
			return nil, failed(err)
		}
		if deploy.ResetsWatermark(dw.Spec, *job) {
			was, now := &dw.Spec.Workflow, &job.Workflow
			refused[now.Name] = fmt.Errorf("workflow %s is deployed with table %s, cursor %s, and the catalog says table %s, cursor %s: "+
				"running would reset the watermark (a full load) while the schedule keeps the deployed settings; "+
				"deploy the catalog first (wharf deploy --allow-reset), then run",
				now.Name, was.Table, cmp.Or(was.Cursor, "none"), now.Table, cmp.Or(now.Cursor, "none"))
		}
	}
	return refused, nil
}

// heartbeat records this foreground process in the state store's process
// table while it lands, so that wharf serve processes (and other wharf
// runs) see its runs as in progress rather than as a crashed run's
// leftovers. It returns the process ID ("" when the first heartbeat
// failed) and a function that records the process's end.
func heartbeat(ctx context.Context, fleet state.Fleet, log *slog.Logger) (string, func()) {
	w := state.NewWorker("run")
	if err := fleet.Heartbeat(ctx, &w); err != nil {
		log.Warn("record this process in the state store", "err", err)
		return "", func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(state.DefaultHeartbeatInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := fleet.Heartbeat(ctx, &w); err != nil {
					log.Warn("heartbeat", "err", err)
				}
			}
		}
	}()
	return w.ID, func() {
		close(done)
		wg.Wait()
		if err := fleet.WorkerStopped(context.WithoutCancel(ctx), w.ID); err != nil {
			log.Warn("record this process's end", "err", err)
		}
	}
}
