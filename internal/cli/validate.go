package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/source"
)

// sourceCheckTimeout bounds how long validate waits for one source.
const sourceCheckTimeout = 10 * time.Second

func (a *app) validateCommand() *cobra.Command {
	var offline bool
	cmd := &cobra.Command{
		Use:   "validate [-c FILE] [--offline]",
		Short: "Check a catalog and print every error at once",
		Long: `validate reads a catalog (wharf's YAML/JSON or a Glue workflow catalog), applies
defaults and prints every error, each naming the file, line, column and field. It also refuses
what a run on this machine would refuse: a secret name with no secrets provider (--secrets or
WHARF_SECRETS), an s3:// lake with no region (?region= or the AWS configuration). Schedules that
never fire are warnings.

Then it checks each workflow's table in its source: that it exists, and the column names of
columns, exclude_columns, cast and mask, as plan does. A source it cannot reach (within 10 s) is a note
("source X not checked: ..."), not an error; --offline connects to nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cat, err := a.loadCatalog()
			if err != nil {
				if ee := (*exitError)(nil); !offline && errors.As(err, &ee) && ee.code == ExitFailed { // the file's errors
					// The count below is of the file's errors only.
					a.note("no source was checked: validate checks tables and columns once the catalog has no errors")
				}
				return err
			}
			a.catalogNotes(cat)
			ctx := cmd.Context()
			problems, badConns := a.checkHere(ctx, cat)
			if !offline {
				problems = append(problems, a.checkSources(ctx, cat, badConns)...)
			}
			if len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintln(a.stderr, p)
				}
				return failed(fmt.Errorf("%s: %d error(s)", cat.Path, len(problems)))
			}
			patterns := ""
			if len(cat.Patterns) > 0 {
				patterns = fmt.Sprintf(" and %d table pattern(s) (expanded by plan and deploy)", len(cat.Patterns))
			}
			fmt.Fprintf(a.stdout, "%s: valid %s catalog: %d workflow(s)%s, %d connection(s), %d lake(s)\n",
				cat.Path, cat.Format, len(cat.Workflows), patterns, len(cat.Connections), len(cat.Lakes))
			return nil
		},
	}
	cmd.Flags().BoolVar(&offline, "offline", false, "connect to no source: check the file and this machine's settings only")
	return cmd
}

// checkHere finds what a run on this machine would refuse before reaching
// any server: secret references that cannot be looked up here (a name with
// no secrets provider) and lakes that cannot be opened here (an s3:// lake
// with no region). It returns one message per problem and the connections
// whose secret cannot be looked up.
func (a *app) checkHere(ctx context.Context, cat *catalog.Catalog) (problems []string, badConns map[string]bool) {
	badConns = map[string]bool{}
	for _, name := range sortedNames(cat.Connections) {
		c := cat.Connections[name]
		if err := secret.Check(ctx, c.Secret, a.secrets); err != nil {
			problems = append(problems, fmt.Sprintf("%s: connection %s: %v", cat.Path, name, err))
			badConns[name] = true
		}
	}
	for _, name := range sortedNames(cat.Lakes) {
		l := cat.Lakes[name]
		if err := lake.Check(ctx, l.URL); err != nil {
			problems = append(problems, fmt.Sprintf("%s: lake %s: %v", cat.Path, name, err))
		}
		for _, ref := range []string{l.Secret, l.IcebergCatalogSecret} {
			if ref == "" {
				continue
			}
			if err := secret.Check(ctx, ref, a.secrets); err != nil {
				problems = append(problems, fmt.Sprintf("%s: lake %s: %v", cat.Path, name, err))
			}
		}
	}
	if h := cat.Alerts.Webhook; h != "" {
		if err := secret.Check(ctx, h, a.secrets); err != nil {
			problems = append(problems, fmt.Sprintf("%s: alerts.webhook: %v", cat.Path, err))
		}
	}
	salts := map[string]bool{}
	for _, w := range cat.Workflows {
		if s := w.Choices.MaskSalt; s != "" && !salts[s] {
			salts[s] = true
			if err := secret.Check(ctx, s, a.secrets); err != nil {
				problems = append(problems, fmt.Sprintf("%s: mask_salt of workflow %s: %v", cat.Path, w.Name, err))
			}
		}
	}
	return problems, badConns
}

// checkSources checks the column names of the workflows' column choices
// against their sources, as plan does (checkColumns), that every other
// workflow's table exists (checkTables), and that no two workflows land
// into one folder or land one table twice (checkLandings). A source that cannot
// be reached is a note, not an error: validate also runs where the
// databases are not reachable.
func (a *app) checkSources(ctx context.Context, cat *catalog.Catalog, badConns map[string]bool) []string {
	var workflows []catalog.Resolved
	for _, w := range cat.Workflows {
		if r := cat.ResolveWorkflow(w); r != nil && !badConns[r.Connection.Name] {
			workflows = append(workflows, *r)
		}
	}
	l := &sourceLister{secrets: a.secrets, openTimeout: sourceCheckTimeout}
	defer l.close()
	noted := map[string]bool{}
	unreachable := func(conn string, err error) {
		if !noted[conn] {
			noted[conn] = true
			msg := strings.TrimPrefix(err.Error(), "connection "+conn+": ")
			a.note("source %s not checked: %s", conn, secret.RedactString(msg))
		}
	}
	err := errors.Join(l.checkColumns(ctx, workflows, unreachable), l.checkTables(ctx, workflows, unreachable),
		l.checkLandings(ctx, workflows, unreachable))
	a.noteUnbounded(ctx, l, workflows)
	if err == nil {
		return nil
	}
	var problems []string
	for _, e := range unjoin(err) {
		problems = append(problems, fmt.Sprintf("%s: %v", cat.Path, e))
	}
	return problems
}

// noteUnbounded notes, once per reachable connection read by workflows
// with a cursor and no settle, a source role that cannot see the writes in
// flight (MySQL/MariaDB without PROCESS): their runs could skip rows
// committed late, and warn of it.
func (a *app) noteUnbounded(ctx context.Context, l *sourceLister, workflows []catalog.Resolved) {
	names := map[string][]string{}
	conns := map[string]*catalog.Connection{}
	for i := range workflows {
		w := &workflows[i]
		if w.Workflow.Cursor != "" && w.Workflow.Settle <= 0 {
			names[w.Connection.Name] = append(names[w.Connection.Name], w.Workflow.Name)
			conns[w.Connection.Name] = &w.Connection
		}
	}
	for _, conn := range sortedNames(names) {
		src, err := l.source(ctx, conns[conn])
		if err != nil {
			continue // noted as not checked
		}
		c, ok := src.(source.InFlightChecker)
		if !ok {
			continue
		}
		if msg, err := c.Unbounded(ctx); err == nil && msg != "" {
			a.note("source %s: %s; workflows with a cursor and no settle (a timestamp cursor is at risk): %s", conn, msg, strings.Join(names[conn], ", "))
		}
	}
}

// unjoin lists the errors errors.Join joined, joins within joins
// flattened.
func unjoin(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, unjoin(e)...)
	}
	return out
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// loadCatalog loads the catalog named by -c and turns validation errors
// into a failed exit with every error listed. Its notices are printed by
// validate and plan only (catalogNotes), not by every command.
func (a *app) loadCatalog() (*catalog.Catalog, error) {
	if a.catalogPath == "" {
		return nil, &exitError{code: ExitUsage, err: errors.New("no catalog: pass -c FILE or set WHARF_CATALOG")}
	}
	cat, err := catalog.Load(a.catalogPath)
	if err != nil {
		var errs catalog.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(a.stderr, e)
			}
			return nil, failed(fmt.Errorf("%s: %d error(s)", a.catalogPath, len(errs)))
		}
		return nil, failed(err)
	}
	return cat, nil
}

// catalogNotes prints the catalog's warnings (schedules that never fire)
// and notices (Glue fields wharf does not need, unused connections and
// lakes): remarks about the file, for the commands that check it.
func (a *app) catalogNotes(cat *catalog.Catalog) {
	for _, w := range cat.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	for _, n := range cat.Notices {
		a.note("%s", n)
	}
}
