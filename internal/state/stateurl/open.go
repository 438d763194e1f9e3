// Package stateurl opens a state store from its URL. It sits above package
// state and its backends (statesqlite, statepg), which never import it: a
// backend is a package of its own that state does not know.
package stateurl

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
func Open(ctx context.Context, url string) (state.Store, error) {
	switch {
	case url == "":
		return nil, fmt.Errorf("open state: empty URL (want sqlite:PATH or postgres://...)")
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		if path == "" {
			return nil, fmt.Errorf("open state %s: no file path after sqlite: (e.g. %s)", url, state.DefaultURL)
		}
		s, err := statesqlite.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		return s, nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		s, err := statepg.Open(ctx, url)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("open state %s: unsupported URL (want sqlite:PATH, sqlite://PATH, postgres:// or postgresql://)",
		secret.RedactURL(url))
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
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
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
