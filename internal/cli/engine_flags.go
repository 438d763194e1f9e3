package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/stateurl"
)

// engineFlags are the options of the commands that run the engine.
type engineFlags struct {
	cfg  engine.Config
	http httpFlags
}

// addWork adds the options of processes that run landings (serve, worker).
func (f *engineFlags) addWork(fs *pflag.FlagSet) {
	fs.IntVar(&f.cfg.Workers, "workers", engine.DefaultWorkers, "runs this process lands at once")
	fs.IntVar(&f.cfg.PerConnection, "per-connection", 0, "most streams reading from one connection at once, across every process on this state (0 = no cap; a connection's max_parallel, if lower, wins)")
	fs.DurationVar(&f.cfg.RetryBackoff, "retry-backoff", engine.DefaultRetryBackoff, "wait before the first retry; each next retry waits twice as long (up to 1h)")
	fs.DurationVar(&f.cfg.RunTimeout, "run-timeout", engine.DefaultRunTimeout, "a run taking longer is stopped and fails (then retried)")
	fs.DurationVar(&f.cfg.StopTimeout, "stop-timeout", engine.DefaultStopTimeout, "on SIGINT/SIGTERM, wait this long for running runs, then release them to other processes")
	fs.DurationVar(&f.cfg.PollInterval, "poll-interval", engine.DefaultPollInterval, "how often idle workers look for new runs when the state cannot notify them (SQLite)")
	fs.DurationVar(&f.cfg.HeartbeatInterval, "heartbeat", engine.DefaultHeartbeatInterval, "how often this process records that it is alive in the state")
	fs.DurationVar(&f.cfg.DeadAfter, "dead-after", engine.DefaultDeadAfter, "a process silent this long is dead: its running runs are taken over")
	f.addAttempts(fs)
	f.addAlerts(fs)
	f.http.add(fs, "")
}

// addAttempts adds the removed --attempts: a run's attempts are the deployed
// workflow's (catalog attempts), whichever process queues it, so no flag of
// one process may set them.
func (f *engineFlags) addAttempts(fs *pflag.FlagSet) {
	fs.Var(movedAttempts{}, "attempts", "")
	_ = fs.MarkHidden("attempts")
}

// movedAttempts is --attempts: any use fails, saying where it went.
type movedAttempts struct{}

func (movedAttempts) String() string { return "" }
func (movedAttempts) Type() string   { return "int" }
func (movedAttempts) Set(string) error {
	return fmt.Errorf("a run's attempts are set in the catalog (attempts, under defaults or a workflow; default %d) and apply once deployed, however the run is queued", catalog.DefaultAttempts)
}

// openEngine opens the state and an engine of role over it; close releases
// both. existing is openState's.
func (a *app) openEngine(ctx context.Context, f *engineFlags, role string, existing bool) (e *engine.Engine, st state.Store, closeAll func(), err error) {
	log, err := a.logger()
	if err != nil {
		return nil, nil, nil, &exitError{code: ExitUsage, err: err}
	}
	cfg := f.cfg
	// The flags carry the defaults, so a zero here was asked for: refuse it
	// rather than let WithDefaults replace it.
	if role != engine.RoleClient && cfg.Workers < 1 {
		return nil, nil, nil, &exitError{code: ExitUsage, err: fmt.Errorf("--workers %d: want 1 to 10000", cfg.Workers)}
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--retry-backoff", cfg.RetryBackoff}, {"--run-timeout", cfg.RunTimeout}, {"--poll-interval", cfg.PollInterval},
		{"--heartbeat", cfg.HeartbeatInterval}, {"--dead-after", cfg.DeadAfter}} {
		if role != engine.RoleClient && d.v <= 0 {
			return nil, nil, nil, &exitError{code: ExitUsage, err: fmt.Errorf("%s %s: want a positive duration", d.flag, d.v)}
		}
	}
	cfg.Role, cfg.Secrets, cfg.Logger = role, a.secrets, log
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, nil, nil, &exitError{code: ExitUsage, err: err}
	}
	st, err = a.openState(ctx, cfg.Workers+8, existing)
	if err != nil {
		return nil, nil, nil, err
	}
	e, err = engine.New(ctx, st, cfg)
	if err != nil {
		st.Close()
		return nil, nil, nil, failed(err)
	}
	return e, st, func() { e.Close(); st.Close() }, nil
}

// openState opens the state store of --state, with at least poolConns pooled
// connections on PostgreSQL (0: the default). Errors name the URL redacted.
// Commands that only use a state that exists (they read it, or act on what
// was deployed: status, runs, trigger, cancel, lake verify) pass existing:
// a SQLite state file that does not exist (a mistyped --state) is then a
// *noStateError rather than a new, empty file and directory.
func (a *app) openState(ctx context.Context, poolConns int, existing bool) (state.Store, error) {
	if existing && a.noSQLiteState() {
		return nil, failed(&noStateError{url: a.stateURL})
	}
	st, err := stateurl.OpenPool(ctx, a.stateURL, poolConns)
	if err != nil {
		return nil, failed(err) // the error names the URL, redacted
	}
	return st, nil
}

// noStateError is openState's error for a SQLite state that does not exist.
type noStateError struct{ url string }

func (e *noStateError) Error() string {
	return fmt.Sprintf("no state at %s: nothing was deployed or run with it yet (another state: --state or WHARF_STATE)", e.url)
}

// isNoState reports whether err is openState's for a state that does not
// exist, and notes so: the commands that show the state then show it empty.
func (a *app) isNoState(err error) bool {
	var ns *noStateError
	if !errors.As(err, &ns) {
		return false
	}
	a.note("%s", ns.Error())
	return true
}

// noSQLiteState reports whether the state is a SQLite file that does not
// exist.
func (a *app) noSQLiteState() bool {
	path, ok := stateurl.SQLitePath(a.stateURL)
	if !ok || path == "" {
		return false
	}
	_, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}
