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
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state/staterun"
)

// Store is the PostgreSQL state store. It implements state.Store.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to the PostgreSQL database at url (postgres:// or
// postgresql://) and applies pending migrations. Errors name the URL with
// its password redacted.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := connect(ctx, url, false)
	if err != nil {
		return nil, err
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, &openError{url: secret.RedactURL(url), msg: secret.ScrubURL(err.Error(), url), err: err}
	}
	return s, nil
}

// OpenReadOnly connects to the PostgreSQL state at url to read it: its
// sessions are read-only and nothing is migrated. The error wraps
// ErrNoState when the schema has no wharf tables.
func OpenReadOnly(ctx context.Context, url string) (*Store, error) {
	pool, err := connect(ctx, url, true)
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
		return nil, &openError{url: secret.RedactURL(url), msg: staterun.ErrNoState.Error(), err: staterun.ErrNoState}
	}
	return &Store{pool: pool}, nil
}

// connect opens a pool on url and checks that it answers; readOnly makes
// every session read-only. Errors name the redacted URL.
func connect(ctx context.Context, url string, readOnly bool) (*pgxpool.Pool, error) {
	red := secret.RedactURL(url)
	if _, err := neturl.Parse(url); err != nil {
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
	if cfg.ConnConfig.ConnectTimeout == 0 { // no connect_timeout in the URL
		cfg.ConnConfig.ConnectTimeout = 30 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, &openError{url: red, msg: secret.ScrubURL(err.Error(), url), err: err}
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
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
// in the same database (River's riverpgxv5 driver).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// inTx runs fn in one transaction, committing when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// nowUTC is the current time at the precision the store keeps.
func nowUTC() time.Time { return staterun.Time(time.Now()) }

// nullTime encodes the zero time as NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// utc decodes a stored time; NULL is the zero time.
func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
