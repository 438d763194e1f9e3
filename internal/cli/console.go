package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/metrics"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/server"
	"github.com/wharf-data/wharf/internal/state"
)

// httpFlags are the options of the operator's console (serve, worker,
// console).
type httpFlags struct {
	addr, token, readToken string
	metricsPublic          bool
	metrics                *metrics.Metrics
}

func (h *httpFlags) add(fs *pflag.FlagSet, defAddr string) {
	fs.StringVar(&h.addr, "http", defAddr, "serve the console (web UI, /api/v1, /metrics, /healthz) on HOST:PORT")
	fs.StringVar(&h.token, "http-token", "", "secret reference (env:VAR, file:PATH or a name) of the admin token: may trigger and cancel")
	fs.StringVar(&h.readToken, "http-read-token", "", "secret reference (env:VAR, file:PATH or a name) of the read-only token: may only read")
	fs.BoolVar(&h.metricsPublic, "metrics-public", false, "serve /metrics without a token")
}

// addAlerts adds --alert-webhook to f.
func (f *engineFlags) addAlerts(fs *pflag.FlagSet) {
	fs.StringVar(&f.cfg.AlertWebhook, "alert-webhook", "", "secret reference (env:VAR, file:PATH or a name) of a Slack-compatible webhook URL: alerts on failed runs, freshness_sla breaches and schema changes of workflows deployed without a catalog alerts section")
}

// token reads a token secret; "" when ref is "".
func (a *app) token(ctx context.Context, flag, ref string) (secret.Secret, error) {
	if ref == "" {
		return "", nil
	}
	v, err := secret.Lookup(ctx, ref, a.secrets)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	tok := secret.Secret(strings.TrimSpace(v.Reveal()))
	if tok == "" {
		return "", fmt.Errorf("%s %s: the secret is empty", flag, ref)
	}
	secret.Register(tok.Reveal())
	return tok, nil
}

// check refuses console options that cannot work, before anything starts.
func (h *httpFlags) check() error {
	if h.addr == "" {
		if h.token != "" || h.readToken != "" || h.metricsPublic {
			return errors.New("--http-token, --http-read-token and --metrics-public need --http HOST:PORT")
		}
		return nil
	}
	return server.CheckAddr(h.addr, h.token != "" || h.readToken != "")
}

// startConsole listens on --http and serves the console over st and e
// until ctx is done; wait returns Serve's error.
func (a *app) startConsole(ctx context.Context, h *httpFlags, st state.Store, e *engine.Engine, log *slog.Logger) (wait func() error, err error) {
	admin, err := a.token(ctx, "--http-token", h.token)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	read, err := a.token(ctx, "--http-read-token", h.readToken)
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	if h.metrics == nil {
		h.metrics = metrics.New(st, e.JobCounts, log)
	}
	river, err := e.RiverUI(ctx, "/river", log)
	if err != nil {
		return nil, failed(fmt.Errorf("river UI: %w", err))
	}
	srv, err := server.New(server.Config{Store: st, Ops: e, AdminToken: admin, ReadToken: read,
		MetricsPublic: h.metricsPublic, Metrics: h.metrics.Registry, River: river, Logger: log})
	if err != nil {
		return nil, &exitError{code: ExitUsage, err: err}
	}
	ln, err := net.Listen("tcp", h.addr)
	if err != nil {
		return nil, failed(fmt.Errorf("--http %s: %w", h.addr, err))
	}
	fmt.Fprintf(a.stderr, "wharf console on http://%s/\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	return func() error {
		err := <-done
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}, nil
}

func (a *app) consoleCommand() *cobra.Command {
	var h httpFlags
	cmd := &cobra.Command{
		Use:   "console [--state URL] [--http HOST:PORT]",
		Short: "Serve the operator's console (web UI, API, metrics) without running workers",
		Long: `console serves the web UI, the JSON API (/api/v1, see docs/api.md), Prometheus metrics
(/metrics) and River's job UI (/river/) over the state store, for a machine that only watches
a fleet: it lands nothing, and queues or cancels runs through the state store like wharf trigger
and wharf cancel (the serve/worker processes run them).

Without --http-token it serves only on a loopback address.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := h.check(); err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
			log, err := a.logger()
			if err != nil {
				return &exitError{code: ExitUsage, err: err}
			}
			var f engineFlags
			e, st, closeAll, err := a.openEngine(ctx, &f, engine.RoleClient, false)
			if err != nil {
				return err
			}
			defer closeAll()
			wait, err := a.startConsole(ctx, &h, st, e, log)
			if err != nil {
				return err
			}
			if err := wait(); err != nil {
				return failed(err)
			}
			return nil
		},
	}
	h.add(cmd.Flags(), "127.0.0.1:8080")
	return cmd
}
