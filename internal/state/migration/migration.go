// Package migration loads the versioned SQL files that build the state
// store's schema and works out which ones a database still needs. Each
// backend embeds one directory of files per dialect, named
// NNNN_description.sql (version NNNN, contiguous from 1), applies the
// pending ones in one transaction at Open, and records each applied version
// in the wharf_schema_migrations table. Later issues add files; applied
// files are never edited.
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Table is the name of the table recording applied versions.
const Table = "wharf_schema_migrations"

// Migration is one SQL file.
type Migration struct {
	Version int    // from the file name's leading digits
	Name    string // the file name's description, e.g. "runs_and_watermarks"
	SQL     string
}

var fileName = regexp.MustCompile(`^([0-9]{4,})_([a-z0-9_]+)\.sql$`)

// Load reads every *.sql file at the root of fsys, sorted by version. Files
// must be named NNNN_description.sql with versions 1, 2, 3, ... and no
// duplicates; anything else is an error naming the file.
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %s: name must be NNNN_description.sql (lower case, digits, _)", e.Name())
		}
		v, err := strconv.Atoi(m[1])
		if err != nil {
			return nil, fmt.Errorf("migration file %s: version: %w", e.Name(), err)
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("migration file %s: %w", e.Name(), err)
		}
		if strings.TrimSpace(string(b)) == "" {
			return nil, fmt.Errorf("migration file %s is empty", e.Name())
		}
		ms = append(ms, Migration{Version: v, Name: m[2], SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			if i > 0 && ms[i-1].Version == m.Version {
				return nil, fmt.Errorf("migration version %d is used by two files (%s, %s)", m.Version, ms[i-1].Name, m.Name)
			}
			return nil, fmt.Errorf("migration %04d_%s: versions must run 1, 2, 3, ... without gaps; expected %d", m.Version, m.Name, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no migration files found")
	}
	return ms, nil
}

// Pending returns the migrations not in applied, in version order. A
// database that records a version this program does not know was migrated
// by a newer wharf: that is an error, because this program would misread it.
func Pending(all []Migration, applied []int) ([]Migration, error) {
	known := make(map[int]bool, len(all))
	for _, m := range all {
		known[m.Version] = true
	}
	done := make(map[int]bool, len(applied))
	for _, v := range applied {
		if !known[v] {
			latest := 0
			if len(all) > 0 {
				latest = all[len(all)-1].Version
			}
			return nil, fmt.Errorf("state schema version %d was applied by a newer wharf (this one knows versions up to %d): upgrade wharf", v, latest)
		}
		done[v] = true
	}
	var out []Migration
	for _, m := range all {
		if !done[m.Version] {
			out = append(out, m)
		}
	}
	return out, nil
}
