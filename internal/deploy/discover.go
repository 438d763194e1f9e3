package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

// CursorNames are the column names Discover takes for a cursor, most
// likely first. Names are compared ignoring case and underscores, so
// "UpdatedAt" and "UPDATED_AT" are "updated_at".
var CursorNames = []string{
	"updated_at", "modified_at", "last_modified", "last_modified_at", "last_updated", "last_updated_at",
	"changed_at", "last_changed", "updated_on", "modified_on", "update_time", "updated_time",
	"modify_time", "modified_time", "last_update", "updated", "modified", "changed", "mtime",
}

// cursorKind reports whether a column of kind k can be a guessed cursor:
// timestamps and integers only (a string or float "updated" column is
// more likely a flag than a change marker).
func cursorKind(k coltype.Kind) bool {
	switch k {
	case coltype.Timestamp, coltype.TimestampTZ, coltype.Int16, coltype.Int32, coltype.Int64:
		return true
	}
	return false
}

func normalizeColumn(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }

// GuessCursor returns the column most likely to be a cursor (see
// CursorNames), or "" when none fits.
func GuessCursor(cols []coltype.Column) string {
	for _, want := range CursorNames {
		n := normalizeColumn(want)
		for _, c := range cols {
			if normalizeColumn(c.Name) == n && cursorKind(c.Kind) {
				return c.Name
			}
		}
	}
	return ""
}

// DiscoverSource is what Discover reads: a source that lists its tables.
type DiscoverSource interface {
	source.TableLister
	Describe(ctx context.Context, ref source.TableRef) (*source.Table, error)
}

// Entry is one discovered table, as a catalog workflow entry.
type Entry struct {
	Name   string // connection_table, made unique against the catalog
	Table  string // schema.table, or table when no schema was asked for
	Cursor string // guessed; "" = none found (full loads)
	// Problem says why the table cannot land as is (an unsupported column
	// type, a describe error, a name the catalog cannot hold); the entry is
	// printed commented out.
	Problem string
	// IngestionColumn is set when the table already has a column named as
	// the one the landing blueprint adds: the entry renames the added
	// column to this (ingestion_column), and Flag says why.
	IngestionColumn string
	Flag            string
	// LandedBy names the catalog workflow or table pattern that already
	// lands the table; the entry is not printed, only a comment.
	LandedBy string
}

// Discover lists the tables of schema ("" = the source's default) on the
// catalog's connection connName and returns an entry for each, with its
// cursor column guessed.
func Discover(ctx context.Context, cat *catalog.Catalog, connName, schema string, src DiscoverSource) ([]Entry, error) {
	if cat.Connections[connName] == nil {
		names := slices.Sorted(maps.Keys(cat.Connections))
		return nil, fmt.Errorf("no connection %q in %s (it has: %s)", connName, cat.Path, strings.Join(names, ", "))
	}
	refs, err := src.Tables(ctx, schema)
	if err != nil {
		return nil, fmt.Errorf("connection %s: %w", connName, err)
	}
	landed := map[string]string{}
	taken := map[string]bool{}
	for _, w := range cat.Workflows {
		taken[strings.ToLower(w.Name)] = true
		if w.Connection == connName {
			landed[canonicalTable(w.Table)] = "workflow " + w.Name
		}
	}
	namer := catalog.Pattern{Workflow: catalog.Workflow{Name: connName}}
	var out []Entry
	for _, ref := range refs {
		unqualified := catalog.TableRef{Name: ref.Name}.String()
		e := Entry{Table: unqualified}
		if schema != "" {
			e.Table = ref.String()
		}
		by := landed[ref.String()]
		if by == "" && schema == "" {
			by = landed[unqualified]
		}
		if by == "" {
			by = patternFor(cat, connName, schema, ref)
		}
		if by != "" {
			e.LandedBy = by
			out = append(out, e)
			continue
		}
		e.Name = namer.NameFor(ref.Name)
		for i := 2; taken[strings.ToLower(e.Name)]; i++ {
			e.Name = fmt.Sprintf("%s_%d", namer.NameFor(ref.Name), i)
		}
		taken[strings.ToLower(e.Name)] = true
		if err := catalog.CheckName(e.Name); err != nil {
			e.Problem = err.Error()
		}
		if _, err := catalog.ParseTableRef(e.Table); err != nil {
			e.Problem = err.Error() // what validate would say of the entry
		}
		t, err := src.Describe(ctx, ref)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			// An unsupported column type, no permission, ...: say so on
			// the entry and go on with the other tables.
			e.Problem = err.Error()
		default:
			e.Cursor = GuessCursor(t.Columns)
			e.IngestionColumn, e.Flag = renameAdded(cat, t)
		}
		out = append(out, e)
	}
	return out, nil
}

// renameAdded returns a name for the column the landing blueprint adds
// when table already has a column of the catalog's name for it
// (defaults.ingestion_column, else ingestion_timestamp), and why; "" when
// the table has none.
func renameAdded(cat *catalog.Catalog, table *source.Table) (name, why string) {
	w := catalog.Workflow{IngestionColumn: cat.IngestionColumn}
	own := table.Column(w.AddedColumn())
	if own == nil {
		return "", ""
	}
	name = "wharf_" + w.AddedColumn()
	for i := 2; table.Column(name) != nil; i++ {
		name = fmt.Sprintf("wharf_%s_%d", w.AddedColumn(), i)
	}
	return name, fmt.Sprintf("the table has its own %s column: the column wharf adds is named %s", own.Name, name)
}

