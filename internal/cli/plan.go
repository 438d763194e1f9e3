package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/stateurl"
)

func (a *app) planCommand() *cobra.Command {
	var asJSON, prune bool
	cmd := &cobra.Command{
		Use:   "plan [-c FILE] [--state URL] [--json] [--prune]",
		Short: "Show what deploy would change, without changing anything",
		Long: `plan compares the catalog (table patterns expanded against the sources) with the
workflows deployed in the state store and prints, per workflow, create / update (with the fields
that change) / unchanged / disable / delete, then a one-line count. It changes nothing.
--json prints one object: {"create": [name...], "update": [{"name": ..., "changes": [field...]}],
"unchanged": [name...], "disable": [name...], "delete": [name...]}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cat, err := a.loadCatalog()
			if err != nil {
				return err
			}
			a.catalogNotes(cat)
			// Read only: plan creates, migrates and writes nothing (a state
			// that does not exist yet has nothing deployed).
			st, err := stateurl.OpenReadOnly(cmd.Context(), a.stateURL)
			if err != nil {
				return failed(err) // the error names the URL, redacted
			}
			defer st.Close()
			p, err := a.computePlan(cmd.Context(), st, cat, deploy.Options{Prune: prune})
			if err != nil {
				return err
			}
			if asJSON {
				b, err := json.Marshal(p)
				if err != nil {
					return failed(err)
				}
				fmt.Fprintf(a.stdout, "%s\n", b)
				return nil
			}
			printPlan(a.stdout, p, true)
			fmt.Fprintf(a.stdout, "Plan: %s\n", p.Summary())
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plan as one JSON object (for scripts)")
	cmd.Flags().BoolVar(&prune, "prune", false, "plan to delete workflows no longer in the catalog, with their history")
	return cmd
}

// computePlan plans cat against what st has deployed (see planAgainst),
// as a command's error.
func (a *app) computePlan(ctx context.Context, st state.Deployments, cat *catalog.Catalog, opts deploy.Options) (*deploy.Plan, error) {
	p, err := a.planAgainst(ctx, st, cat, opts)
	if err != nil {
		return nil, failed(err)
	}
	return p, nil
}

// planAgainst plans cat against the workflows deployed in st, expanding
// table patterns against their sources; notes go to stderr.
func (a *app) planAgainst(ctx context.Context, st state.Deployments, cat *catalog.Catalog, opts deploy.Options) (*deploy.Plan, error) {
	l := &sourceLister{secrets: a.secrets}
	defer l.close()
	p, e, err := deploy.Compute(ctx, st, cat, l, opts)
	if err != nil {
		return nil, err
	}
	for _, n := range e.Notes {
		a.note("%s", n)
	}
	if err := errors.Join(l.checkColumns(ctx, e.Workflows, nil), l.checkLandings(ctx, e.Workflows, nil)); err != nil {
		return nil, err
	}
	return p, nil
}

// checkColumns checks the column names of every workflow's column choices,
// and a renamed added column (ingestion_column), against its table in the
// source, so that a misspelt or colliding column fails the plan (or
// validate) rather than the first run. Every problem is reported at
// once. A source that cannot be opened is an error, or, when unreachable is
// set, is passed to it and its workflows are not checked.
func (l *sourceLister) checkColumns(ctx context.Context, workflows []catalog.Resolved, unreachable func(conn string, err error)) error {
	return l.eachTable(ctx, workflows, checksColumns, unreachable, func(r *catalog.Resolved, ref source.TableRef, src source.Source) error {
		t, err := src.Describe(ctx, ref)
		if err != nil {
			return err
		}
		_, _, err = source.Choose(t, blueprint.Choices(&r.Workflow))
		return errors.Join(err, blueprint.CheckAddedColumn(&r.Workflow, t))
	})
}

// checkLandings refuses what the catalog's own check (which opens no
// source) cannot see: two workflows landing into one folder of one lake
// (two connections whose databases share a name, each with a table of the
// same name: their rows would mix in one table with nothing to tell them
// apart), and two workflows landing one table of one connection into one
// place, named two ways (db.orders and orders on MySQL/MariaDB, a schema
// and the connection's search_path on PostgreSQL) or through two lake
// names of one place: every row would land twice. Sources as for
// checkColumns; it asks an open source only its database's name and the
// schema of a table named without one (source.Qualifier).
//
// Only workflows that share a lake and a table name with another are
// read, so a catalog without such pairs opens no source here.
func (l *sourceLister) checkLandings(ctx context.Context, workflows []catalog.Resolved, unreachable func(conn string, err error)) error {
	place := map[string]string{}    // workflow → lake.Identity of its lake
	byName := map[string][]string{} // place and table name → workflows
	for i := range workflows {
		r := &workflows[i]
		place[r.Workflow.Name] = lake.Identity(r.Lake.URL)
		if ref, err := catalog.ParseTableRef(r.Workflow.Table); err == nil {
			k := place[r.Workflow.Name] + "\x00" + ref.Name
			byName[k] = append(byName[k], r.Workflow.Name)
		}
	}
	shared := map[string]bool{}
	for _, names := range byName {
		if len(names) > 1 {
			for _, n := range names {
				shared[n] = true
			}
		}
	}
	folders := map[string]*catalog.Resolved{}
	tables := map[string]*catalog.Resolved{}
	return l.eachTable(ctx, workflows, func(w *catalog.Workflow) bool { return shared[w.Name] }, unreachable,
		func(r *catalog.Resolved, ref source.TableRef, src source.Source) error {
			folder := blueprint.LakePrefix(src.Database(), ref)
			fkey := place[r.Workflow.Name] + "\x00" + folder
			if first := folders[fkey]; first != nil && first.Connection.Name != r.Connection.Name {
				fix := "give one of the workflows a lake of its own (another URL)"
				if ref.Schema == "" {
					fix = "name the tables with their schemas (schema.table) where they differ, or " + fix
				}
				return fmt.Errorf("lands into %s/%s, as workflow %s does from connection %s (the database of both connections is named %s): "+
					"the two tables' rows would mix in one folder; %s",
					r.Lake.Name, folder, first.Workflow.Name, first.Connection.Name, src.Database(), fix)
			} else if first == nil {
				folders[fkey] = r
			}
			qualified, err := source.Qualify(ctx, src, ref)
			if err != nil {
				return err
			}
			tkey := r.Connection.Name + "\x00" + place[r.Workflow.Name] + "\x00" + qualified.String()
			if first := tables[tkey]; first != nil {
				return fmt.Errorf("table %s is the table workflow %s (table: %s) lands from connection %s into lake %s: its rows would land twice; keep one workflow",
					r.Workflow.Table, first.Workflow.Name, first.Workflow.Table, r.Connection.Name, first.Lake.Name)
			}
			tables[tkey] = r
			return nil
		})
}

// checksColumns reports whether checkColumns reads w's table: w has column
// choices or a renamed added column to check.
func checksColumns(w *catalog.Workflow) bool {
	ch := blueprint.Choices(w)
	return len(ch.Columns)+len(ch.ExcludeColumns)+len(ch.Cast)+len(ch.Mask) > 0 || w.IngestionColumn != ""
}

// checkTables checks that the table of every workflow checkColumns does not
// read exists in its source: one listing per schema, and a Describe only for
// a name the listing lacks (a view, which is not listed, or a missing table,
// whose error has a "did you mean"). Sources as for checkColumns.
func (l *sourceLister) checkTables(ctx context.Context, workflows []catalog.Resolved, unreachable func(conn string, err error)) error {
	type key struct{ conn, schema string }
	listed := map[key]map[string]bool{}
	others := func(w *catalog.Workflow) bool { return !checksColumns(w) }
	return l.eachTable(ctx, workflows, others, unreachable, func(r *catalog.Resolved, ref source.TableRef, src source.Source) error {
		k := key{r.Connection.Name, ref.Schema}
		names, ok := listed[k]
		if !ok {
			names = map[string]bool{}
			if tl, ok := src.(source.TableLister); ok {
				refs, err := tl.Tables(ctx, ref.Schema)
				if err != nil && !errors.Is(err, source.ErrNotFound) { // a missing schema: Describe says so
					return err
				}
				for _, t := range refs {
					names[t.Name] = true
				}
			}
			listed[k] = names
		}
		if names[ref.Name] {
			return nil
		}
		_, err := src.Describe(ctx, ref)
		return err
	})
}

// eachTable calls check with the table and the opened source of each
// workflow that want selects, and returns every error, each naming its
// workflow. A source that cannot be opened is an error, or, when
// unreachable is set, is passed to it and its workflows are skipped.
func (l *sourceLister) eachTable(ctx context.Context, workflows []catalog.Resolved, want func(*catalog.Workflow) bool,
	unreachable func(conn string, err error), check func(r *catalog.Resolved, ref source.TableRef, src source.Source) error) error {
	var errs []error
	for i := range workflows {
		r := &workflows[i]
		if !want(&r.Workflow) {
			continue
		}
		ref, err := catalog.ParseTableRef(r.Workflow.Table)
		if err == nil {
			var src source.Source
			if src, err = l.source(ctx, &r.Connection); err != nil && unreachable != nil {
				unreachable(r.Connection.Name, err)
				continue
			}
			if err == nil {
				err = check(r, ref, src)
			}
		}
		for _, e := range unjoin(err) {
			if e != nil {
				errs = append(errs, fmt.Errorf("workflow %s: %w", r.Workflow.Name, e))
			}
		}
	}
	return errors.Join(errs...)
}

// printPlan prints one line per workflow of the plan; unchanged ones only
// when withUnchanged.
func printPlan(out io.Writer, p *deploy.Plan, withUnchanged bool) {
	w := bufio.NewWriter(out) // a line per workflow: one write, not thousands
	defer w.Flush()
	for _, it := range p.Create {
		fmt.Fprintf(w, "create     %s\n", it.Name)
	}
	for _, it := range p.Update {
		line := fmt.Sprintf("update     %s: %s", it.Name, strings.Join(it.Changes, ", "))
		if it.ResetsWatermark {
			line += " (resets the watermark: the next run is a full load; needs --allow-reset)"
		}
		fmt.Fprintln(w, line)
	}
	if withUnchanged {
		for _, name := range p.Unchanged {
			fmt.Fprintf(w, "unchanged  %s\n", name)
		}
	}
	for _, name := range p.Disable {
		fmt.Fprintf(w, "disable    %s (no more scheduled runs; history kept)\n", name)
	}
	for _, name := range p.Delete {
		fmt.Fprintf(w, "delete     %s (with its runs, files and watermark)\n", name)
	}
}

// sourceLister lists tables for table patterns, opening each connection's
// source once (a source that failed to open is not tried again).
type sourceLister struct {
	secrets string
	// openTimeout bounds opening a source (0: the source's own connect
	// timeout).
	openTimeout time.Duration
	mu          sync.Mutex
	open        map[string]source.Source
	failed      map[string]error
}

func (l *sourceLister) source(ctx context.Context, conn *catalog.Connection) (source.Source, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if src, ok := l.open[conn.Name]; ok {
		return src, nil
	}
	if err, ok := l.failed[conn.Name]; ok {
		return nil, err
	}
	openCtx := ctx
	if l.openTimeout > 0 {
		var cancel context.CancelFunc
		openCtx, cancel = context.WithTimeoutCause(ctx, l.openTimeout, fmt.Errorf("no answer within %s", l.openTimeout))
		defer cancel()
	}
	src, err := blueprint.OpenSource(openCtx, conn, l.secrets)
	if err != nil {
		if cause := context.Cause(openCtx); cause != nil && ctx.Err() == nil {
			err = cause
		}
		err = fmt.Errorf("connection %s: %w", conn.Name, err)
		if l.failed == nil {
			l.failed = map[string]error{}
		}
		l.failed[conn.Name] = err
		return nil, err
	}
	if l.open == nil {
		l.open = map[string]source.Source{}
	}
	l.open[conn.Name] = src
	return src, nil
}

// Tables lists a schema's tables on the connection's source.
func (l *sourceLister) Tables(ctx context.Context, conn *catalog.Connection, schema string) ([]source.TableRef, error) {
	src, err := l.source(ctx, conn)
	if err != nil {
		return nil, err
	}
	tl, ok := src.(source.TableLister)
	if !ok {
		return nil, fmt.Errorf("connection %s: this engine cannot list its tables (table patterns need postgres, mysql or sqlite)", conn.Name)
	}
	return tl.Tables(ctx, schema)
}

func (l *sourceLister) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, src := range l.open {
		_ = src.Close()
	}
	l.open = nil
}
