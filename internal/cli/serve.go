package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state"
)

func (a *app) serveCommand() *cobra.Command {
	var f engineFlags
	cmd := &cobra.Command{
		Use:   "serve [--state URL] [-c FILE]",
		Short: "Run the scheduler and workers for the deployed workflows until SIGINT/SIGTERM",
		Long: `serve runs what is deployed in the state store (wharf deploy puts it there): it fires each
workflow's schedule, lands queued runs (wharf trigger), retries failed ones, and takes over the
runs of wharf processes that died. Several serve and worker processes on one PostgreSQL state
share the work; each schedule tick runs once across them.

With -c, serve checks that the catalog matches what is deployed and warns when it does not
(it never deploys). On SIGINT or SIGTERM it stops taking work, waits --stop-timeout for running
runs, then releases the others to run again elsewhere.

Alerts (failed runs, freshness_sla breaches, schema changes) go to the webhook of the catalog's
alerts section, deployed with the workflows; --alert-webhook serves workflows deployed without
one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runEngine(cmd, &f, engine.RoleServe)
		},
	}
	f.addWork(cmd.Flags())
	cmd.Flags().DurationVar(&f.cfg.FreshnessInterval, "freshness-check", engine.DefaultFreshnessInterval, "how often the leader checks freshness_sla and alerts late workflows")
	cmd.Flags().StringVar(&f.cfg.CatchUp, "catch-up", engine.CatchUpOne, "schedule ticks missed while no serve ran: one (one run per workflow) or none")
	return cmd
}

func (a *app) workerCommand() *cobra.Command {
	var f engineFlags
	cmd := &cobra.Command{
		Use:   "worker [--state URL]",
		Short: "Land queued runs of the deployed workflows until SIGINT/SIGTERM (no scheduler)",
		Long: `worker lands queued runs, like serve, but fires no schedules and never leads: at least one
wharf serve must share its state for schedules and retries to happen. It needs only --state
and --secrets.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runEngine(cmd, &f, engine.RoleWorker)
		},
	}
	f.addWork(cmd.Flags())
	return cmd
}

func (a *app) runEngine(cmd *cobra.Command, f *engineFlags, role string) error {
	ctx := cmd.Context()
	if err := f.http.check(); err != nil {
		return &exitError{code: ExitUsage, err: err}
	}
	if f.http.addr != "" {
		// Set before the engine starts; the metrics exist once it has.
		f.cfg.OnRunEnd = func(r state.Run) { f.http.metrics.ObserveRun(r) }
	}
	e, st, closeAll, err := a.openEngine(ctx, f, role, false)
	if err != nil {
		return err
	}
	defer closeAll()
	waitConsole := func() error { return nil }
	if f.http.addr != "" {
		log, err := a.logger()
		if err != nil {
			return &exitError{code: ExitUsage, err: err}
		}
		if waitConsole, err = a.startConsole(ctx, &f.http, st, e, log); err != nil {
			return err
		}
	}
	if a.catalogPath != "" && role == engine.RoleServe {
		if err := a.checkDeployed(ctx, st); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.stderr, "wharf %s: worker %s on %s; stop with Ctrl-C or SIGTERM\n", role, e.WorkerID(), secret.RedactURL(a.stateURL))
	if err := e.Run(ctx); err != nil {
		return failed(err)
	}
	if err := waitConsole(); err != nil {
		return failed(err)
	}
	return nil
}

// checkDeployed warns when the catalog differs from the deployed workflows,
// listing exactly what wharf plan would change (the same plan, computed by
// the same code). serve never deploys; a catalog it cannot plan (a source
// down for a table pattern) is a warning too, not a reason not to serve.
func (a *app) checkDeployed(ctx context.Context, st state.Store) error {
	cat, err := a.loadCatalog()
	if err != nil {
		return err
	}
	p, err := a.planAgainst(ctx, st, cat, deploy.Options{})
	if err != nil {
		fmt.Fprintf(a.stderr, "warning: cannot compare %s with what is deployed: %v\n", a.catalogPath, err)
		return nil
	}
	if p.Empty() {
		return nil
	}
	fmt.Fprintf(a.stderr, "warning: %s differs from what is deployed; serve runs the deployed workflows. wharf deploy -c %s would:\n",
		a.catalogPath, a.catalogPath)
	var b strings.Builder
	printPlan(&b, p, false)
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if line != "" {
			fmt.Fprintf(a.stderr, "  %s", line)
		}
	}
	return nil
}
