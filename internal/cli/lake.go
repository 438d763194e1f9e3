package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/icetable"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/status"
)

func (a *app) lakeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lake",
		Short: "Inspect a lake: list committed files, verify runs against their manifests",
	}
	cmd.AddCommand(a.lakeLsCommand(), a.lakeVerifyCommand())
	return cmd
}

func (a *app) lakeLsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "ls LAKE [PREFIX]",
		Short: "List a lake's Parquet files: committed (claimed by a run manifest), leftover or missing",
		Long: `ls lists the Parquet files under PREFIX (e.g. hr/public.orders) of LAKE, a lake name
from the catalog (-c) or a lake URL (s3://..., gs://..., azblob://..., file:///...). Each file is
"committed" when a run manifest (_wharf/manifests/...) claims it, "leftover" when none does (a crashed
run's files, removed when its workflow next runs, or a run in progress), or "missing" when a
manifest claims a file the lake does not have. Exits 1 when a file is missing. For a catalog lake
with format: iceberg, a SNAPSHOT column names the Iceberg table and snapshot that holds each
committed file's run ("none": the run committed but its snapshot is missing; its workflow's next run
appends it), and a line per table gives its snapshots, files and rows.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			prefix := ""
			if len(args) == 2 {
				prefix = strings.Trim(args[1], "/")
			}
			lk, lkCfg, err := a.openLakeArg(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer lk.Close()
			inv, err := lk.Inventory(cmd.Context(), prefix)
			if err != nil {
				return failed(err)
			}
			var tables []*icetable.Table
			if lkCfg != nil && lkCfg.Iceberg() {
				if tables, err = a.lakeTables(cmd.Context(), lk, lkCfg, prefix); err != nil {
					return failed(err)
				}
			}
			if err := printInventory(cmd.Context(), a, inv, tables); err != nil {
				return failed(err)
			}
			if n := inv.Count(lake.Missing); n > 0 {
				return failed(fmt.Errorf("%d file(s) claimed by a manifest are missing from %s", n, lk.URL()))
			}
			return nil
		},
	}
}

// openLakeArg opens a lake named in the catalog (with its secret; its
// settings are returned too), or given as a URL or a directory (with the
// store's standard credentials; nil settings).
func (a *app) openLakeArg(ctx context.Context, arg string) (*lake.Lake, *catalog.Lake, error) {
	if strings.Contains(arg, "://") || strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		l, err := lake.Open(ctx, arg)
		if err != nil {
			return nil, nil, &exitError{code: ExitUsage, err: err}
		}
		return l, nil, nil
	}
	cat, err := a.loadCatalog()
	if err != nil {
		return nil, nil, err
	}
	lk := cat.Lakes[arg]
	if lk == nil {
		names := make([]string, 0, len(cat.Lakes))
		for n := range cat.Lakes {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, nil, &exitError{code: ExitUsage, err: fmt.Errorf("no lake %q in %s (it has: %s); or give a lake URL", arg, cat.Path, strings.Join(names, ", "))}
	}
	l, err := blueprint.OpenLake(ctx, lk, a.secrets)
	if err != nil {
		return nil, nil, failed(err)
	}
	return l, lk, nil
}

// lakeTables opens the Iceberg tables of an iceberg lake under prefix:
// non-nil, unless the lake's catalog is in a state that does not exist
// (then the files are listed without snapshots).
func (a *app) lakeTables(ctx context.Context, lk *lake.Lake, lkCfg *catalog.Lake, prefix string) ([]*icetable.Table, error) {
	var st state.Store // only a catalog in the state store reads it
	if lkCfg.IcebergCatalog == "" {
		var err error
		st, err = a.openState(ctx, 0, true)
		if a.isNoState(err) {
			return nil, nil // no catalog, so no tables
		}
		if err != nil {
			return nil, err
		}
		defer st.Close()
	}
	cat, err := icetable.Open(ctx, lkCfg, a.secrets, st)
	if err != nil {
		return nil, err
	}
	defer cat.Close()
	tables, unloaded, err := cat.LakeTables(ctx, lk, prefix)
	for _, e := range unloaded {
		fmt.Fprintf(a.stderr, "note: skipped: %v\n", e)
	}
	return append(make([]*icetable.Table, 0, len(tables)), tables...), err // non-nil: an iceberg lake
}

// printInventory prints the files of inv, with the Iceberg snapshot of
// each committed file's run when tables are given.
func printInventory(ctx context.Context, a *app, inv *lake.Inventory, tables []*icetable.Table) error {
	snapOf := map[string]string{} // run -> table@snapshot
	for _, t := range tables {
		for run, id := range t.RunSnapshots() {
			snapOf[run] = fmt.Sprintf("%s@%d", t, id)
		}
	}
	tw, flush := a.table()
	// row prints a line of the columns below, SNAPSHOT (the fifth) only
	// for an iceberg lake.
	row := func(cols ...string) {
		if tables == nil {
			cols = slices.Delete(cols, 4, 5)
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	row("STATUS", "ROWS", "SIZE", "RUN", "SNAPSHOT", "PATH")
	var rows, size int64
	unsnapped := 0
	for _, e := range inv.Entries {
		r, run, snap := "-", "-", "-"
		if e.Status != lake.Leftover {
			r, run = fmt.Sprint(e.Rows), e.RunID
		}
		if e.Status == lake.Committed {
			rows += e.Rows
			size += e.Bytes
			if snap = snapOf[e.RunID]; snap == "" {
				snap = "none"
				unsnapped++
			}
		}
		row(fmt.Sprint(e.Status), r, status.HumanBytes(e.Bytes), run, snap, e.Path)
	}
	flush()
	fmt.Fprintf(a.stdout, "%d committed file(s) in %d run(s): %d rows, %s; %d leftover, %d missing\n",
		inv.Count(lake.Committed), len(inv.Manifests), rows, status.HumanBytes(size), inv.Count(lake.Leftover), inv.Count(lake.Missing))
	if tables == nil {
		return nil
	}
	for _, t := range tables {
		files, err := t.CurrentFiles(ctx)
		if err != nil {
			return err
		}
		var n int64
		for _, f := range files {
			n += f.Rows
		}
		fmt.Fprintf(a.stdout, "Iceberg table %s: %d snapshot(s); the current one has %d file(s), %d rows\n", t, t.Snapshots(), len(files), n)
	}
	if unsnapped > 0 {
		fmt.Fprintf(a.stdout, "%d committed file(s) are in no Iceberg snapshot yet (their workflow's next run appends them)\n", unsnapped)
	}
	return nil
}

func (a *app) lakeVerifyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "verify WORKFLOW...",
		Short: "Check a workflow's committed runs against their manifests and the lake's files",
		Long: `verify checks, for each named workflow, that every run the state store records as committed
