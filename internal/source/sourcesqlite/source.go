package sourcesqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

var _ source.Source = (*Source)(nil)

// Source is one SQLite database file, open read-only.
type Source struct {
	db   *sql.DB
	path string // absolute path of the database file
	name string // file name without extension
	mem  memory.Allocator
}

// Open opens the SQLite database at path read-only. path is a file path, or
// a "file:" URI, "sqlite:PATH" or "sqlite://PATH"; query parameters
// ("PATH?x=y") are ignored: the file is always opened read-only. A missing file is an
// error; Open never creates one.
func Open(ctx context.Context, path string) (*Source, error) {
	p, err := filePath(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, fmt.Errorf("sqlite database %s: %w", p, err)
	}
	fi, err := os.Stat(abs)
	if q := strings.IndexByte(abs, '?'); err != nil && q > 0 {
		// PATH?query, as a secret's DSN may carry: the file is PATH unless a
		// file is really named with the '?'. The query is not used.
		if fi2, err2 := os.Stat(abs[:q]); err2 == nil {
			abs, fi, err = abs[:q], fi2, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite database %s: %w", abs, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("sqlite database %s: not a regular file", abs)
	}
	dsn := (&url.URL{Scheme: "file", Path: abs}).String() + "?mode=ro&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite database %s: %w", abs, err)
	}
	db.SetMaxOpenConns(4)
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite database %s: cannot read it as a SQLite database: %w", abs, err)
	}
	name := filepath.Base(abs)
	if ext := filepath.Ext(name); ext != "" && ext != name {
		name = strings.TrimSuffix(name, ext)
	}
	return &Source{db: db, path: abs, name: name, mem: source.Buffers}, nil
}

// filePath extracts the file path from the accepted path and URI forms.
func filePath(s string) (string, error) {
	switch {
	case s == "":
		return "", errors.New("sqlite database: empty path")
	case strings.HasPrefix(s, "sqlite://"):
		s = strings.TrimPrefix(s, "sqlite://")
	case strings.HasPrefix(s, "sqlite:"):
		s = strings.TrimPrefix(s, "sqlite:")
	case strings.HasPrefix(s, "file:"):
		u, err := url.Parse(s)
		if err != nil {
			return "", fmt.Errorf("sqlite database %s: %w", s, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("sqlite database %s: a file URI must name a local file", s)
		}
		s = u.Path
		if u.Opaque != "" {
			if s, err = url.PathUnescape(u.Opaque); err != nil {
				return "", fmt.Errorf("sqlite database %s: %w", u.Opaque, err)
			}
		}
	}
	if s == "" {
		return "", errors.New("sqlite database: empty path")
	}
	return s, nil
}

// Database is the file's base name without extension (hr.db -> "hr").
func (s *Source) Database() string { return s.name }

// Path is the absolute path of the database file.
func (s *Source) Path() string { return s.path }

// Close closes the database.
func (s *Source) Close() error { return s.db.Close() }

// Describe reads a table's (or view's) columns with PRAGMA table_xinfo.
func (s *Source) Describe(ctx context.Context, ref source.TableRef) (*source.Table, error) {
	m, err := readTableMeta(ctx, s.db, s.name, ref)
	if err != nil {
		return nil, err
	}
	t := &source.Table{Ref: source.TableRef{Schema: ref.Schema, Name: m.name}}
	for _, c := range m.cols {
		col, reason := kindOf(c.decl)
		col.Name = c.name
		if reason != "" {
			return nil, &coltype.UnsupportedError{Table: ref.String(), Column: c.name, SourceType: c.decl, Reason: reason}
		}
		col.Nullable = !c.notNull && !m.pkNotNull(c)
		t.Columns = append(t.Columns, col)
	}
	return t, nil
}

// quoteIdent quotes a SQLite identifier, doubling embedded quotes.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
