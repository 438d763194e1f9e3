package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/status"
)

// summarize prints one line per workflow and returns a failed exit if any failed.
func summarize(a *app, results []*blueprint.Result) error {
	tw, flush := a.table()
	fmt.Fprintln(tw, "WORKFLOW\tSTATUS\tROWS\tFILES\tBYTES\tDURATION\tLOAD\tWATERMARK")
	var rows, bytes int64
	var files, nfailed, nskipped int
	for _, r := range results {
		load := "incremental"
		if r.FullLoad {
			load = "full"
		}
		switch r.Status {
		case state.StatusSucceeded:
		case state.StatusSkipped:
			load = "-"
			nskipped++
		default:
			load = "-"
			nfailed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n", r.Workflow, r.Status, r.Rows, len(r.Files),
			status.HumanBytes(r.Bytes), r.Duration.Round(time.Millisecond), load, orDash(r.WatermarkTo.String()))
		rows += r.Rows
		bytes += r.Bytes
		files += len(r.Files)
	}
	flush()
	// A note several runs share (a source role's missing privilege) once,
	// naming them all, in the order of their first note.
	var notes []string
	byNote := map[string][]string{}
	for _, r := range results {
		for _, n := range r.Notes {
			if byNote[n] == nil {
				notes = append(notes, n)
			}
			byNote[n] = append(byNote[n], r.Workflow)
		}
	}
	for _, n := range notes {
		a.note("%s: %s", strings.Join(byNote[n], ", "), n)
	}
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(a.stderr, "error: %v\n", r.Err)
		}
	}
	skipped := ""
	if nskipped > 0 {
		skipped = fmt.Sprintf(", %d skipped (already running)", nskipped)
	}
	fmt.Fprintf(a.stdout, "%d workflow(s): %d succeeded%s, %d failed; %d rows, %d files, %s\n",
		len(results), len(results)-nfailed-nskipped, skipped, nfailed, rows, files, status.HumanBytes(bytes))
	if nfailed == 0 && nskipped == 0 && rows == 0 {
		fmt.Fprintln(a.stdout, "Nothing new to land: every table is up to date.")
	}
	if nfailed+nskipped > 0 {
		return &exitError{code: ExitFailed, err: fmt.Errorf("%d of %d workflow(s) did not land", nfailed+nskipped, len(results))}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// rate formats a per-second rate.
func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.0f", float64(n)/d.Seconds()), ".0")
}
