// Package statesqlite is the embedded state store: one SQLite file, opened
// through modernc.org/sqlite (pure Go). Several connections and several
// processes may share the file: it runs in WAL mode with a busy timeout, and
// every write transaction starts with BEGIN IMMEDIATE so writers queue for
// the lock instead of failing with SQLITE_BUSY on upgrade.
package statesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/wharf-data/wharf/internal/state"
)

// maxIdleConns is how many unused connections the store keeps open.
const maxIdleConns = 16

// BusyTimeout is how long a connection waits for another writer's lock
// before failing with SQLITE_BUSY.
const BusyTimeout = 5 * time.Second

// Store is the SQLite state store: state.SQLStore over this package's
// driver, plus the database handle for River.
type Store struct {
	*state.SQLStore
	db   *sql.DB
	path string
}

// Open opens (creating it and its parent directory if needed) the SQLite
// state file at path and applies pending migrations. opts may set the
// store's clock.
func Open(ctx context.Context, path string, opts ...state.Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("open state sqlite: empty file path")
	}
	if path == ":memory:" || strings.HasPrefix(path, "file::memory:") {
		return nil, fmt.Errorf("open state sqlite:%s: in-memory databases are not supported (each connection would see its own); use a file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open state sqlite:%s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("open state sqlite:%s: create directory: %w", path, err)
	}
	db, err := sql.Open("sqlite", DSN(abs))
	if err != nil {
		return nil, fmt.Errorf("open state sqlite:%s: %w", path, err)
	}
	// Keep the connections a busy serve uses open (database/sql keeps 2):
	// a new connection runs the DSN's pragmas and parses the schema
	// before its first statement, which cost a landing run more CPU than
	// any of its statements. An idle serve closes them after a minute.
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxIdleTime(time.Minute)
	ss, err := state.NewSQLStore(driver{db}, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	all, err := Migrations()
	if err == nil {
		err = retryBusy(ctx, func() error { return ss.Migrate(ctx, all) })
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open state sqlite:%s: %w", path, err)
	}
	return &Store{SQLStore: ss, db: db, path: path}, nil
}

// OpenReadOnly opens the SQLite state file at path to read it, creating,
// migrating and writing nothing; the error wraps ErrNoState when the file
// does not exist or has no wharf tables.
func OpenReadOnly(ctx context.Context, path string, opts ...state.Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("open state sqlite: empty file path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open state sqlite:%s: %w", path, err)
	}
	if _, err := os.Stat(abs); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("open state sqlite:%s: %w", path, state.ErrNoState)
	}
	db, err := sql.Open("sqlite", DSN(abs)+"&mode=ro")
	if err != nil {
		return nil, fmt.Errorf("open state sqlite:%s: %w", path, err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'wharf_workflows'`).Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state sqlite:%s: %w", path, err)
	}
	if n == 0 {
		db.Close()
		return nil, fmt.Errorf("open state sqlite:%s: %w", path, state.ErrNoState)
	}
	ss, err := state.NewSQLStore(driver{db}, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{SQLStore: ss, db: db, path: path}, nil
}

// DSN returns the modernc.org/sqlite data source name for the state file at
// an absolute path: a SQLite URI with the path's '%', '?' and '#'
// percent-escaped, the busy timeout set first (so that the switch to WAL
// also waits for locks), WAL mode, synchronous=NORMAL, foreign keys on,
// and BEGIN IMMEDIATE for every transaction.
//
// synchronous=NORMAL in WAL mode syncs the log at checkpoints instead of at
// every commit: a commit is durable once it returns as far as any process
// crash goes (kill -9 included); an OS crash or power loss may roll back the
// last transactions committed before it, never part of one, which leaves
// their runs as a killed process leaves them (docs/state.md). FULL, SQLite's
// default, made every commit wait for the disk while holding the write lock.
func DSN(absPath string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(absPath)
	return "file:" + esc +
		fmt.Sprintf("?_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds()) +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
}

// DB returns the underlying database handle, for packages that keep their
// own tables in the same file (stateurl.StoreDB).
func (s *Store) DB() *sql.DB { return s.db }

// Path returns the file path the store was opened with.
func (s *Store) Path() string { return s.path }
