package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/source"
)

// Lister lists the tables of a connection's schema ("" = the source's
// default), for table patterns and discover.
type Lister interface {
	Tables(ctx context.Context, conn *catalog.Connection, schema string) ([]source.TableRef, error)
}

// ListerFunc adapts a function to Lister.
type ListerFunc func(ctx context.Context, conn *catalog.Connection, schema string) ([]source.TableRef, error)

// Tables calls f.
func (f ListerFunc) Tables(ctx context.Context, conn *catalog.Connection, schema string) ([]source.TableRef, error) {
	return f(ctx, conn, schema)
}

// Expansion is what the catalog asks to be deployed.
type Expansion struct {
	// Workflows are the catalog's workflows, then each pattern's matches,
	// resolved with their connection and lake.
	Workflows []catalog.Resolved
	// Notes are remarks for the user (a pattern matching no table).
	Notes []string
}

// Expand resolves the catalog's workflows and expands its table patterns
// against the tables l lists (l may be nil when the catalog has no
// pattern). A pattern skips the tables that an explicit workflow of the
// same connection lands, so one table of a pattern can be customized by
// writing it out. It is an error when listing fails (a deploy must never
// disable workflows because a source was down), when an expanded name is
// not a valid workflow name, or when two workflows get one name (also
// ignoring case: names become file names).
func Expand(ctx context.Context, cat *catalog.Catalog, l Lister) (*Expansion, error) {
	e := &Expansion{}
	owner := map[string]string{} // lower-case name -> what defines it, for messages
	explicit := map[string]bool{}
	for _, w := range cat.Workflows {
		r := cat.ResolveWorkflow(w)
		if r == nil {
			return nil, fmt.Errorf("workflow %s (%s): connection %q or lake %q is not in the catalog", w.Name, where(w.Pos), w.Connection, w.Lake)
		}
		key := strings.ToLower(w.Name)
		if prev, dup := owner[key]; dup {
			return nil, fmt.Errorf("workflow %s (%s): the name is taken by %s", w.Name, where(w.Pos), prev)
		}
		owner[key] = fmt.Sprintf("workflow %s (%s)", w.Name, where(w.Pos))
		explicit[w.Connection+"\x00"+canonicalTable(w.Table)] = true
		e.Workflows = append(e.Workflows, *r)
	}
	type listKey struct{ conn, schema string }
	listed := map[listKey][]source.TableRef{}
	for _, p := range cat.Patterns {
		what := fmt.Sprintf("table pattern %s (%s, table %q)", p.Name, where(p.Pos), p.Table)
		conn, lk := cat.Connections[p.Connection], cat.Lakes[p.Lake]
		if conn == nil || lk == nil {
			return nil, fmt.Errorf("%s: connection %q or lake %q is not in the catalog", what, p.Connection, p.Lake)
		}
		if l == nil {
			return nil, fmt.Errorf("%s: cannot list the tables of connection %s", what, p.Connection)
		}
		schema, _ := p.Schema()
		k := listKey{p.Connection, schema}
		tables, ok := listed[k]
		if !ok {
			var err error
			if tables, err = l.Tables(ctx, conn, schema); err != nil {
				return nil, fmt.Errorf("%s: list tables of connection %s: %w", what, p.Connection, err)
			}
			listed[k] = tables
		}
		matched := 0
		for _, t := range tables {
			if !p.Match(t.Name) {
				continue
			}
			w := p.Expand(t.Name)
			if explicit[p.Connection+"\x00"+w.Table] ||
				explicit[p.Connection+"\x00"+t.String()] ||
				(schema == "" && explicit[p.Connection+"\x00"+catalog.TableRef{Name: t.Name}.String()]) {
				matched++
				continue // landed by an explicit workflow
			}
			if err := catalog.CheckName(w.Name); err != nil {
				return nil, fmt.Errorf("%s: table %s: %v; exclude the table or write a workflow for it", what, t, err)
			}
			key := strings.ToLower(w.Name)
			if prev, dup := owner[key]; dup {
				return nil, fmt.Errorf("%s: table %s would be workflow %s, a name taken by %s; exclude the table or change the name template",
					what, t, w.Name, prev)
			}
			owner[key] = fmt.Sprintf("%s for table %s", what, t)
			matched++
			e.Workflows = append(e.Workflows, catalog.Resolved{Workflow: *w, Connection: *conn, Lake: *lk, Alerts: cat.Alerts})
		}
		if matched == 0 {
			e.Notes = append(e.Notes, fmt.Sprintf("%s matches no table of connection %s", what, p.Connection))
		}
	}
	return e, nil
}

func where(p catalog.Pos) string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// canonicalTable is a validated catalog table value as TableRef.String
// writes it, so that "public"."t" and public.t are the same table.
func canonicalTable(table string) string {
	if ref, err := catalog.ParseTableRef(table); err == nil {
		return ref.String()
	}
	return table
}
