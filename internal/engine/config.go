package engine

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/wharf-data/wharf/internal/state"
)

// Roles of a process.
const (
	RoleServe  = "serve"  // scheduler (River leader candidate) and workers
	RoleWorker = "worker" // workers only
	RoleClient = "client" // enqueue, cancel and wait only (wharf trigger, wharf cancel)
)

// Catch-up policies for schedule ticks missed while no scheduler ran.
const (
	CatchUpOne  = "one"  // one run per workflow for all the ticks it missed
	CatchUpNone = "none" // skip missed ticks; the next tick runs as usual
)

// Config configures an Engine. Zero fields take the defaults of
// WithDefaults; Validate names the flag of a bad value.
type Config struct {
	// Role is RoleServe, RoleWorker or RoleClient.
	Role string
	// Workers is how many runs this process lands at once (--workers).
	Workers int
	// PerConnection caps the streams (runs, chunks, a parallel run's
	// streams) on one connection at once across every process sharing the
	// state (--per-connection); 0 = no cap. A connection's own
	// max_parallel, if lower, is its cap (catalog.Connection.StreamCap).
	PerConnection int
	// RetryBackoff is the wait before the first retry; each further retry
	// waits twice as long, up to MaxBackoff (--retry-backoff).
	RetryBackoff, MaxBackoff time.Duration
	// RunTimeout ends a run that takes longer (--run-timeout).
	RunTimeout time.Duration
	// CatchUp is CatchUpOne or CatchUpNone (--catch-up).
	CatchUp string
	// SyncInterval is how often serve re-reads the deployed workflows to
	// add, change or remove schedules.
	SyncInterval time.Duration
	// Resolution is how often the scheduler's clock ticks: every schedule
	// fires on whole minutes, so a minute; a fire time between two ticks
	// runs at the next one.
	Resolution time.Duration
	// PollInterval is how often idle workers look for new jobs when the
	// database cannot notify them (SQLite), and River's fallback poll.
	PollInterval time.Duration
	// HeartbeatInterval is how often this process records that it is alive;
	// DeadAfter is how long a silent process is trusted: after that its
	// running runs are taken over.
	HeartbeatInterval, DeadAfter time.Duration
	// StopTimeout is how long a stopping process waits for running runs to
	// finish before it releases them to other processes.
	StopTimeout time.Duration
	// LeaseWait is how long a run that found its connection at the
	// --per-connection cap waits before trying again.
	LeaseWait time.Duration
	// Secrets is the provider for bare secret names (--secrets).
	Secrets string
	// Logger receives the engine's and River's logs.
	Logger *slog.Logger
	// AlertWebhook is a secret reference (env:VAR, file:PATH or a name)
	// to a Slack-compatible webhook URL for alerts (--alert-webhook);
	// "" = no alerts.
	AlertWebhook string
	// FreshnessInterval is how often the leader checks freshness SLAs
	// (--freshness-check).
	FreshnessInterval time.Duration
	// OnRunEnd, when set, is told of every run this process ended (the
	// console's metrics).
	OnRunEnd func(state.Run)
}

// Defaults.
const (
	DefaultWorkers           = 4
	DefaultRetryBackoff      = 30 * time.Second
	DefaultMaxBackoff        = time.Hour
	DefaultRunTimeout        = time.Hour
	DefaultSyncInterval      = 5 * time.Second
	DefaultResolution        = time.Minute
	DefaultPollInterval      = 150 * time.Millisecond
	DefaultHeartbeatInterval = state.DefaultHeartbeatInterval
	DefaultDeadAfter         = state.DefaultDeadAfter
	DefaultStopTimeout       = 30 * time.Second
	DefaultLeaseWait         = 2 * time.Second
	DefaultFreshnessInterval = time.Minute
)

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Role == "" {
		c.Role = RoleServe
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.CatchUp == "" {
		c.CatchUp = CatchUpOne
	}
	set(&c.RetryBackoff, DefaultRetryBackoff)
	set(&c.MaxBackoff, DefaultMaxBackoff)
	set(&c.RunTimeout, DefaultRunTimeout)
	set(&c.SyncInterval, DefaultSyncInterval)
	set(&c.Resolution, DefaultResolution)
	set(&c.PollInterval, DefaultPollInterval)
	set(&c.HeartbeatInterval, DefaultHeartbeatInterval)
	set(&c.DeadAfter, DefaultDeadAfter)
	set(&c.StopTimeout, DefaultStopTimeout)
	set(&c.LeaseWait, DefaultLeaseWait)
	set(&c.FreshnessInterval, DefaultFreshnessInterval)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks a defaulted Config; errors name the command-line flag.
func (c Config) Validate() error {
	switch c.Role {
	case RoleServe, RoleWorker, RoleClient:
	default:
		return fmt.Errorf("engine role %q: want %s, %s or %s", c.Role, RoleServe, RoleWorker, RoleClient)
	}
	switch {
	case c.Workers < 1 || c.Workers > 10_000:
		return fmt.Errorf("--workers %d: want 1 to 10000", c.Workers)
	case c.PerConnection < 0:
		return fmt.Errorf("--per-connection %d: want 0 (no cap) or more", c.PerConnection)
	case c.RetryBackoff < time.Second/10:
		return fmt.Errorf("--retry-backoff %s: want at least 100ms", c.RetryBackoff)
	case c.MaxBackoff < c.RetryBackoff:
		return fmt.Errorf("maximum backoff %s is below --retry-backoff %s", c.MaxBackoff, c.RetryBackoff)
	case c.RunTimeout < time.Second:
		return fmt.Errorf("--run-timeout %s: want at least 1s", c.RunTimeout)
	case c.CatchUp != CatchUpOne && c.CatchUp != CatchUpNone:
		return fmt.Errorf("--catch-up %q: want %s or %s", c.CatchUp, CatchUpOne, CatchUpNone)
	case c.Resolution < 10*time.Millisecond:
		return fmt.Errorf("scheduler resolution %s: want at least 10ms", c.Resolution)
	case c.PollInterval < time.Millisecond:
		return fmt.Errorf("--poll-interval %s: want at least 1ms", c.PollInterval)
	case c.DeadAfter < 2*c.HeartbeatInterval:
		return fmt.Errorf("dead-after %s must be at least twice the heartbeat interval %s", c.DeadAfter, c.HeartbeatInterval)
	case c.FreshnessInterval < time.Second:
		return fmt.Errorf("--freshness-check %s: want at least 1s", c.FreshnessInterval)
	case c.StopTimeout < 0:
		return fmt.Errorf("--stop-timeout %s: want 0 or more", c.StopTimeout)
	}
	return nil
}
