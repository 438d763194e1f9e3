package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/status"
)

func (a *app) statusCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show every workflow: schedule, next run, last run, health, watermark, freshness",
		Long: `status shows every deployed workflow, and every workflow that only has run history, with
its schedule, next run (computed from the deployed schedule), when it last ran, its health (the
last real outcome, "failing ×N since TIME" after N failed runs in a row, or "late" when its data
is older than its freshness_sla; a skipped tick is no outcome), watermark, and freshness (the age
of its newest landed data: now minus the last successful run's upper watermark when the cursor is
a time, else minus when that run ended), then the wharf serve/worker processes sharing the state.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			now := time.Now()
			out := status.Report{Workflows: []status.Workflow{}, Workers: []status.Worker{}}
			if st, err := a.openState(ctx, 0, true); !a.isNoState(err) {
				if err != nil {
					return err
				}
				defer st.Close()
				now = st.Now()
				if out.Workflows, err = status.Workflows(ctx, st, now); err != nil {
					return failed(err)
				}
				if out.Workers, err = status.Workers(ctx, st, now); err != nil {
					return failed(err)
				}
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return failed(err)
				}
				return nil
			}
			if len(out.Workflows) == 0 {
				fmt.Fprintln(a.stdout, "No workflows deployed and no runs: deploy a catalog with wharf deploy -c FILE, or land one with wharf run.")
			} else {
				tw, flush := a.table()
				fmt.Fprintln(tw, "WORKFLOW\tSCHEDULE\tNEXT RUN\tLAST RUN\tSTATUS\tWATERMARK\tFRESHNESS")
				for _, ws := range out.Workflows {
					next := "-"
					switch {
					case ws.Deployed && !ws.Enabled:
						next = "disabled"
					case !ws.NextFireAt.IsZero():
						next = ws.NextFireAt.Format("2006-01-02 15:04:05")
					}
					lastRun := "-"
					if lr := ws.Last; lr != nil {
						lastRun = status.Ago(now, lr.StartedAt)
					}
					lastStatus := ws.Health()
					wm := "-"
					if ws.Watermark != nil {
						wm = *ws.Watermark
					}
					fresh := "never"
					if ls := ws.LastSucceeded; ls != nil {
						fresh = status.Duration(status.Freshness(*ls, now))
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ws.Workflow, ws.Schedule, next, lastRun, lastStatus, wm, fresh)
				}
				flush()
			}
			alive := 0
			for _, w := range out.Workers {
				if w.Alive {
					alive++
				}
			}
			fmt.Fprintf(a.stdout, "%d workflow(s); %d wharf process(es) alive\n", len(out.Workflows), alive)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object (see docs/engine.md)")
	return cmd
}
