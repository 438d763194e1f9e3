package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/quickstart"
)

func (a *app) quickstartCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "quickstart [--dir DIR]",
		Short: "Create a sample HR database and catalog, and land every table as Parquet",
		Long: `quickstart creates DIR/source/hr.db (a small SQLite HR database), DIR/wharf.yaml (a catalog
with one workflow per table), and lands every table into DIR/lake as Parquet, with state in
DIR/.wharf/state.db. Run it again: it lands nothing new and says so.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			catPath, err := quickstart.Create(cmd.Context(), abs)
			if err != nil {
				return failed(fmt.Errorf("quickstart: %w", err))
			}
			cat, err := catalog.Load(catPath)
			if err != nil {
				return failed(fmt.Errorf("quickstart catalog: %w", err))
			}
			if !cmd.Flags().Changed("state") && a.stateURL == DefaultState {
				a.stateURL = "sqlite:" + filepath.Join(abs, ".wharf", "state.db")
			}
			fmt.Fprintf(a.stdout, "Sample database: %s\nCatalog:         %s\nState:           %s\n\n",
				filepath.Join(abs, "source", "hr.db"), catPath, a.stateURL)
			jobs, err := a.expand(cmd.Context(), cat)
			if err != nil {
				return err
			}
			results, err := a.land(cmd.Context(), jobs, 4, 0, false)
			if err != nil {
				return err
			}
			serr := summarize(a, results)
			fmt.Fprintf(a.stdout, "\nParquet files are under %s\n", filepath.Join(abs, "lake"))
			fmt.Fprintf(a.stdout, "Land again (only new and updated rows): %s run -c %s --state %s --all\n",
				selfCommand(), shellQuote(catPath), shellQuote(a.stateURL))
			return serr
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "wharf-quickstart", "directory for the sample database, catalog, lake and state")
	return cmd
}

// selfCommand is how the user can run this wharf again from a shell:
// "go run ./cmd/wharf" when it runs from go run's (or go test's) build
// cache, "wharf" when that name on PATH is this binary, else the binary's
// path.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "go run ./cmd/wharf"
	}
	if strings.Contains(filepath.ToSlash(exe), "/go-build") {
		return "go run ./cmd/wharf"
	}
	if onPath, err := exec.LookPath("wharf"); err == nil {
		a, errA := filepath.EvalSymlinks(onPath)
		b, errB := filepath.EvalSymlinks(exe)
		if errA == nil && errB == nil && a == b {
			return "wharf"
		}
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, exe); err == nil && !strings.HasPrefix(rel, "..") {
			return shellQuote("./" + rel)
		}
	}
	return shellQuote(exe)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
