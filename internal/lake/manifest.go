package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"gocloud.dev/blob"

	"github.com/wharf-data/wharf/internal/coltype"
)

// ManifestDir is where manifests live, relative to the lake root:
// _wharf/manifests/<database>/<table>/<run id>.json.
const ManifestDir = "_wharf/manifests"

// ManifestVersion is the version of the manifest format written.
const ManifestVersion = 1

// ErrNoManifest is wrapped by ReadManifest errors when the run has none.
var ErrNoManifest = errors.New("no manifest")

// Manifest describes one committed run: which objects it landed, with their
// row counts and sizes, the window of source rows they hold, and their
// schema. The landing blueprint writes it right after the state transaction
// that commits the run, so a manifest exists only for a committed run, and
// its files are exactly the run's files: readers and audits can trust it
// and tell committed objects from the leftovers of crashed runs.
type Manifest struct {
	Version  int    `json:"version"`
	RunID    string `json:"run_id"`
	Workflow string `json:"workflow"`
	// Prefix is the run's directory, <database>/<table>.
	Prefix string `json:"prefix"`
	Window Window `json:"window"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	// Files are the run's objects, relative to the lake root, by path.
	Files  []ManifestFile `json:"files"`
	Schema []SchemaField  `json:"schema"`
	// StartedAt is when the run started (its ingestion_timestamp);
	// CommittedAt when its state transaction committed.
	StartedAt   time.Time `json:"started_at"`
	CommittedAt time.Time `json:"committed_at"`
	// Repaired is set on a manifest written after the fact, from the state
	// store, for a run whose process died between its commit and its
	// manifest.
	Repaired bool `json:"repaired,omitempty"`
}

// Window is the set of source rows a run landed: rows whose cursor is
// above After (nil: from the first row) and at most Through (nil: no
// cursor, every row).
type Window struct {
	Cursor   string `json:"cursor,omitempty"`
	FullLoad bool   `json:"full_load"`
	After    *Bound `json:"after"`
	Through  *Bound `json:"through"`
}

// Bound is a cursor value: its neutral type (coltype.Kind's name, e.g.
// "timestamptz", "int64") and its canonical text.
type Bound struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// BoundOf returns the Bound of a watermark (nil for nil).
func BoundOf(w *coltype.Watermark) *Bound {
	if w == nil {
		return nil
	}
	return &Bound{Type: w.Kind.String(), Value: w.Text}
}

// ManifestFile is one object of a run.
type ManifestFile struct {
	Path  string `json:"path"`
	Rows  int64  `json:"rows"`
	Bytes int64  `json:"bytes"`
}

// SchemaField summarizes one column of the run's files: its Arrow type and
// how Parquet stores it.
type SchemaField struct {
	Name     string `json:"name"`
	Arrow    string `json:"arrow"`
	Parquet  string `json:"parquet"`
	Nullable bool   `json:"nullable"`
}

// ManifestKey is the key of a run's manifest, relative to the lake root.
func ManifestKey(prefix, runID string) string {
	return ManifestDir + "/" + prefix + "/" + runID + ".json"
}

// SchemaSummary summarizes the schema of a run's files for its manifest.
func SchemaSummary(s *arrow.Schema) []SchemaField {
	out := make([]SchemaField, s.NumFields())
	var pq *schema.Schema
	if ps, err := pqarrow.ToParquet(s, parquet.NewWriterProperties(storageProperties...), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())); err == nil {
		pq = ps
	}
	for i, f := range s.Fields() {
		out[i] = SchemaField{Name: f.Name, Arrow: f.Type.String(), Nullable: f.Nullable}
		if pq != nil && i < pq.Root().NumFields() {
			out[i].Parquet = parquetType(pq.Root().Field(i))
		}
	}
	return out
}

func parquetType(n schema.Node) string {
	var s string
	if p, ok := n.(*schema.PrimitiveNode); ok {
		s = p.PhysicalType().String()
	} else {
		s = "GROUP"
	}
	if lt := n.LogicalType(); lt != nil && !lt.Equals(schema.NoLogicalType{}) {
		s += " " + lt.String()
	}
	return s
}

// Check validates a manifest before it is written or after it is read.
func (m *Manifest) Check() error {
	if m.Version != ManifestVersion {
		return fmt.Errorf("manifest version %d: this wharf reads version %d", m.Version, ManifestVersion)
	}
	if err := checkRunID(m.RunID); err != nil {
		return err
	}
	if err := checkDir("prefix", m.Prefix); err != nil {
		return err
	}
	if m.Prefix == "" {
		return errors.New("manifest has no prefix")
	}
	var rows, size int64
	for _, f := range m.Files {
		if !strings.HasPrefix(f.Path, m.Prefix+"/") {
			return fmt.Errorf("file %s is not under the run's prefix %s", f.Path, m.Prefix)
		}
		rows += f.Rows
		size += f.Bytes
	}
	if rows != m.Rows || size != m.Bytes {
		return fmt.Errorf("files hold %d rows, %d bytes; the manifest says %d rows, %d bytes", rows, size, m.Rows, m.Bytes)
	}
	return nil
}

// WriteManifest writes m at ManifestKey(m.Prefix, m.RunID), replacing any
// manifest of the same run.
func (l *Lake) WriteManifest(ctx context.Context, m *Manifest) error {
	if m.Version == 0 {
		m.Version = ManifestVersion
	}
	key := ManifestKey(m.Prefix, m.RunID)
	if err := m.Check(); err != nil {
		return fmt.Errorf("lake %s: manifest %s: %w", l.url, key, err)
	}
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("lake %s: manifest %s: %w", l.url, key, err)
	}
	data = append(data, '\n')
	if err := l.writeAll(ctx, key, data, &blob.WriterOptions{ContentType: "application/json"}); err != nil {
		return l.storeError("write", key, err)
	}
	return nil
}

// writeAll writes data at key whole or not at all. gocloud's
// Bucket.WriteAll closes its writer after a failed Write, which commits
// what was written: on a full disk a file lake renamed the empty temp file
// into place, and that empty manifest failed every later run of the
// workflow. Cancelling the writer's context before Close aborts the write.
func (l *Lake) writeAll(ctx context.Context, key string, data []byte, opts *blob.WriterOptions) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := l.bucket.NewWriter(wctx, key, opts)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		cancel()
		_ = w.Close()
		return err
	}
	return w.Close()
}

// ReadManifest reads the manifest of a run; the error wraps ErrNoManifest
// when there is none.
func (l *Lake) ReadManifest(ctx context.Context, prefix, runID string) (*Manifest, error) {
	return l.readManifest(ctx, ManifestKey(prefix, runID))
}

func (l *Lake) readManifest(ctx context.Context, key string) (*Manifest, error) {
	data, err := l.bucket.ReadAll(ctx, key)
	if notFound(err) {
		return nil, fmt.Errorf("lake %s: %s: %w", l.url, key, ErrNoManifest)
	}
	if err != nil {
		return nil, l.storeError("read", key, err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// Empty or cut short: a write that failed half-way (see
			// writeAll). The run has no manifest; the next run writes it.
			return nil, fmt.Errorf("lake %s: manifest %s is truncated (%d bytes): %w", l.url, key, len(data), ErrNoManifest)
		}
		return nil, fmt.Errorf("lake %s: manifest %s: %w", l.url, key, err)
	}
	if err := m.Check(); err != nil {
		return nil, fmt.Errorf("lake %s: manifest %s: %w", l.url, key, err)
	}
	if want := ManifestKey(m.Prefix, m.RunID); want != key {
		return nil, fmt.Errorf("lake %s: manifest %s: says run %s under %s, which belongs at %s", l.url, key, m.RunID, m.Prefix, want)
	}
	return &m, nil
}

// Manifests reads every manifest under prefix ("" = the whole lake, else a
// <database>/<table> directory or a part of it), sorted by prefix then run
// ID (run IDs are UUIDv7: by start time).
func (l *Lake) Manifests(ctx context.Context, prefix string) ([]*Manifest, error) {
	dir, err := listPrefix(prefix)
	if err != nil {
		return nil, fmt.Errorf("lake %s: manifests: %w", l.url, err)
	}
	dir = ManifestDir + "/" + dir
	objs, err := l.listAll(ctx, dir)
	if err != nil {
		return nil, l.storeError("list", dir, err)
	}
	var out []*Manifest
	for _, obj := range objs {
		if obj.IsDir || !strings.HasSuffix(obj.Key, ".json") {
			continue
		}
		m, err := l.readManifest(ctx, obj.Key)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Prefix != out[j].Prefix {
			return out[i].Prefix < out[j].Prefix
		}
		return out[i].RunID < out[j].RunID
	})
	return out, nil
}
