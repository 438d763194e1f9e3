// Package cli is wharf's command line. Each command lives in its own file and
// writes to the injected stdout/stderr, so tests assert exact output.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFailed   = 1 // a workflow failed, or the catalog is invalid
	ExitUsage    = 2 // bad flags or arguments
	DefaultState = state.DefaultURL
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// failed wraps err so that the command exits with ExitFailed.
func failed(err error) error { return &exitError{code: ExitFailed, err: err} }

// app holds what every command shares: output streams and global options.
type app struct {
	stdout, stderr io.Writer
	isTTY          bool
	catalogPath    string
	stateURL       string
	secrets        string
	logLevel       string
	logFormat      string
	cpuProfile     string
	memProfile     string
	pprofAddr      string
	stopProfile    func()
}

// Main runs the CLI with args and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if s, ok := <-sigs; ok {
			cancel(&interrupted{sig: s.(syscall.Signal)})
		}
	}()
	return run(ctx, args, stdout, stderr, isTerminal(stderr))
}

// interrupted is the cause of the CLI's context when SIGINT or SIGTERM
// arrived: commands that were landing exit 128+signal (130, 143).
type interrupted struct{ sig syscall.Signal }

func (e *interrupted) Error() string { return "interrupted by " + e.sig.String() }

// interruptedExit returns the exit error for a command whose context a
// signal ended, or nil.
func interruptedExit(ctx context.Context) error {
	var in *interrupted
	if errors.As(context.Cause(ctx), &in) {
		return &exitError{code: 128 + int(in.sig), err: errors.New("")}
	}
	return nil
}

// termWidth is the width of the terminal on stderr (80 when unknown).
func termWidth() int {
	if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil && w > 0 {
		return w
	}
	return 80
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) int {
	rout, rerr := secret.NewRedactingWriter(stdout), secret.NewRedactingWriter(stderr)
	defer rout.Flush()
	defer rerr.Flush()
	a := &app{stdout: rout, stderr: rerr, isTTY: tty}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if a.stopProfile != nil {
		a.stopProfile()
	}
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			a.printError(ee.err)
		}
		return ee.code
	}
	a.printError(err)
	return ExitUsage
}

