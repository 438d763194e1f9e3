package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/deploy"
)

func (a *app) discoverCommand() *cobra.Command {
	var connName, schema string
	cmd := &cobra.Command{
		Use:   "discover --connection NAME [--schema S] [-c FILE]",
		Short: "Print catalog entries for the tables of an existing database",
		Long: `discover lists the tables of a schema (default: the source's default schema) on one of the
catalog's connections and prints a workflow entry for each, as YAML to paste into the catalog. The
cursor column is guessed from common names (updated_at, modified_at, last_modified, ...; timestamp and
integer columns only) and marked "# guessed"; tables without one get cursor "" (full loads). Tables
the catalog already lands, and tables with a column type wharf cannot land, are printed as comments.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if connName == "" {
				return &exitError{code: ExitUsage, err: errors.New("--connection NAME is required")}
			}
			cat, err := a.loadCatalog()
			if err != nil {
				return err
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
			return deploy.WriteEntries(a.stdout, connName, schema, entries)
		},
	}
	cmd.Flags().StringVar(&connName, "connection", "", "the catalog connection to read (required)")
	cmd.Flags().StringVar(&schema, "schema", "", "schema to list (default: the source's default schema)")
	return cmd
}
