package statesqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/statesqlite"
	"github.com/wharf-data/wharf/internal/state/statetest"
)

var _ state.Store = (*statesqlite.Store)(nil)

func TestConformance(t *testing.T) {
	t.Parallel()
	statetest.Run(t, backend)
}

// backend runs the conformance suites on state files: a URL here is the
// file's path.
var backend = statetest.Backend{
	NewURL: func(t *testing.T) string { return filepath.Join(t.TempDir(), "state.db") },
	Open: func(ctx context.Context, path string) (state.Store, error) {
		return statesqlite.Open(ctx, path)
	},
	FailFileInsert: func(t *testing.T, path, file string) {
		db := rawDB(t, path)
		if _, err := db.Exec(`CREATE TRIGGER wharf_test_fail_file BEFORE INSERT ON wharf_files
				WHEN NEW.path = '` + strings.ReplaceAll(file, "'", "''") + `'
				BEGIN SELECT RAISE(ABORT, 'test trigger refuses this file'); END`); err != nil {
			t.Fatalf("create trigger: %v", err)
		}
	},
}

// rawDB opens the state file directly, closed when t ends.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", statesqlite.DSN(abs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openStore(t *testing.T, path string) *statesqlite.Store {
	t.Helper()
	s, err := statesqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenCreatesDirectoryAndSetsPragmas(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a", "b", "state.db")
	s := openStore(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("state file not created: %v", err)
	}
	// Every pooled connection carries the pragmas: check on several at once.
	conns := make([]*sql.Conn, 3)
	for i := range conns {
		c, err := s.DB().Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		for pragma, want := range map[string]string{"journal_mode": "wal", "busy_timeout": "5000", "foreign_keys": "1", "synchronous": "1"} {
			var got string
			if err := c.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s: %v", pragma, err)
			}
			if got != want {
				t.Errorf("connection %d: PRAGMA %s = %s, want %s", i, pragma, got, want)
			}
		}
	}
}

// TestBusyStatementRetried holds the write lock longer than the busy
// timeout: the store's statement gets SQLITE_BUSY once and runs again
// instead of failing.
func TestBusyStatementRetried(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s := openStore(t, path)
	holder, err := rawDB(t, path).Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	released := make(chan error, 1)
	go func() {
		time.Sleep(statesqlite.BusyTimeout + time.Second)
		_, err := holder.ExecContext(context.Background(), "COMMIT")
		released <- err
	}()
	w := state.NewWorker("serve")
	if err := s.Heartbeat(t.Context(), &w); err != nil {
		t.Fatalf("Heartbeat while another connection held the write lock for longer than the busy timeout: %v", err)
	}
	if err := <-released; err != nil {
		t.Fatal(err)
	}
}

func TestOpenPathsNeedingEscapes(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"with space.db", "what?.db", "hash#tag.db", "100%.db", "per%20cent.db"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, name)
			s := openStore(t, path)
			r := &state.Run{ID: "r1", Workflow: "wf", Trigger: state.TriggerManual}
			if err := s.StartRun(t.Context(), r); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				entries, _ := os.ReadDir(dir)
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Fatalf("file %q not created (directory holds %q): %v", name, names, err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, []byte(strings.Repeat("not a database ", 300)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"", "empty file path"},
		{":memory:", "in-memory databases are not supported"},
		{filepath.Join(blocker, "state.db"), filepath.Join(blocker, "state.db")},
		{blocker, blocker}, // not a database
	} {
		_, err := statesqlite.Open(t.Context(), tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) error = %v, want one containing %q", tc.path, err, tc.want)
		}
	}
}

func TestMigrationsRecordedOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	openStore(t, path)
	openStore(t, path)
	ms, err := statesqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, path)
	var n, maxV int
	if err := db.QueryRow(`SELECT count(*), max(version) FROM wharf_schema_migrations`).Scan(&n, &maxV); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) || maxV != ms[len(ms)-1].Version {
		t.Errorf("wharf_schema_migrations has %d rows up to version %d; want %d up to %d", n, maxV, len(ms), ms[len(ms)-1].Version)
	}
	// Every table wharf made is prefixed, so River's can live alongside.
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type IN ('table', 'index', 'trigger') AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(name, "wharf_") {
			t.Errorf("schema object %s is not prefixed wharf_", name)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	openStore(t, path)
	db := rawDB(t, path)
	if _, err := db.Exec(`INSERT INTO wharf_schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := statesqlite.Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "version 9999 was applied by a newer wharf") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

func TestCorruptWatermarkNamesWorkflow(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	s := openStore(t, path)
	r := &state.Run{ID: "r1", Workflow: "orders", Trigger: state.TriggerManual}
	if err := s.StartRun(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitRun(t.Context(), r, nil, &coltype.Watermark{Kind: coltype.Int64, Text: "1"}, "id"); err != nil {
		t.Fatal(err)
	}
	if _, err := rawDB(t, path).Exec(`UPDATE wharf_watermarks SET watermark = '1.5' WHERE workflow = 'orders'`); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Watermark(t.Context(), "orders")
	if err == nil || !strings.HasPrefix(err.Error(), `watermark of workflow orders: int64 value "1.5"`) {
		t.Fatalf("Watermark of a corrupt row: %v", err)
	}
}
