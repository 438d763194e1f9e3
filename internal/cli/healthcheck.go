package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state/stateurl"
	"github.com/wharf-data/wharf/internal/status"
)

func (a *app) healthcheckCommand() *cobra.Command {
	var role string
	cmd := &cobra.Command{
		Use:   "healthcheck [--state URL] [--role serve|worker|any]",
		Short: "Exit 0 when a wharf serve or worker on this host is alive in the state store (for health checks)",
		Long: `healthcheck is for container and service health and readiness checks. It exits 0 when the
state store is reachable and a wharf process of the role on this host (same host name: the same
container) is alive there (not stopped, heartbeat younger than its own --dead-after), else 1
with the reason on stderr. A serve or worker writes its first heartbeat once it has started, so
the check passes only when the process is ready to take work.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch role {
			case engine.RoleServe, engine.RoleWorker, "any":
			default:
				return &exitError{code: ExitUsage, err: fmt.Errorf("--role %q: want serve, worker or any", role)}
			}
			ctx := cmd.Context()
			st, err := stateurl.Open(ctx, a.stateURL)
			if err != nil {
				return failed(err) // the error names the URL, redacted
			}
			defer st.Close()
			host, err := os.Hostname()
			if err != nil {
				return failed(fmt.Errorf("host name: %w", err))
			}
			now := st.Now()
			ws, err := status.Workers(ctx, st, now)
			if err != nil {
				return failed(err)
			}
			for _, w := range ws {
				if w.Alive && w.Host == host && (role == "any" || w.Role == role) {
					fmt.Fprintf(a.stdout, "ok: wharf %s %s is alive\n", w.Role, w.ID)
					return nil
				}
			}
			what := "wharf serve or worker"
			if role != "any" {
				what = "wharf " + role
			}
			return failed(errors.New("no live " + what + " on " + host + " in state " + secret.RedactURL(a.stateURL)))
		},
	}
	cmd.Flags().StringVar(&role, "role", "any", "the process to look for: serve, worker or any")
	return cmd
}