// patternFor names the catalog's table pattern on the connection that
// matches ref, listed from schema ("" = default), or "".
func patternFor(cat *catalog.Catalog, connName, schema string, ref source.TableRef) string {
	for _, p := range cat.Patterns {
		ps, _ := p.Schema()
		if p.Connection != connName || !p.Match(ref.Name) {
			continue
		}
		if (ps == "" && schema == "") || (ps != "" && ps == ref.Schema) {
			return "table pattern " + p.Name
		}
	}
	return ""
}

// WriteEntries prints entries as catalog YAML: a workflows: list to paste
// into the catalog. Guessed cursors are marked "# guessed"; tables the
// catalog already lands, and tables that cannot land, are comments. A
// non-empty lake is written on every entry (catalogs of several lakes).
func WriteEntries(w io.Writer, connName, lake, schema string, entries []Entry) error {
	where := "the default schema"
	if schema != "" {
		where = "schema " + schema
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# wharf discover: %d table(s) in %s of connection %s\n", len(entries), where, connName)
	b.WriteString("workflows:\n")
	for _, e := range entries {
		switch {
		case e.LandedBy != "":
			fmt.Fprintf(&b, "  # %s: already landed by %s\n", oneLine(e.Table), e.LandedBy)
		case e.Problem != "":
			fmt.Fprintf(&b, "  # %s cannot land as is: %s\n", oneLine(e.Table), oneLine(e.Problem))
			fmt.Fprintf(&b, "  # - name: %s\n  #   connection: %s\n  #   table: %s\n", yamlString(e.Name), yamlString(connName), yamlString(e.Table))
		default:
			fmt.Fprintf(&b, "  - name: %s\n    connection: %s\n    table: %s\n", yamlString(e.Name), yamlString(connName), yamlString(e.Table))
			if lake != "" {
				fmt.Fprintf(&b, "    lake: %s\n", yamlString(lake))
			}
			if e.IngestionColumn != "" {
				fmt.Fprintf(&b, "    ingestion_column: %s  # %s\n", yamlString(e.IngestionColumn), e.Flag)
			}
			if e.Cursor != "" {
				fmt.Fprintf(&b, "    cursor: %s  # guessed\n", yamlString(e.Cursor))
			} else {
				b.WriteString("    cursor: \"\"  # no cursor column found: every run is a full load\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// GlueEntry is one workflow entry of a Glue workflow catalog, as wharf
// reads it (docs/catalog.md).
type GlueEntry struct {
	WorkflowName                   string
	SecretName                     string
	SourceTable                    string
	DestinationBucketName          string
	DeltaColumnName                *string `json:",omitempty"` // "" = full loads
	TransactionTimestampColumnName string  `json:",omitempty"`
	JobScheduleType                string
	WharfIngestionColumn           string `json:",omitempty"`
}

// WriteGlueEntries prints entries as a Glue workflow catalog
// ({"WorkflowList": [...]}) whose entries paste into one: the connection
// is the SecretName, lake the DestinationBucketName. JSON has no comments,
// so what the YAML form says in comments (tables already landed or that
// cannot land, renamed added columns) is returned as notes.
func WriteGlueEntries(w io.Writer, connName, lake string, entries []Entry) (notes []string, err error) {
	list := []GlueEntry{}
	for _, e := range entries {
		switch {
		case e.LandedBy != "":
			notes = append(notes, fmt.Sprintf("%s: already landed by %s", e.Table, e.LandedBy))
			continue
		case e.Problem != "":
			notes = append(notes, fmt.Sprintf("%s cannot land as is (left out): %s", oneLine(e.Table), oneLine(e.Problem)))
			continue
		}
		g := GlueEntry{WorkflowName: e.Name, SecretName: connName, SourceTable: e.Table, DestinationBucketName: lake,
			TransactionTimestampColumnName: e.Cursor, JobScheduleType: "OnDemand", WharfIngestionColumn: e.IngestionColumn}
		if e.Cursor == "" {
			none := ""
			g.DeltaColumnName = &none
			notes = append(notes, fmt.Sprintf("%s: no cursor column found: every run is a full load", e.Table))
		}
		if e.Flag != "" {
			notes = append(notes, fmt.Sprintf("%s: %s (WharfIngestionColumn)", e.Table, e.Flag))
		}
		list = append(list, g)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return notes, enc.Encode(map[string]any{"WorkflowList": list})
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// plainYAML matches strings that YAML reads back as the same plain string.
var plainYAML = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// yamlString renders s as a YAML scalar that reads back as the string s:
// plain when safe, else double-quoted (JSON escapes are YAML escapes).
func yamlString(s string) string {
	switch strings.ToLower(s) {
	case "y", "yes", "n", "no", "true", "false", "on", "off", "null":
		return `"` + s + `"`
	}
	if plainYAML.MatchString(s) {
		return s
	}
	if strings.Contains(s, `"`) && !strings.ContainsAny(s, "'\\") && !strings.ContainsFunc(s, unicode.IsControl) {
		return "'" + s + "'" // SQL-quoted table names read better single-quoted
	}
	q, _ := json.Marshal(s)
	return string(q)
}
