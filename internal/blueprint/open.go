package blueprint

import (
	"context"
	"fmt"
	"sync"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/source/sourcepostgres"
	"github.com/wharf-data/wharf/internal/source/sourcesqlite"
)

// OpenSource resolves a connection's secret and opens the source for its
// engine. The engine comes from the catalog, else from the secret.
func OpenSource(ctx context.Context, conn *catalog.Connection, secrets string) (source.Source, error) {
	creds, err := secret.Resolve(ctx, conn.Secret, secrets)
	if err != nil {
		return nil, err
	}
	if creds, err = creds.ForEngine(conn.Engine); err != nil {
		return nil, fmt.Errorf("secret %q: %w", conn.Secret, err)
	}
	engine := creds.NormalizedEngine()
	switch engine {
	case "postgres":
		return sourcepostgres.Open(ctx, creds.DSN().Reveal())
	case "sqlite":
		return sourcesqlite.Open(ctx, creds.DSN().Reveal())
	case "":
		return nil, fmt.Errorf("no engine: set engine in the catalog or in secret %q", conn.Secret)
	default:
		return nil, fmt.Errorf("engine %q is not supported yet (supported: postgres, sqlite)", engine)
	}
}

// lakeCache keeps one open Lake per lake URL.
type lakeCache struct {
	mu    sync.Mutex
	lakes map[string]*lake.Lake
}

func (c *lakeCache) open(ctx context.Context, lk *catalog.Lake) (*lake.Lake, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.lakes[lk.URL]; ok {
		return l, nil
	}
	l, err := lake.Open(ctx, lk.URL)
	if err != nil {
		return nil, fmt.Errorf("lake %s: %w", lk.Name, err)
	}
	if c.lakes == nil {
		c.lakes = map[string]*lake.Lake{}
	}
	c.lakes[lk.URL] = l
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