has a manifest listing the same files, and that every manifest's files exist in the lake with the
recorded size and, read from each Parquet footer, the recorded row count (runs that landed no file
have no manifest and are not counted). It names every file at
fault and exits 1 on any mismatch. Files that no manifest claims are reported as leftovers (not an
error: a crashed run's files are removed when its workflow next runs).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cat, err := a.loadCatalog()
			if err != nil {
				return err
			}
			jobs, err := a.expand(cmd.Context(), cat)
			if err != nil {
				return err
			}
			jobs, err = selectWorkflows(cat.Path, jobs, args, false)
			if err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
			// verify compares the lake with the state's runs: a state that
			// does not exist has none to compare with.
			st, err := a.openState(cmd.Context(), 0, true)
			if err != nil {
				return err
			}
			defer st.Close()
			problems := 0
			for _, job := range jobs {
				n, err := a.verifyWorkflow(cmd.Context(), st, job)
				if err != nil {
					return failed(fmt.Errorf("workflow %s: %w", job.Workflow.Name, err))
				}
				problems += n
			}
			if problems > 0 {
				return failed(fmt.Errorf("%d problem(s) found", problems))
			}
			return nil
		},
	}
}

// verifyWorkflow prints what it checked and every problem; it returns the
// number of problems.
func (a *app) verifyWorkflow(ctx context.Context, st state.Store, job *catalog.Resolved) (int, error) {
	wf := &job.Workflow
	lk, err := blueprint.OpenLake(ctx, &job.Lake, a.secrets)
	if err != nil {
		return 0, err
	}
	defer lk.Close()

	runs, err := st.Runs(ctx, state.RunFilter{Workflow: wf.Name, Limit: 1 << 30})
	if err != nil {
		return 0, err
	}
	committed := map[string][]state.File{}
	prefix := ""
	elsewhere := 0 // committed runs recorded in another lake
	for _, r := range runs {
		if r.Status != state.StatusSucceeded || r.Files == 0 {
			continue // a run that landed nothing has no manifest
		}
		if r.LakePrefix != "" && !strings.HasPrefix(r.LakePrefix, lk.URL()+"/") {
			// The workflow's lake changed since: this run is in the other.
			elsewhere++
			continue
		}
		files, err := st.Files(ctx, r.ID)
		if err != nil {
			return 0, err
		}
		committed[r.ID] = files
		if prefix == "" && len(files) > 0 {
			prefix = tablePrefix(files[0].Path)
		}
	}
	// The manifests of this workflow: under its table's prefix when a
	// committed file tells it, else anywhere in the lake.
	all, err := lk.Manifests(ctx, prefix)
	if err != nil {
		return 0, err
	}
	var problems []string
	manifests := map[string]*lake.Manifest{}
	for _, m := range all {
		if m.Workflow != wf.Name {
			continue
		}
		manifests[m.RunID] = m
		if prefix == "" {
			prefix = m.Prefix
		}
	}
	ids := make([]string, 0, len(committed))
	for id := range committed {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		m := manifests[id]
		if m == nil {
			problems = append(problems, fmt.Sprintf("run %s: committed in the state store but has no manifest in %s (the workflow's next run writes it)", id, lk.URL()))
			continue
		}
		problems = append(problems, compareFiles(id, committed[id], m)...)
	}
	var rows int64
	files := 0
	for _, id := range sortedRunIDs(manifests) {
		m := manifests[id]
		if _, ok := committed[id]; !ok {
			problems = append(problems, fmt.Sprintf("run %s: has a manifest (%s) but is not committed in the state store", id, lake.ManifestKey(m.Prefix, m.RunID)))
		}
		findings, err := lk.VerifyManifest(ctx, m)
		if err != nil {
			return 0, err
		}
		for _, f := range findings {
			problems = append(problems, f.String())
		}
		rows += m.Rows
		files += len(m.Files)
	}
	leftovers := 0
	if prefix != "" {
		inv, err := lk.Inventory(ctx, prefix)
		if err != nil {
			return 0, err
		}
		stateFiles := map[string]bool{}
		for _, files := range committed {
			for _, f := range files {
				stateFiles[f.Path] = true
			}
		}
		for _, e := range inv.Entries {
			// Files of a committed run without a manifest were reported
			// with their run above.
			if e.Status == lake.Leftover && !stateFiles[e.Path] {
				fmt.Fprintf(a.stdout, "%s: leftover: no manifest claims %s\n", wf.Name, e.Path)
				leftovers++
			}
		}
	}
	if job.Lake.Iceberg() && prefix != "" {
		found, err := a.verifyIceberg(ctx, st, lk, job, prefix, runs, committed)
		if err != nil {
			return 0, err
		}
		problems = append(problems, found...)
	}
	for _, p := range problems {
		fmt.Fprintf(a.stdout, "%s: %s\n", wf.Name, p)
	}
	verdict := "OK"
	if len(problems) > 0 {
		verdict = fmt.Sprintf("%d problem(s)", len(problems))
	}
	if elsewhere > 0 {
		fmt.Fprintf(a.stdout, "%s: %d committed run(s) landed in another lake (the workflow's lake changed since): not checked here\n", wf.Name, elsewhere)
	}
	fmt.Fprintf(a.stdout, "%s: %s — %d committed run(s), %d manifest(s), %d file(s), %d rows checked in %s; %d leftover file(s)\n",
		wf.Name, verdict, len(committed), len(manifests), files, rows, lk.URL(), leftovers)
	return len(problems), nil
}

