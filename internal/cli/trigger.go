package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/status"
)

func (a *app) triggerCommand() *cobra.Command {
	var f engineFlags
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "trigger WORKFLOW... [--wait]",
		Short: "Queue on-demand runs of deployed workflows; print one run ID per line",
		Long: `trigger queues a run of each named deployed workflow for the wharf serve/worker processes
sharing the state, and prints one run ID per line, in order. A workflow that is already queued
or running gets a skipped run (its ID is printed too, and a note on stderr).

With --wait it waits for each run, retries included, prints how each ended on stderr, and exits
1 unless all succeeded. When no serve or worker is alive on the state, a note on stderr says so:
the runs stay queued until one starts.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			e, st, closeAll, err := a.openEngine(ctx, &f, engine.RoleClient, true)
			if err != nil {
				return err
			}
			defer closeAll()
			qs, err := e.Trigger(ctx, args...)
			if len(qs) > 0 {
				a.noteNoProcess(ctx, st)
			}
			for _, q := range qs {
				fmt.Fprintln(a.stdout, q.Run.ID)
				if q.Skip != "" {
					a.note("%s: skipped: %s", q.Run.Workflow, q.Skip)
				}
			}
			if err != nil {
				return failed(err)
			}
			if !wait {
				return nil
			}
			wctx := ctx
			if timeout > 0 {
				var cancel context.CancelFunc
				wctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			out, err := e.Wait(wctx, qs, 20*time.Millisecond)
			nfailed := 0
			for i, o := range out {
				if i >= len(qs) {
					break
				}
				r := o.Run
				if r.Status != state.StatusSucceeded {
					nfailed++
				}
				line := fmt.Sprintf("%s %s: %s", r.Workflow, r.ID, r.Status)
				if r.Status == state.StatusSucceeded {
					line += fmt.Sprintf(", %d rows, %d files, %s", r.Rows, r.Files, r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
				}
				if r.Error != "" {
					line += ": " + r.Error
				}
				fmt.Fprintln(a.stderr, line)
			}
			if err != nil {
				if wctx.Err() != nil && ctx.Err() == nil {
					return failed(fmt.Errorf("gave up waiting after --timeout %s (the runs go on)", timeout))
				}
				return failed(err)
			}
			if nfailed > 0 {
				return failed(fmt.Errorf("%d of %d run(s) did not succeed", nfailed, len(out)))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the runs; exit 1 unless all succeeded")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "with --wait, give up waiting after this long (0 = no limit)")
	f.addAttempts(cmd.Flags())
	return cmd
}

// noteNoProcess says on stderr when no wharf serve or worker is alive on
// st: queued runs then wait, and trigger --wait with them, until one starts.
func (a *app) noteNoProcess(ctx context.Context, st state.Store) {
	ws, err := status.Workers(ctx, st, st.Now())
	takesRuns := func(w status.Worker) bool {
		return w.Alive && (w.Role == engine.RoleServe || w.Role == engine.RoleWorker) // not a wharf run
	}
	if err != nil || slices.ContainsFunc(ws, takesRuns) {
		return
	}
	a.note("no wharf serve or worker is alive on this state: the runs stay queued until one starts (wharf serve --state URL)")
}

func (a *app) cancelCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cancel RUN...",
		Short: "Cancel queued or running runs",
		Long: `cancel stops runs by ID (see wharf runs). A queued run ends cancelled at once; a running one
is stopped by the process running it within a few seconds, which removes the files it wrote and
records it cancelled. A cancelled run is not retried.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var f engineFlags
			e, _, closeAll, err := a.openEngine(ctx, &f, engine.RoleClient, true)
			if err != nil {
				return err
			}
			defer closeAll()
			var errs []error
			for _, id := range args {
				run, err := e.Cancel(ctx, id)
				switch {
				case errors.Is(err, state.ErrNotFound):
					errs = append(errs, fmt.Errorf("no run %s (wharf runs lists run IDs)", id))
				case err != nil:
					errs = append(errs, err)
				case run.Status == state.StatusCancelled:
					fmt.Fprintf(a.stdout, "%s %s: cancelled\n", run.Workflow, run.ID)
				default:
					fmt.Fprintf(a.stdout, "%s %s: cancelling (the process running it stops it within seconds)\n", run.Workflow, run.ID)
				}
			}
			if len(errs) > 0 {
				return failed(errors.Join(errs...))
			}
			return nil
		},
	}
	return cmd
}
