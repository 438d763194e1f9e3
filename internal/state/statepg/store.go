// Package statepg is the state store on PostgreSQL, for several wharf
// processes on several machines sharing the work. It uses a pgx connection
// pool; its tables live in the connection's current schema (the first
// existing entry of search_path), so one database can hold several
// isolated stores.
package statepg

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wharf-data/wharf/internal/pgconnect"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/migration"
)

// Store is the PostgreSQL state store: state.SQLStore over this
// package's driver, plus the pool for River.
type Store struct {
	*state.SQLStore
	pool *pgxpool.Pool
}

// Open connects to the PostgreSQL database at url (postgres:// or
// postgresql://) and applies pending migrations. Errors name the URL with
// its password redacted. opts may set the store's clock.
func Open(ctx context.Context, url string, opts ...state.Option) (*Store, error) {
	return OpenPool(ctx, url, 0, opts...)
}

// OpenPool is Open with at least conns pooled connections (0: pgx's
// default) when url does not set pool_max_conns. The size is set on the
// pool, not written into the URL, so that errors name the URL as given.
func OpenPool(ctx context.Context, url string, conns int, opts ...state.Option) (*Store, error) {
	pool, err := connect(ctx, url, false, conns)
	if err != nil {
		return nil, err
	}
	s, err := newStore(pool, opts)
	if err == nil {
		var all []migration.Migration
		if all, err = Migrations(); err == nil {
			err = s.Migrate(ctx, all)
		}
	}
	if err != nil {
		pool.Close()
		msg := secret.ScrubURL(err.Error(), url) + schemaHint(url, err)
		return nil, &openError{url: secret.RedactURL(url), msg: msg, err: err}
	}
	return s, nil
}

// schemaHint says what to do when err is PostgreSQL refusing to create
// wharf's tables: the role may not create in the schema (42501), or the
// URL's search_path names no schema that exists (3F000); else "".
func schemaHint(url string, err error) string {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || (pe.Code != "42501" && pe.Code != "3F000") {
		return ""
	}
	schema, named := "public", false
	if u, perr := neturl.Parse(url); perr == nil {
		if sp := u.Query().Get("search_path"); sp != "" {
			schema, _, _ = strings.Cut(sp, ",")
			schema, named = strings.TrimSpace(schema), true
		}
	}
	if pe.Code == "3F000" && named {
		return fmt.Sprintf("; the state URL's search_path names schema %s, which does not exist: create it for the role "+
			"(CREATE SCHEMA %s AUTHORIZATION the role) (docs/state.md)", schema, schema)
	}
	return fmt.Sprintf("; wharf creates and migrates its own tables: the state URL's role needs CREATE on schema %s "+
		"(GRANT CREATE ON SCHEMA %s TO the role), or name a schema the role owns with search_path=SCHEMA in the URL (docs/state.md)", schema, schema)
}

func newStore(pool *pgxpool.Pool, opts []state.Option) (*Store, error) {
	ss, err := state.NewSQLStore(driver{pool}, opts...)
	if err != nil {
		return nil, err
	}
	return &Store{SQLStore: ss, pool: pool}, nil
}

// OpenReadOnly connects to the PostgreSQL state at url to read it: its
// sessions are read-only and nothing is migrated. The error wraps
// ErrNoState when the schema has no wharf tables.
func OpenReadOnly(ctx context.Context, url string, opts ...state.Option) (*Store, error) {
	pool, err := connect(ctx, url, true, 0)
	if err != nil {
		return nil, err
	}
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('wharf_workflows') IS NOT NULL`).Scan(&exists); err != nil {
		pool.Close()
		return nil, &openError{url: secret.RedactURL(url), msg: secret.ScrubURL(err.Error(), url), err: err}
	}
	if !exists {
		pool.Close()
		return nil, &openError{url: secret.RedactURL(url), msg: state.ErrNoState.Error(), err: state.ErrNoState}
	}
	s, err := newStore(pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// connect opens a pool on url and checks that it answers; readOnly makes
// every session read-only; conns > 0 asks for at least that many pooled
// connections unless the URL sets pool_max_conns. Errors name the redacted
// URL.
func connect(ctx context.Context, url string, readOnly bool, conns int) (*pgxpool.Pool, error) {
	red := secret.RedactURL(url)
	u, err := neturl.Parse(url)
	if err != nil {
		// Where a malformed URL's password ends is guesswork, and both
		// net/url's and pgx's messages quote parts of it: say nothing more.
		return nil, &openError{url: red, msg: "malformed URL (check the host and port; percent-encode / @ : ? # in the user name and password)", err: errMalformedURL}
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, &openError{url: red, msg: secret.ScrubURL(err.Error(), url), err: err}
	}
	if readOnly {
		cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	}
	if conns > 0 && !u.Query().Has("pool_max_conns") {
		cfg.MaxConns = int32(max(conns, 10))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 { // no connect_timeout in the URL
		cfg.ConnConfig.ConnectTimeout = 30 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, &openError{url: red, msg: secret.ScrubURL(err.Error(), url), err: err}
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		err = pgconnect.Explain(err)
		return nil, &openError{url: red, msg: secret.ScrubURL("connect: "+err.Error(), url), err: err}
	}
	return pool, nil
}

var errMalformedURL = errors.New("malformed URL")

// openError names the redacted URL and carries a message scrubbed of the
// password; Unwrap keeps errors.Is and errors.As working.
type openError struct {
	url, msg string
	err      error
}

func (e *openError) Error() string { return "open state " + e.url + ": " + e.msg }
func (e *openError) Unwrap() error { return e.err }

// Pool returns the connection pool, for packages that keep their own tables
// in the same database (stateurl.StoreDB).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
