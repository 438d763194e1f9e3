package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/state"
)

// statusJSON is `wharf status --json`.
type statusJSON struct {
	Workflows []workflowStatusJSON `json:"workflows"`
	Workers   []workerStatusJSON   `json:"workers"`
}

type workflowStatusJSON struct {
	Workflow  string   `json:"workflow"`
	Enabled   bool     `json:"enabled"`
	Schedule  string   `json:"schedule"`
	NextRunAt *string  `json:"next_run_at"`
	LastRun   *runJSON `json:"last_run"`
	Watermark *string  `json:"watermark"`
	// LastSuccessAt is when the newest succeeded run finished;
	// FreshnessSeconds the time since then (null when none).
	LastSuccessAt    *string  `json:"last_success_at"`
	FreshnessSeconds *float64 `json:"freshness_seconds"`
}

type workerStatusJSON struct {
	ID          string  `json:"id"`
	Host        string  `json:"host"`
	PID         int     `json:"pid"`
	Role        string  `json:"role"`
	StartedAt   *string `json:"started_at"`
	HeartbeatAt *string `json:"heartbeat_at"`
	Alive       bool    `json:"alive"`
}

func (a *app) statusCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show every deployed workflow: schedule, next run, last run, watermark, freshness",
		Long: `status shows every deployed workflow with its schedule, next scheduled run, last run and its
status, watermark, and freshness (time since its last successful run ended), then the wharf
serve/worker processes sharing the state.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := state.Open(ctx, a.stateURL)
			if err != nil {
				return failed(fmt.Errorf("state %s: %w", redactState(a.stateURL), err))
			}
			defer st.Close()
			fleet, ok := st.(state.Fleet)
			if !ok {
				return failed(fmt.Errorf("state %s keeps no run summaries", redactState(a.stateURL)))
			}
			ds, err := st.DeployedWorkflows(ctx)
			if err != nil {
				return failed(err)
			}
			last, err := fleet.LastRuns(ctx)
			if err != nil {
				return failed(err)
			}
			workers, err := fleet.Workers(ctx)
			if err != nil {
				return failed(err)
			}
			now := time.Now().UTC()
			out := statusJSON{Workflows: []workflowStatusJSON{}, Workers: []workerStatusJSON{}}
			for _, d := range ds {
				ws := workflowStatusJSON{Workflow: d.Name, Enabled: d.Enabled, Schedule: engine.ScheduleOf(d.Spec.Workflow.Schedule)}
				if d.Enabled {
					ws.NextRunAt = jsonTime(d.NextFireAt)
				}
				lr := last[d.Name]
				if lr.Last != nil {
					j := toRunJSON(*lr.Last)
					ws.LastRun = &j
				}
				if lr.LastSucceeded != nil {
					ws.LastSuccessAt = jsonTime(lr.LastSucceeded.FinishedAt)
					secs := now.Sub(lr.LastSucceeded.FinishedAt).Seconds()
					ws.FreshnessSeconds = &secs
				}
				wm, _, err := st.Watermark(ctx, d.Name)
				if err != nil {
					return failed(err)
				}
				if wm != nil {
					ws.Watermark = &wm.Text
				}
				out.Workflows = append(out.Workflows, ws)
			}
			for _, w := range workers {
				out.Workers = append(out.Workers, workerStatusJSON{ID: w.ID, Host: w.Host, PID: w.PID, Role: w.Role,
					StartedAt: jsonTime(w.StartedAt), HeartbeatAt: jsonTime(w.HeartbeatAt),
					Alive: w.StoppedAt.IsZero() && now.Sub(w.HeartbeatAt) < engine.DefaultDeadAfter})
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
				fmt.Fprintln(a.stdout, "No workflows deployed: deploy a catalog with wharf deploy -c FILE.")
			} else {
				tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "WORKFLOW\tSCHEDULE\tNEXT RUN\tLAST RUN\tSTATUS\tWATERMARK\tFRESHNESS")
				for i, ws := range out.Workflows {
					d := ds[i]
					next := "-"
					switch {
					case !d.Enabled:
						next = "disabled"
					case !d.NextFireAt.IsZero():
						next = d.NextFireAt.Format("2006-01-02 15:04:05")
					}
					lastRun, status := "-", "-"
					if lr := last[d.Name].Last; lr != nil {
						lastRun, status = since(now, lr.StartedAt), lr.Status
					}
					wm := "-"
					if ws.Watermark != nil {
						wm = *ws.Watermark
					}
					fresh := "never"
					if ls := last[d.Name].LastSucceeded; ls != nil {
						fresh = now.Sub(ls.FinishedAt).Round(time.Second).String()
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ws.Workflow, ws.Schedule, next, lastRun, status, wm, fresh)
				}
				tw.Flush()
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