// printError prints err on stderr as "error: ...", one line each for
// errors joined with errors.Join (plan's errors, one per workflow).
func (a *app) printError(err error) {
	for _, e := range unjoin(err) {
		fmt.Fprintln(a.stderr, "error:", e)
	}
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "wharf",
		Short: "Land relational database tables into a data lake from one catalog file",
		Long: `wharf lands hundreds of relational database tables into a data lake as Parquet (or
Iceberg tables), from one catalog file (wharf's YAML/JSON, or an AWS Glue blueprint workflow catalog).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVarP(&a.catalogPath, "catalog", "c", os.Getenv("WHARF_CATALOG"), "catalog file (YAML or JSON) [$WHARF_CATALOG]")
	pf.StringVar(&a.stateURL, "state", envOr("WHARF_STATE", DefaultState), "state store: sqlite:PATH or postgres://... [$WHARF_STATE]")
	pf.StringVar(&a.secrets, "secrets", os.Getenv("WHARF_SECRETS"), "provider for bare secret names, e.g. file:DIR [$WHARF_SECRETS]")
	pf.StringVar(&a.logLevel, "log-level", "", "debug, info, warn or error (default info; warn on a terminal)")
	pf.StringVar(&a.logFormat, "log-format", "text", "text or json")
	pf.StringVar(&a.cpuProfile, "cpuprofile", "", "write a Go CPU profile to this file (for performance work)")
	_ = pf.MarkHidden("cpuprofile")
	pf.StringVar(&a.memProfile, "memprofile", "", "write a Go allocation profile to this file at exit (for performance work)")
	_ = pf.MarkHidden("memprofile")
	pf.StringVar(&a.pprofAddr, "pprof", "", "serve Go's live profiles (net/http/pprof) on this loopback address, e.g. 127.0.0.1:6060 (for performance work)")
	_ = pf.MarkHidden("pprof")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		// Whatever prints the state URL later, in whatever form, its
		// password goes through the redactor in front of every output.
		secret.RegisterURL(a.stateURL)
		return a.startProfile()
	}
	root.AddCommand(a.validateCommand(), a.runCommand(), a.quickstartCommand(), a.versionCommand())
	root.AddCommand(a.serveCommand(), a.workerCommand(), a.triggerCommand(), a.cancelCommand(), a.runsCommand(), a.statusCommand(), a.consoleCommand())
	root.AddCommand(a.lakeCommand(), a.healthcheckCommand())
	root.AddCommand(a.planCommand(), a.deployCommand(), a.discoverCommand())
	return root
}

// startProfile starts the hidden --cpuprofile CPU profile, the
// --memprofile allocation profile (written when the command ends) and the
// --pprof listener (live profiles of a long-running serve or worker).
func (a *app) startProfile() error {
	var stops []func()
	a.stopProfile = func() {
		for _, stop := range stops {
			stop()
		}
	}
	if a.pprofAddr != "" {
		if runtime.MemProfileRate == 0 { // cmd/wharf turns sampling off
			runtime.MemProfileRate = 512 << 10 // Go's default
		}
		stop, _, err := servePprof(a.pprofAddr)
		if err != nil {
			return &exitError{code: ExitUsage, err: fmt.Errorf("--pprof: %w", err)}
		}
		stops = append(stops, stop)
	}
	if a.memProfile != "" {
		f, err := os.Create(a.memProfile)
		if err != nil {
			return &exitError{code: ExitUsage, err: fmt.Errorf("--memprofile: %w", err)}
		}
		// One sample per 64 KiB allocated (the default is 512 KiB).
		runtime.MemProfileRate = 64 << 10
		stops = append(stops, func() {
			runtime.GC() // the in-use figures are those of the last collection
			if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
				fmt.Fprintf(a.stderr, "--memprofile: %v\n", err)
			}
			f.Close()
		})
	}
	if a.cpuProfile == "" {
		return nil
	}
	f, err := os.Create(a.cpuProfile)
	if err != nil {
		return &exitError{code: ExitUsage, err: fmt.Errorf("--cpuprofile: %w", err)}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return &exitError{code: ExitUsage, err: fmt.Errorf("--cpuprofile: %w", err)}
	}
	stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	return nil
}

// servePprof serves net/http/pprof's handlers (not its /cmdline: the
// command line may hold a state URL's password) on addr, which must be a
// loopback address: profiles are for whoever runs the process.
// It returns the address it listens on.
func servePprof(addr string) (stop func(), at string, err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, "", err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, "", fmt.Errorf("%s is not a loopback address (use 127.0.0.1:PORT)", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return func() { _ = srv.Close() }, l.Addr().String(), nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// note prints a remark for the user ("note: ...") to stderr, never to
// stdout where summaries and JSON go. Notes are information: an explicit
// --log-level warn or error silences them (the warn default on a terminal
// does not, since that default only quiets progress logs).
func (a *app) note(format string, args ...any) {
	switch strings.ToLower(a.logLevel) {
	case "warn", "warning", "error":
		return
	}
	fmt.Fprintf(a.stderr, "note: "+format+"\n", args...)
}

// logger builds the process logger; it writes to stderr through the redactor.
func (a *app) logger() (*slog.Logger, error) {
	level := slog.LevelInfo
	if a.isTTY {
		level = slog.LevelWarn
	}
	switch strings.ToLower(a.logLevel) {
	case "":
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", a.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	var l *slog.Logger
	switch a.logFormat {
	case "text":
		l = slog.New(slog.NewTextHandler(a.stderr, opts))
	case "json":
		l = slog.New(slog.NewJSONHandler(a.stderr, opts))
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", a.logFormat)
	}
	// Libraries that print through the standard log package (the S3
	// transfer manager on a failed upload, the MySQL driver on a broken
	// connection) repeat what the error wharf reports says: debug level.
	log.SetFlags(0)
	log.SetOutput(libraryLog{l})
	return l, nil
}

// libraryLog turns standard-log lines into debug records.
type libraryLog struct{ l *slog.Logger }

func (w libraryLog) Write(p []byte) (int, error) {
	w.l.Debug("library", "msg", strings.TrimSpace(string(p)))
	return len(p), nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
