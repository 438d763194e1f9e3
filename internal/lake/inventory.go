package lake

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Entry statuses of an Inventory.
const (
	// Committed: a manifest claims the object and it exists.
	Committed = "committed"
	// Leftover: a Parquet object that no manifest claims: the files of a
	// run that crashed (removed when its workflow next runs), of a run in
	// progress, or of a committed run whose manifest is still to be
	// written.
	Leftover = "leftover"
	// Missing: a manifest claims the object but the lake does not have it.
	Missing = "missing"
)

// Entry is one object of an Inventory.
type Entry struct {
	Path   string
	Status string // Committed, Leftover or Missing
	RunID  string // the claiming manifest's run ("" for a leftover)
	Rows   int64  // from the manifest (0 for a leftover)
	Bytes  int64  // the object's size (the manifest's for a missing object)
}

// Inventory is what Lake.Inventory found under a prefix.
type Inventory struct {
	Entries   []Entry // by path
	Manifests []*Manifest
}

// Count returns the number of entries with status.
func (inv *Inventory) Count(status string) int {
	n := 0
	for _, e := range inv.Entries {
		if e.Status == status {
			n++
		}
	}
	return n
}

// Inventory lists the Parquet objects under prefix ("" = the whole lake)
// and tells committed objects (claimed by a manifest) from leftovers and
// from objects a manifest claims that are missing. Manifests are read from
// the same prefix under ManifestDir.
func (l *Lake) Inventory(ctx context.Context, prefix string) (*Inventory, error) {
	prefix = strings.Trim(prefix, "/")
	objs, err := l.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	ms, err := l.Manifests(ctx, prefix)
	if err != nil {
		return nil, err
	}
	inv := &Inventory{Manifests: ms}
	claimed := map[string]Entry{}
	for _, m := range ms {
		for _, f := range m.Files {
			if prev, dup := claimed[f.Path]; dup {
				return nil, fmt.Errorf("lake %s: %s is claimed by the manifests of two runs, %s and %s", l.url, f.Path, prev.RunID, m.RunID)
			}
			claimed[f.Path] = Entry{Path: f.Path, Status: Missing, RunID: m.RunID, Rows: f.Rows, Bytes: f.Bytes}
		}
	}
	for _, o := range objs {
		if e, ok := claimed[o.Path]; ok {
			e.Status, e.Bytes = Committed, o.Bytes
			claimed[o.Path] = e
			continue
		}
		inv.Entries = append(inv.Entries, Entry{Path: o.Path, Status: Leftover, Bytes: o.Bytes})
	}
	for _, e := range claimed {
		inv.Entries = append(inv.Entries, e)
	}
	sort.Slice(inv.Entries, func(i, j int) bool { return inv.Entries[i].Path < inv.Entries[j].Path })
	return inv, nil
}

// Finding is one problem VerifyManifest found.
type Finding struct {
	RunID   string
	Path    string // the object at fault ("" for the run as a whole)
	Problem string
}

func (f Finding) String() string {
	if f.Path == "" {
		return fmt.Sprintf("run %s: %s", f.RunID, f.Problem)
	}
	return fmt.Sprintf("%s: %s (run %s)", f.Path, f.Problem, f.RunID)
}

// VerifyManifest checks that every file of m exists with the recorded size
// and, from its Parquet footer, the recorded row count. Store failures
// (other than a missing object) are returned as the error.
func (l *Lake) VerifyManifest(ctx context.Context, m *Manifest) ([]Finding, error) {
	var out []Finding
	for _, f := range m.Files {
		info, _, err := l.ReadFooter(ctx, f.Path)
		if err != nil {
			var se *StoreError
			switch {
			case notFound(err):
				out = append(out, Finding{RunID: m.RunID, Path: f.Path, Problem: "missing from the lake"})
			case errors.As(err, &se):
				return out, err // the store failed: nothing can be judged
			default:
				out = append(out, Finding{RunID: m.RunID, Path: f.Path, Problem: "not a readable Parquet file: " + errors.Unwrap(err).Error()})
			}
			continue
		}
		if info.Bytes != f.Bytes {
			out = append(out, Finding{RunID: m.RunID, Path: f.Path, Problem: fmt.Sprintf("size %d bytes, the manifest says %d", info.Bytes, f.Bytes)})
		}
		if info.Rows != f.Rows {
			out = append(out, Finding{RunID: m.RunID, Path: f.Path, Problem: fmt.Sprintf("%d rows in its footer, the manifest says %d", info.Rows, f.Rows)})
		}
	}
	return out, nil
}
