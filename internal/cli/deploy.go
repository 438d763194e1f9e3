package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/deploy"
)

func (a *app) deployCommand() *cobra.Command {
	var prune, allowReset bool
	cmd := &cobra.Command{
		Use:   "deploy [-c FILE] [--state URL] [--prune] [--allow-reset]",
		Short: "Reconcile the deployed workflows with the catalog, in one state transaction",
		Long: `deploy applies exactly the plan that "wharf plan" prints, in one state transaction: all of it
or, on any error, nothing. An updated workflow keeps its id, watermark and run history. A workflow
removed from the catalog is disabled (no more scheduled runs, history kept); --prune deletes it with
its history. A changed cursor column or source table resets the watermark: such a deploy needs
--allow-reset. Deploying the same catalog twice changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cat, err := a.loadCatalog()
			if err != nil {
				return err
			}
			st, err := a.openState(cmd.Context(), 0, false)
			if err != nil {
				return err
			}
			defer st.Close()
			p, err := a.computePlan(cmd.Context(), st, cat, deploy.Options{Prune: prune})
			if err != nil {
				return err
			}
			printPlan(a.stdout, p, false)
			if err := deploy.Apply(cmd.Context(), st, p, allowReset); err != nil {
				return failed(err)
			}
			n := len(p.Create) + len(p.Update) + len(p.Disable) + len(p.Delete)
			fmt.Fprintf(a.stdout, "Deployed %d change(s): %d created, %d updated, %d unchanged, %d disabled, %d deleted.\n",
				n, len(p.Create), len(p.Update), len(p.Unchanged), len(p.Disable), len(p.Delete))
			return nil
		},
	}
	cmd.Flags().BoolVar(&prune, "prune", false, "delete workflows no longer in the catalog, with their runs, files and watermark")
	cmd.Flags().BoolVar(&allowReset, "allow-reset", false, "apply changes of cursor column or source table, which reset the watermark")
	return cmd
}
