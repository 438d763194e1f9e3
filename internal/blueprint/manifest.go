package blueprint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/crashpoint"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/state"
)

// Manifests: each committed run gets _wharf/manifests/<database>/<table>/<run
// id>.json (lake.Manifest), written right AFTER the state transaction that
// commits the run. Writing it after, not before, is what lets readers trust
// it: a manifest then exists only for a committed run, whereas one written
// before the commit would, after a crash between the two, describe files
// that the retry is about to delete. The price is a gap the other way: a
// process that dies between its commit and its manifest leaves a committed
// run without one. The next run of the workflow closes that gap first
// (repairManifests), from the state store's record of the run's files and
// the files' own Parquet footers, and `wharf lake verify` reports any run
// still missing one.

// maxRepairScan bounds how many recent committed runs repairManifests
// looks at; it stops at the first that has its manifest.
const maxRepairScan = 20

// writeManifest writes the manifest of a run that just committed. A run
// that landed no file (nothing new) gets none: a frequent schedule would
// otherwise fill the lake with empty manifests.
// after is the exclusive lower bound the run read from (its starting
// watermark less the lookback; nil for a full load).
func writeManifest(ctx context.Context, lk *lake.Lake, prefix string, run *state.Run, res *Result, schema *arrow.Schema, after *coltype.Watermark) error {
	if len(res.Files) == 0 {
		return nil
	}
	m := &lake.Manifest{
		RunID: run.ID, Workflow: run.Workflow, Prefix: prefix,
		Window: lake.Window{Cursor: res.Cursor, FullLoad: res.FullLoad, After: lake.BoundOf(after), Through: lake.BoundOf(res.WatermarkTo)},
		Rows:   res.Rows, Bytes: res.Bytes,
		Schema:    lake.SchemaSummary(schema),
		StartedAt: run.StartedAt, CommittedAt: run.FinishedAt,
	}
	if res.Cursor == "" {
		m.Window.Through = nil
	}
	for _, f := range res.Files {
		m.Files = append(m.Files, lake.ManifestFile{Path: f.Path, Rows: f.Rows, Bytes: f.Bytes})
	}
	if err := lk.WriteManifest(ctx, m); err != nil {
		return err
	}
	crashpoint.Hit(crashpoint.AfterManifest)
	return nil
}

// repairManifests writes the manifests missing for the most recent
// committed runs of a workflow (a process died between commit and
// manifest). It returns how many it wrote.
func (l *Lander) repairManifests(ctx context.Context, lk *lake.Lake, prefix string, wf *catalog.Workflow, log *slog.Logger) (int, error) {
	runs, err := l.State.Runs(ctx, state.RunFilter{Workflow: wf.Name, Limit: maxRepairScan})
	if err != nil {
		return 0, fmt.Errorf("list recent runs: %w", err)
	}
	n := 0
	here := lakeLocation(lk, prefix)
	for _, r := range runs {
		if r.Status != state.StatusSucceeded || r.Files == 0 {
			continue
		}
		if r.LakePrefix != "" && r.LakePrefix != here {
			// It landed elsewhere (the workflow's lake or table changed
			// since): its manifest is there, and its files are not here.
			continue
		}
		_, err := lk.ReadManifest(ctx, prefix, r.ID)
		if err == nil {
			return n, nil // older runs were repaired or written before
		}
		if !errors.Is(err, lake.ErrNoManifest) {
			return n, err
		}
		m, err := manifestFromState(ctx, l.State, lk, prefix, wf, &r)
		if err != nil {
			return n, fmt.Errorf("rebuild the manifest of committed run %s: %w", r.ID, err)
		}
		if err := lk.WriteManifest(ctx, m); err != nil {
			return n, err
		}
		log.Warn("wrote the missing manifest of a committed run", "committed_run", r.ID, "files", len(m.Files))
		n++
	}
	return n, nil
}

// manifestFromState rebuilds a committed run's manifest from the state
// store (files, rows, sizes, window) and the first file's footer (schema).
// The state keeps the run's starting watermark, not the lookback it read
// with nor the cursor's name: those come from the workflow as the catalog
// has it now.
func manifestFromState(ctx context.Context, st state.Store, lk *lake.Lake, prefix string, wf *catalog.Workflow, r *state.Run) (*lake.Manifest, error) {
	files, err := st.Files(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	m := &lake.Manifest{
		RunID: r.ID, Workflow: r.Workflow, Prefix: prefix, Repaired: true,
		Window:    lake.Window{FullLoad: r.FullLoad, Through: lake.BoundOf(r.WatermarkTo)},
		StartedAt: r.StartedAt, CommittedAt: r.FinishedAt,
	}
	if r.WatermarkTo != nil {
		m.Window.Cursor = wf.Cursor
	}
	if r.WatermarkFrom != nil && !r.FullLoad {
		after, err := r.WatermarkFrom.Minus(wf.Lookback)
		if err != nil {
			return nil, err
		}
		m.Window.After = lake.BoundOf(after)
	}
	for _, f := range files {
		m.Files = append(m.Files, lake.ManifestFile{Path: f.Path, Rows: f.Rows, Bytes: f.Bytes})
		m.Rows += f.Rows
		m.Bytes += f.Bytes
	}
	if len(files) > 0 {
		_, schema, err := lk.ReadFooter(ctx, files[0].Path)
		if err != nil {
			return nil, err
		}
		m.Schema = lake.SchemaSummary(schema)
	}
	return m, nil
}
