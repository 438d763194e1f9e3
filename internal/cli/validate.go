package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/catalog"
)

func (a *app) validateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate [-c FILE]",
		Short: "Check a catalog and print every error at once",
		Long: `validate reads a catalog (wharf's YAML/JSON or a Glue workflow catalog), applies
defaults and prints every error, each naming the file, line, column and field.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cat, err := a.loadCatalog()
			if err != nil {
				return err
			}
			a.catalogNotes(cat)
			patterns := ""
			if len(cat.Patterns) > 0 {
				patterns = fmt.Sprintf(" and %d table pattern(s) (expanded by plan and deploy)", len(cat.Patterns))
			}
			fmt.Fprintf(a.stdout, "%s: valid %s catalog: %d workflow(s)%s, %d connection(s), %d lake(s)\n",
				cat.Path, cat.Format, len(cat.Workflows), patterns, len(cat.Connections), len(cat.Lakes))
			return nil
		},
	}
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

// catalogNotes prints the catalog's notices (Glue fields wharf does not
// need, unused connections and lakes): remarks about the file, for the
// commands that check it.
func (a *app) catalogNotes(cat *catalog.Catalog) {
	for _, n := range cat.Notices {
		a.note("%s", n)
	}
}
