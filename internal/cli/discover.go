package cli

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/deploy"
)

func (a *app) discoverCommand() *cobra.Command {
	var connName, schema, format string
	cmd := &cobra.Command{
		Use:   "discover --connection NAME [--schema S] [--format glue|wharf] [-c FILE]",
		Short: "Print catalog entries for the tables of an existing database",
		Long: `discover lists the tables of a schema (default: the source's default schema) on one of the
catalog's connections and prints a workflow entry for each, in the catalog's own format (--format:
wharf YAML, or Glue JSON {"WorkflowList": [...]}) to paste into it. The cursor column is guessed from
common names (updated_at, modified_at, last_modified, ...; timestamp and integer columns only) and
marked "# guessed"; tables without one get full loads. Tables the catalog already lands, and tables
that cannot land (a column type wharf cannot land, a name the catalog cannot hold), are comments in
YAML and notes on stderr with Glue. A table that already has a column named ingestion_timestamp (the
column wharf adds) gets ingestion_column (Glue: WharfIngestionColumn) set to another name.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if connName == "" {
				return &exitError{code: ExitUsage, err: errors.New("--connection NAME is required")}
			}
			cat, err := a.loadCatalog()
			if err != nil {
				return err
			}
			switch format {
			case "":
				format = string(cat.Format)
			case string(catalog.FormatWharf), string(catalog.FormatGlue):
			default:
				return &exitError{code: ExitUsage, err: fmt.Errorf("--format %q: want glue or wharf", format)}
			}
			ctx := cmd.Context()
			l := &sourceLister{secrets: a.secrets}
			defer l.close()
			conn := cat.Connections[connName]
			var src deploy.DiscoverSource
			if conn != nil {
				s, err := l.source(ctx, conn)
				if err != nil {
					return failed(err)
				}
				ds, ok := s.(deploy.DiscoverSource)
				if !ok {
					return failed(errors.New("connection " + connName + ": this engine cannot list its tables (discover needs postgres, mysql or sqlite)"))
				}
				src = ds
			}
			entries, err := deploy.Discover(ctx, cat, connName, schema, src)
			if err != nil {
				return failed(err)
			}
			if len(entries) == 0 && schema == "" {
				a.note("no tables in the default schema of connection %s: name another with --schema", connName)
			}
			if format == string(catalog.FormatGlue) {
				notes, err := deploy.WriteGlueEntries(a.stdout, connName, discoverLake(cat, connName), entries)
				for _, n := range notes {
					a.note("%s", n)
				}
				return err
			}
			lake := "" // the only lake, or defaults.lake, applies
			if len(cat.Lakes) > 1 {
				lake = discoverLake(cat, connName)
			}
			return deploy.WriteEntries(a.stdout, connName, lake, schema, entries)
		},
	}
	cmd.Flags().StringVar(&connName, "connection", "", "the catalog connection to read (required)")
	cmd.Flags().StringVar(&schema, "schema", "", "schema to list (default: the source's default schema)")
	cmd.Flags().StringVar(&format, "format", "", "glue or wharf (default: the format of the catalog)")
	return cmd
}

// discoverLake is the lake of discovered entries (a Glue entry's
// DestinationBucketName): the lake of the connection's first workflow (or
// pattern), else of the catalog's first workflow, else the first lake by
// name.
func discoverLake(cat *catalog.Catalog, connName string) string {
	var all []*catalog.Workflow
	all = append(all, cat.Workflows...)
	for _, p := range cat.Patterns {
		all = append(all, &p.Workflow)
	}
	for _, w := range all {
		if w.Connection == connName {
			return w.Lake
		}
	}
	if len(all) > 0 {
		return all[0].Lake
	}
	names := make([]string, 0, len(cat.Lakes))
	for n := range cat.Lakes {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) > 0 {
		return names[0]
	}
	return ""
}
