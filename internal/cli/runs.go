package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/status"
)

func (a *app) runsCommand() *cobra.Command {
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "runs [WORKFLOW] [--limit N] [--json]",
		Short: "List runs, newest first",
		Long: `runs lists the run history, newest first: ID, workflow, trigger (schedule, manual, retry),
status (queued, running, succeeded, failed, cancelled, skipped), start, duration, rows, bytes,
files, window (watermark from -> to) and error. --json prints an array for scripts.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 1 {
				return &exitError{code: ExitUsage, err: fmt.Errorf("--limit %d: want at least 1", limit)}
			}
			ctx := cmd.Context()
			st, err := a.openState(ctx, 0, true)
			if a.isNoState(err) {
				if asJSON {
					fmt.Fprintln(a.stdout, "[]")
				} else {
					fmt.Fprintln(a.stdout, "No runs yet.")
				}
				return nil
			}
			if err != nil {
				return err
			}
			defer st.Close()
			f := state.RunFilter{Limit: limit}
			if len(args) == 1 {
				f.Workflow = args[0]
			}
			if asJSON {
				out, err := status.Runs(ctx, st, f)
				if err != nil {
					return failed(err)
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return failed(err)
				}
				return nil
			}
			runs, err := st.Runs(ctx, f)
			if err != nil {
				return failed(err)
			}
			if len(runs) == 0 {
				fmt.Fprintln(a.stdout, "No runs yet.")
				if f.Workflow != "" {
					if msg := deploy.NotDeployed(ctx, st, f.Workflow); msg != "" {
						a.note("%s", msg)
					}
				}
				return nil
			}
			now := time.Now()
			tw, flush := a.table()
			fmt.Fprintln(tw, "RUN\tWORKFLOW\tTRIGGER\tSTATUS\tSTARTED\tDURATION\tROWS\tBYTES\tFILES\tWINDOW\tERROR")
			for _, r := range runs {
				started, dur := "-", "-"
				if r.Status != state.StatusQueued {
					started = r.StartedAt.Format("2006-01-02 15:04:05")
					end := r.FinishedAt
					if end.IsZero() {
						end = now
					}
					dur = end.Sub(r.StartedAt).Round(time.Millisecond).String()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", r.ID, r.Workflow, r.Trigger, r.Status,
					started, dur, r.Rows, status.HumanBytes(r.Bytes), r.Files, window(r), oneLine(r.Error, 80))
			}
			return flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "list at most N runs")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array (see docs/engine.md)")
	return cmd
}

func window(r state.Run) string {
	if r.FullLoad && r.WatermarkTo == nil {
		return "full"
	}
	from, to := "-", "-"
	if r.WatermarkFrom != nil {
		from = r.WatermarkFrom.Text
	} else if r.FullLoad {
		from = "full"
	}
	if r.WatermarkTo != nil {
		to = r.WatermarkTo.Text
	}
	if from == "-" && to == "-" {
		return "-"
	}
	return from + " -> " + to
}

// oneLine shortens s to one line of at most n runes.
func oneLine(s string, n int) string {
	if s == "" {
		return "-"
	}
	rs := []rune(s)
	for i, c := range rs {
		if c == '\n' || c == '\r' || c == '\t' {
			rs[i] = ' '
		}
	}
	if len(rs) > n {
		return string(rs[:n-1]) + "…"
	}
	return string(rs)
}
