package blueprint

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/source/sourcemysql"
	"github.com/wharf-data/wharf/internal/source/sourcepostgres"
	"github.com/wharf-data/wharf/internal/source/sourcesqlite"
)

// OpenSource resolves a connection's secret and opens the source for its
// engine. The engine comes from the catalog, else from the secret. When the
// server refuses the credentials of a cached secret (a password rotated in
// AWS Secrets Manager), the secret is read again and the open tried once more.
func OpenSource(ctx context.Context, conn *catalog.Connection, secrets string) (source.Source, error) {
	src, err := openSource(ctx, conn, secrets)
	if err != nil && isAuthError(err) && secret.ForgetCached() {
		return openSource(ctx, conn, secrets)
	}
	return src, err
}

func openSource(ctx context.Context, conn *catalog.Connection, secrets string) (source.Source, error) {
	creds, err := secret.Resolve(ctx, conn.Secret, secrets)
	if err != nil {
		return nil, err
	}
	if creds, err = creds.ForEngine(conn.Engine); err != nil {
		return nil, fmt.Errorf("secret %q: %w", conn.Secret, err)
	}
	engine := creds.NormalizedEngine()
	switch engine {
	case secret.EnginePostgres:
		opts := sourcepostgres.DefaultOptions()
		opts.StatementTimeout = conn.StatementTimeout
		return sourcepostgres.OpenWithOptions(ctx, creds.DSN().Reveal(), opts)
	case secret.EngineMySQL:
		return sourcemysql.OpenWithOptions(ctx, creds.DSN().Reveal(), sourcemysql.Options{StatementTimeout: conn.StatementTimeout})
	case secret.EngineSQLite:
		return sourcesqlite.Open(ctx, creds.DSN().Reveal())
	case "":
		return nil, fmt.Errorf("no engine: set engine in the catalog or in secret %q", conn.Secret)
	default:
		return nil, fmt.Errorf("engine %q is not supported (supported: postgres, mysql, sqlite)", engine)
	}
}

// isAuthError reports a server refusing a connection's credentials.
func isAuthError(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000") {
		return true
	}
	return sourcemysql.IsAuthError(err)
}

// OpenLake opens a catalog lake, with the object store keys of its secret
// when it names one (resolved through the secrets provider for bare names).
func OpenLake(ctx context.Context, lk *catalog.Lake, secrets string) (*lake.Lake, error) {
	var opts lake.Options
	if lk.Secret != "" {
		content, err := secret.Lookup(ctx, lk.Secret, secrets)
		if err != nil {
			return nil, lakeError(lk, err)
		}
		scheme, _, _ := strings.Cut(lk.URL, "://")
		creds, err := lake.ParseCredentials(scheme, []byte(content.Reveal()))
		if err != nil {
			return nil, fmt.Errorf("lake %s: secret %q: %w", lk.Name, lk.Secret, err)
		}
		secret.Register(creds.Secrets()...)
		opts.Credentials = creds
	}
	l, err := lake.OpenWith(ctx, lk.URL, opts)
	if err != nil {
		return nil, lakeError(lk, err)
	}
	return l, nil
}

// lakeError names lk in err, unless err names it already: a lake named by
// its URL (a Glue catalog's DestinationBucketName) and the store's errors,
// which start "lake URL: ", would say the URL twice.
func lakeError(lk *catalog.Lake, err error) error {
	if strings.HasPrefix(err.Error(), "lake "+lk.Name+":") || strings.HasPrefix(err.Error(), "lake "+lk.Name+" ") {
		return err
	}
	return fmt.Errorf("lake %s: %w", lk.Name, err)
}

// lakeCache keeps one open Lake per lake (URL and secret).
type lakeCache struct {
	mu    sync.Mutex
	lakes map[string]*lake.Lake
}

// open opens lk (once per URL and secret), resolving a bare secret name
// through the provider secrets.
func (c *lakeCache) open(ctx context.Context, lk *catalog.Lake, secrets string) (*lake.Lake, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := lk.URL + "\x00" + lk.Secret
	if l, ok := c.lakes[key]; ok {
		return l, nil
	}
	l, err := OpenLake(ctx, lk, secrets)
	if err != nil {
		return nil, err
	}
	// Fail the run now, before reading the source, when the bucket is
	// missing or the credentials are wrong.
	if err := l.Check(ctx); err != nil {
		l.Close()
		return nil, lakeError(lk, err)
	}
	if c.lakes == nil {
		c.lakes = map[string]*lake.Lake{}
	}
	c.lakes[key] = l
	return l, nil
}

func (c *lakeCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for _, l := range c.lakes {
		if err := l.Close(); err != nil && first == nil {
			first = fmt.Errorf("lake %s: %w", l.URL(), err)
		}
	}
	c.lakes = nil
	return first
}
