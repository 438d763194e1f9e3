package sourcepostgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/pgconnect"
	"github.com/wharf-data/wharf/internal/source"
)

// DefaultNumericScale is the scale given to unconstrained numeric columns
// unless Options.NumericScale says otherwise.
const DefaultNumericScale = 9

// MaxPrecision is the largest decimal precision wharf lands (Arrow decimal128).
const MaxPrecision = 38

// Options tune a Source. Start from DefaultOptions and change what you need.
type Options struct {
	// NumericScale is the scale of the Decimal(38, NumericScale) that an
	// unconstrained numeric column lands as (0..38). Values that do not fit it
	// exactly fail the run.
	NumericScale int
	// Allocator allocates the Arrow buffers (nil = source.Buffers).
	Allocator memory.Allocator
	// StatementTimeout is the session's statement_timeout: the server ends
	// any one statement that runs longer (0: the DSN's or the server's).
	StatementTimeout time.Duration
}

// DefaultOptions returns the options Open uses.
func DefaultOptions() Options {
	return Options{NumericScale: DefaultNumericScale}
}

func (o Options) validate() error {
	if o.NumericScale < 0 || o.NumericScale > MaxPrecision {
		return fmt.Errorf("postgres source option numeric_scale: %d is outside 0..%d", o.NumericScale, MaxPrecision)
	}
	return nil
}

// Source is one connection to a PostgreSQL database. Its methods may be
// called from several goroutines; they run one at a time, and a plan
// (PlanChunks) or a chunk reader that reads on the source's connection
// (OpenChunks) holds it until closed. A connection broken by a cancelled
// or failed extract is replaced on the next call.
type Source struct {
	mu       sync.Mutex
	config   *pgx.ConnConfig
	conn     *pgx.Conn
	opts     Options
	mem      memory.Allocator
	database string
	red      redactor

	// pipelined decodes in a goroutine of its own while the caller's
	// goroutine runs the sink. Tests and benchmarks switch it off to compare.
	pipelined bool
}

var _ source.Source = (*Source)(nil)

// Open connects with DefaultOptions. dsn is a postgres:// URL or a
// keyword/value connection string whose secrets the caller has resolved.
// Errors never contain the password.
func Open(ctx context.Context, dsn string) (*Source, error) {
	return OpenWithOptions(ctx, dsn, DefaultOptions())
}

// DefaultConnectTimeout bounds connecting (dial, TLS, authentication) when
// the DSN sets no connect_timeout: a server that accepts and never answers
// must not hang a run.
const DefaultConnectTimeout = 30 * time.Second

// OpenWithOptions connects with the given options, used as they are.
func OpenWithOptions(ctx context.Context, dsn string, opts Options) (*Source, error) {
	red := newRedactor(dsn)
	if err := opts.validate(); err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, red.wrap(fmt.Errorf("postgres source: invalid connection string: %w", err))
	}
	red.add(cfg.Password)
	if cfg.ConnectTimeout == 0 { // no connect_timeout in the DSN
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	// Literals rendered for COPY bounds rely on standard quoting rules.
	cfg.RuntimeParams["standard_conforming_strings"] = "on"
	if !hasParam(cfg.RuntimeParams, "timezone") {
		cfg.RuntimeParams["TimeZone"] = "UTC"
	}
	// Types landed as strings go through PostgreSQL's text output, which
	// these settings shape: pin them to PostgreSQL's defaults so the lake
	// does not depend on a role's or database's settings.
	for name, value := range textOutputParams {
		if !hasParam(cfg.RuntimeParams, name) {
			cfg.RuntimeParams[name] = value
		}
	}
	if opts.StatementTimeout > 0 {
		for k := range cfg.RuntimeParams {
			if strings.EqualFold(k, "statement_timeout") {
				delete(cfg.RuntimeParams, k)
			}
		}
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	}
	if !hasParam(cfg.RuntimeParams, "application_name") {
		cfg.RuntimeParams["application_name"] = "wharf"
	}
	cfg.DialFunc = lowatDial(cfg.DialFunc)
	s := &Source{config: cfg, opts: opts, mem: opts.Allocator, red: red, pipelined: true}
	if s.mem == nil {
		s.mem = source.Buffers
	}
	conn, err := s.connection(ctx)
	if err != nil {
		return nil, err
	}
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&s.database); err != nil {
		conn.Close(context.Background())
		return nil, red.wrap(fmt.Errorf("postgres source %s: read current database: %w", s.where(), err))
	}
	return s, nil
}

// textOutputParams are the session settings of the text forms wharf lands
// (PostgreSQL's defaults; a connection string may set others).
var textOutputParams = map[string]string{
	"DateStyle":          "ISO, MDY",
	"IntervalStyle":      "postgres",
	"extra_float_digits": "1",
	"bytea_output":       "hex",
}

func hasParam(params map[string]string, name string) bool {
	for k := range params {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// where names the server for messages: user, host and database, never the password.
func (s *Source) where() string {
	return fmt.Sprintf("user=%s host=%s database=%s", s.config.User, s.config.Host, s.config.Database)
}

// connection returns the open connection, reconnecting when a previous
// cancellation or protocol error closed it.
func (s *Source) connection(ctx context.Context) (*pgx.Conn, error) {
	if s.conn != nil && !s.conn.IsClosed() {
		return s.conn, nil
	}
	conn, err := s.dial(ctx)
	if err != nil {
		return nil, s.red.wrap(err)
	}
	s.conn = conn
	return conn, nil
}

// dial opens a new connection to the source's database.
func (s *Source) dial(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.config
	if cfg == nil {
		return nil, errors.New("postgres source is closed")
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres source: connect (%s): %w", s.where(), pgconnect.Explain(err))
	}
	return conn, nil
}

// Database is the name of the connected database.
func (s *Source) Database() string { return s.database }

// Close closes the connection. Further calls fail.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.config = nil
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close(context.Background())
	s.conn = nil
	return s.red.wrap(err)
}
