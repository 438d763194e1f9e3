package stateurl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/statepg"
	"github.com/wharf-data/wharf/internal/state/statesqlite"
	"github.com/wharf-data/wharf/internal/state/stateurl"
	"github.com/wharf-data/wharf/internal/testdb"
)

func TestOpenSQLiteForms(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tc := range []struct{ url, file string }{
		{"sqlite:rel/a.db", filepath.Join(dir, "rel", "a.db")},
		{"sqlite://rel2/b.db", filepath.Join(dir, "rel2", "b.db")},
		{"sqlite:" + filepath.Join(dir, "abs", "c.db"), filepath.Join(dir, "abs", "c.db")},
		{"sqlite://" + filepath.Join(dir, "abs", "d.db"), filepath.Join(dir, "abs", "d.db")},
		{state.DefaultURL, filepath.Join(dir, ".wharf", "state.db")},
	} {
		s, err := stateurl.Open(t.Context(), tc.url)
		if err != nil {
			t.Errorf("Open(%s): %v", tc.url, err)
			continue
		}
		if _, ok := s.(*statesqlite.Store); !ok {
			t.Errorf("Open(%s) = %T, want *statesqlite.Store", tc.url, s)
		}
		s.Close()
		if _, err := os.Stat(tc.file); err != nil {
			t.Errorf("Open(%s) did not create %s: %v", tc.url, tc.file, err)
		}
	}
}

func TestOpenPostgres(t *testing.T) {
	dsn, _ := testdb.PostgresSchema(t)
	for _, url := range []string{dsn, strings.Replace(dsn, "postgres://", "postgresql://", 1)} {
		s, err := stateurl.Open(t.Context(), url)
		if err != nil {
			t.Fatalf("Open(%s): %v", secret.RedactURL(url), err)
		}
		if _, ok := s.(*statepg.Store); !ok {
			t.Errorf("Open(%s) = %T, want *statepg.Store", secret.RedactURL(url), s)
		}
		s.Close()
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"", "open state: empty URL (want sqlite:PATH or postgres://...)"},
		{"sqlite:", "open state sqlite:: no file path after sqlite: (e.g. sqlite:.wharf/state.db)"},
		{"sqlite://", "open state sqlite://: no file path after sqlite: (e.g. sqlite:.wharf/state.db)"},
		{"mysql://root:hunter2@127.0.0.1/wharf", "open state mysql://root:xxxxx@127.0.0.1/wharf: unsupported URL (want sqlite:PATH, sqlite://PATH, postgres:// or postgresql://)"},
		{"state.db", "open state state.db: unsupported URL (want sqlite:PATH, sqlite://PATH, postgres:// or postgresql://)"},
		{"postgres://u:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", "open state postgres://u:xxxxx@127.0.0.1:1/db?sslmode=disable&connect_timeout=2: connect: "},
	} {
		s, err := stateurl.Open(t.Context(), tc.url)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", tc.url)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Open(%q) error =\n%s\nwant it to start with\n%s", tc.url, err, tc.want)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) error leaks the password: %v", tc.url, err)
		}
		if s != nil {
			t.Errorf("Open(%q) returned a non-nil Store with its error", tc.url)
		}
	}
}