// compareFiles checks that a manifest lists the files the state store
// recorded for the run, with the same rows and sizes.
func compareFiles(runID string, files []state.File, m *lake.Manifest) []string {
	var out []string
	inManifest := map[string]lake.ManifestFile{}
	for _, f := range m.Files {
		inManifest[f.Path] = f
	}
	for _, f := range files {
		mf, ok := inManifest[f.Path]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s: recorded for run %s in the state store but not in its manifest", f.Path, runID))
		case mf.Rows != f.Rows || mf.Bytes != f.Bytes:
			out = append(out, fmt.Sprintf("%s: the manifest says %d rows, %d bytes; the state store %d rows, %d bytes (run %s)", f.Path, mf.Rows, mf.Bytes, f.Rows, f.Bytes, runID))
		}
		delete(inManifest, f.Path)
	}
	for _, f := range sortedFiles(inManifest) {
		out = append(out, fmt.Sprintf("%s: in the manifest of run %s but not recorded in the state store", f, runID))
	}
	return out
}

func sortedFiles(m map[string]lake.ManifestFile) []string {
	out := make([]string, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func sortedRunIDs(m map[string]*lake.Manifest) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// tablePrefix returns the <database>/<table> directory of a landed file's
// path.
func tablePrefix(p string) string {
	parts := strings.SplitN(p, "/", 3)
	if len(parts) < 3 {
		return ""
	}
	return parts[0] + "/" + parts[1]
}

// verifyIceberg checks an iceberg lake's table against the state store:
// every committed run the table owes a snapshot (icetable.Table.Owes: every
// run since the table was created, also one that landed nothing) has a
// snapshot naming it, every snapshot names a committed run, and the current
// snapshot's data files are exactly the committed runs' files (committed:
// the files of each run that landed some) with their row counts. It prints
// a summary line and returns the problems.
func (a *app) verifyIceberg(ctx context.Context, st state.Store, lk *lake.Lake, job *catalog.Resolved, prefix string,
	runs []state.Run, committed map[string][]state.File) ([]string, error) {
	ref, err := catalog.ParseTableRef(job.Workflow.Table)
	if err != nil {
		return nil, err
	}
	cat, err := icetable.Open(ctx, &job.Lake, a.secrets, st)
	if err != nil {
		return nil, err
	}
	defer cat.Close()
	database, _, _ := strings.Cut(prefix, "/")
	namespace := cmp.Or(job.Workflow.Namespace, database)
	tbl, err := cat.Load(ctx, lk, namespace, icetable.TableName(ref.Schema, ref.Name))
	if errors.Is(err, icetable.ErrNoSuchTable) {
		return []string{fmt.Sprintf("no Iceberg table %s.%s in %s, though runs are committed (the workflow's next run creates it)",
			namespace, icetable.TableName(ref.Schema, ref.Name), cat)}, nil
	}
	if err != nil {
		return nil, err
	}
	var problems []string
	snaps, current := tbl.RunSnapshots(), tbl.CurrentRuns()
	want := map[string]state.File{}
	succeeded := map[string]bool{}
	slices.SortFunc(runs, func(a, b state.Run) int { return strings.Compare(a.ID, b.ID) })
	for _, r := range runs {
		if r.Status != state.StatusSucceeded {
			continue
		}
		succeeded[r.ID] = true
		if !tbl.Owes(r.StartedAt, r.Files) {
			continue // landed before the table existed, or nothing before empty snapshots
		}
		if _, ok := snaps[r.ID]; !ok {
			problems = append(problems, fmt.Sprintf("run %s: committed in the state store but has no snapshot in Iceberg table %s (the workflow's next run appends it)", r.ID, tbl))
			continue
		}
		if !current[r.ID] {
			continue // a later full load replaced its files
		}
		for _, f := range committed[r.ID] {
			want[f.Path] = f
		}
	}
	for _, id := range slices.Sorted(maps.Keys(snaps)) {
		if !succeeded[id] {
			problems = append(problems, fmt.Sprintf("snapshot %d of Iceberg table %s names run %s, which is not committed in the state store", snaps[id], tbl, id))
		}
	}
	files, err := tbl.CurrentFiles(ctx)
	if err != nil {
		return nil, err
	}
	var rows int64
	for _, f := range files {
		rows += f.Rows
		w, ok := want[f.Path]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: in the current snapshot of Iceberg table %s but no committed run recorded it", f.Path, tbl))
		case w.Rows != f.Rows || w.Bytes != f.Size:
			problems = append(problems, fmt.Sprintf("%s: Iceberg table %s says %d rows, %d bytes; the state store %d rows, %d bytes", f.Path, tbl, f.Rows, f.Size, w.Rows, w.Bytes))
		}
		delete(want, f.Path)
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		problems = append(problems, fmt.Sprintf("%s: recorded for run %s in the state store but not in the current snapshot of Iceberg table %s", p, want[p].RunID, tbl))
	}
	fmt.Fprintf(a.stdout, "%s: Iceberg table %s in %s: %d snapshot(s); the current one has %d file(s), %d rows\n",
		job.Workflow.Name, tbl, cat, tbl.Snapshots(), len(files), rows)
	return problems, nil
}
