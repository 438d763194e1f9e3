// Package stateurl opens a state store from its URL. It sits above package
// state and its backends (statesqlite, statepg), which never import it: a
// backend is a package of its own that state does not know.
package stateurl

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/statepg"
	"github.com/wharf-data/wharf/internal/state/statesqlite"
)

// Open opens the state store at url and brings its schema up to date:
//
//	sqlite:PATH, sqlite://PATH        SQLite file (parent directory created)
//	postgres://..., postgresql://...  PostgreSQL; tables in the current schema
//
// Errors name the URL with any password redacted.
func Open(ctx context.Context, url string, opts ...state.Option) (state.Store, error) {
	return OpenPool(ctx, url, 0, opts...)
}

// OpenPool is Open with at least conns pooled connections on PostgreSQL
// (0: the default) when the URL does not set pool_max_conns; River keeps
// one for LISTEN, and every worker needs one now and then.
func OpenPool(ctx context.Context, url string, conns int, opts ...state.Option) (state.Store, error) {
	switch {
	case url == "":
		return nil, fmt.Errorf("open state: empty URL (want sqlite:PATH or postgres://...)")
	case strings.HasPrefix(url, "sqlite:"):
		path, _ := SQLitePath(url)
		if path == "" {
			return nil, fmt.Errorf("open state %s: no file path after sqlite: (e.g. %s)", url, state.DefaultURL)
		}
		s, err := statesqlite.Open(ctx, path, opts...)
		if err != nil {
			return nil, err
		}
		return s, nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		s, err := statepg.OpenPool(ctx, url, conns, opts...)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("open state %s: unsupported URL (want sqlite:PATH, sqlite://PATH, postgres:// or postgresql://)",
		secret.RedactURL(url))
}

// SQLitePath is the file path of a sqlite:PATH or sqlite://PATH state URL
// ("" when none follows), and whether url is one.
func SQLitePath(url string) (path string, ok bool) {
	path, ok = strings.CutPrefix(url, "sqlite:")
	return strings.TrimPrefix(path, "//"), ok
}

// OpenReadOnly opens the state store at url (as Open) to read what is
// deployed, creating, migrating and writing nothing: a SQLite file that
// does not exist, or a database without wharf's tables, has nothing
// deployed.
func OpenReadOnly(ctx context.Context, url string) (state.Deployments, error) {
	var (
		d   state.Deployments
		err error
	)
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		path, _ := SQLitePath(url)
		if path == "" {
			return nil, fmt.Errorf("open state %s: no file path after sqlite: (e.g. %s)", url, state.DefaultURL)
		}
		var s *statesqlite.Store
		if s, err = statesqlite.OpenReadOnly(ctx, path); err == nil {
			d = s
		}
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		var s *statepg.Store
		if s, err = statepg.OpenReadOnly(ctx, url); err == nil {
			d = s
		}
	default:
		return Open(ctx, url) // the same errors
	}
	if errors.Is(err, state.ErrNoState) {
		return nothingDeployed{}, nil
	}
	return d, err
}

type nothingDeployed struct{}

func (nothingDeployed) DeployedWorkflows(context.Context) ([]state.Deployed, error) { return nil, nil }
func (nothingDeployed) Close() error                                                { return nil }

// SQLDB is a database/sql handle on a state store's database, for packages
// that keep tables of their own beside wharf's (the Iceberg SQL catalog),
// with its dialect ("sqlite" or "postgres"). The caller closes it with
// Close, which leaves the store open.
type SQLDB struct {
	DB      *sql.DB
	Dialect string
	owned   bool
}

// Close releases the handle (not the store's own).
func (d *SQLDB) Close() error {
	if d.owned {
		return d.DB.Close()
	}
	return nil
}

// StoreDB returns a handle on the database of st, an open state store.
func StoreDB(st state.Store) (*SQLDB, error) {
	switch s := st.(type) {
	case *statesqlite.Store:
		return &SQLDB{DB: s.DB(), Dialect: "sqlite"}, nil
	case *statepg.Store:
		return &SQLDB{DB: stdlib.OpenDBFromPool(s.Pool()), Dialect: "postgres", owned: true}, nil
	}
	return nil, fmt.Errorf("state store %T has no SQL database", st)
}

// OpenDB opens a database named as a state URL (sqlite:PATH or
// postgres://...) without wharf's tables: for tables of other packages
// kept in a database of their own.
func OpenDB(url string) (*SQLDB, error) {
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		path, _ := SQLitePath(url)
		abs, err := filepath.Abs(path)
		if path == "" || err != nil {
			return nil, fmt.Errorf("open %s: no file path after sqlite:", url)
		}
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return nil, fmt.Errorf("open %s: create directory: %w", url, err)
		}
		db, err := sql.Open("sqlite", statesqlite.DSN(abs))
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", url, err)
		}
		return &SQLDB{DB: db, Dialect: "sqlite", owned: true}, nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db, err := sql.Open("pgx", url)
		if err != nil {
			return nil, fmt.Errorf("open %s: %s", secret.RedactURL(url), secret.RedactString(err.Error()))
		}
		return &SQLDB{DB: db, Dialect: "postgres", owned: true}, nil
	}
	return nil, fmt.Errorf("open %s: unsupported URL (want sqlite:PATH or postgres://...)", secret.RedactURL(url))
}
