// Package icetable keeps a lake's landed runs as Apache Iceberg tables
// (through github.com/apache/iceberg-go): it opens the Iceberg catalog a
// lake names, creates and evolves a workflow's table, and appends each
// committed run as one snapshot that names the run, exactly once.
//
// The state store decides what is landed; a table is made to agree with it
// (see docs/lakes.md, "Iceberg tables").
package icetable

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"

	wcatalog "github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/stateurl"
)

// CatalogName is the name wharf's SQL catalogs are kept under (the
// catalog_name column of iceberg-go's iceberg_tables).
const CatalogName = "wharf"

// Catalog is an open Iceberg catalog.
type Catalog struct {
	cat   catalog.Catalog
	spec  string // as the lake says it, for messages (redacted)
	close func() error
	// hint says what to check about an error of the catalog ("" = nothing
	// to add); nil for SQL catalogs. See wrap.
	hint func(error) string
}

// Open opens the catalog of lk's iceberg_catalog setting:
//
//	""                       a SQL catalog in the state store st (its SQLite
//	                         file, or the PostgreSQL database of a fleet)
//	sql:sqlite:PATH          a SQL catalog in another SQLite file
//	sql:postgres://...       a SQL catalog in another PostgreSQL database
//	rest:https://...         an Iceberg REST catalog (openREST), with the
//	                         credential of lk's iceberg_catalog_secret (a
//	                         bare secret name is looked up through secrets)
//
// The SQL catalog's tables are iceberg-go's iceberg_tables and
// iceberg_namespace_properties.
func Open(ctx context.Context, lk *wcatalog.Lake, secrets string, st state.Store) (*Catalog, error) {
	spec := lk.IcebergCatalog
	printable := secret.RedactURL(spec)
	if strings.HasPrefix(spec, wcatalog.RESTPrefix) {
		cat, hint, err := openREST(ctx, spec, lk.IcebergCatalogSecret, secrets)
		c := &Catalog{spec: printable, hint: hint}
		if err != nil {
			return nil, fmt.Errorf("iceberg catalog %s: %w", printable, c.wrap(err))
		}
		c.cat, c.close = cat, cat.Close
		return c, nil
	}
	var (
		db  *stateurl.SQLDB
		err error
	)
	switch {
	case spec == "":
		printable = "the state store"
		db, err = stateurl.StoreDB(st)
	case strings.HasPrefix(spec, "sql:"):
		db, err = stateurl.OpenDB(strings.TrimPrefix(spec, "sql:"))
	default:
		err = fmt.Errorf("unsupported (want sql:sqlite:PATH, sql:postgres://..., rest:https://..., or nothing for a catalog in the state store)")
	}
	if err != nil {
		return nil, fmt.Errorf("iceberg_catalog %s: %w", printable, err)
	}
	cat, err := sqlcat.NewCatalog(CatalogName, db.DB, sqlcat.SupportedDialect(db.Dialect), iceberg.Properties{})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("iceberg catalog in %s: %w", printable, secret.RedactError(err))
	}
	return &Catalog{cat: cat, spec: printable, close: func() error { cat.Close(); return db.Close() }}, nil
}

// wrap is the one place an error of the catalog (opening it, loading,
// creating or listing tables, committing to one) becomes wharf's: its
// secrets redacted, and, for a REST catalog, followed by what to check
// when the catalog refused the credential (authHint) or did not answer in
// time (timeoutHint).
func (c *Catalog) wrap(err error) error {
	err = secret.RedactError(err)
	if c.hint == nil {
		return err
	}
	if h := c.hint(err); h != "" {
		return fmt.Errorf("%w%s", err, h)
	}
	return err
}

// Close releases the catalog.
func (c *Catalog) Close() error { return c.close() }

// String names the catalog for messages.
func (c *Catalog) String() string { return c.spec }
