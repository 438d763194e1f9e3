package icetable

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/wharf-data/wharf/internal/lake"
)

// Snapshot summary keys wharf writes (and reads back for exactly-once).
const (
	SummaryRunID         = "wharf.run-id"
	SummaryWorkflow      = "wharf.workflow"
	SummaryRows          = "wharf.rows"
	SummaryWatermarkFrom = "wharf.watermark-from"
	SummaryWatermarkTo   = "wharf.watermark-to"
	SummaryFullLoad      = "wharf.full-load"
)

// PropSince is the table property holding the start of the run that
// created the table (RFC 3339): committed runs older than it landed before
// the table existed and are never appended to it.
const PropSince = "wharf.since"

// PropEmptySince is the table property holding the start of the first run
// that made a snapshot for a run that landed no rows (RFC 3339). Runs that
// landed nothing got no snapshot before wharf made empty ones; a table from
// then gets the property from its next run, and its older empty runs are
// not owed a snapshot.
const PropEmptySince = "wharf.empty-snapshots-since"

// fieldIDKey is the Arrow field metadata key arrow-go writes as a Parquet
// field id.
const fieldIDKey = "PARQUET:field_id"

// Spec says which table a workflow lands into and how it is partitioned.
type Spec struct {
	Namespace string // the source database
	Name      string // see TableName
	Prefix    string // the table's folder in the lake: <database>/<table>
	// PartitionBy is the workflow's partition column (identity transform);
	// "" partitions by day(DayColumn).
	PartitionBy string
	DayColumn   string
}

// TableName is the Iceberg table name of a source table: schema_table (a
// dot would read as a namespace level in SQL engines); a table without
// schema (SQLite, MySQL) keeps its name.
func TableName(schema, table string) string {
	if schema == "" {
		return table
	}
	return schema + "_" + table
}

// Table is an Iceberg table a workflow lands into.
type Table struct {
	cat   *Catalog
	lk    *lake.Lake
	ident table.Identifier
	tbl   *table.Table
}

// Ident names the table for messages: namespace.name.
func (t *Table) String() string { return strings.Join(t.ident, ".") }

// Prepare loads the table of sp from the catalog, creating it (in lk,
// at sp.Prefix) when missing, and adds to its schema the columns of schema
// it lacks (new field ids; old files are never rewritten). It returns
// schema with each field's Iceberg field id, which the run's Parquet files
// must carry. since is the start of the run preparing it.
func (c *Catalog) Prepare(ctx context.Context, lk *lake.Lake, sp Spec, schema *arrow.Schema, since time.Time) (*Table, *arrow.Schema, error) {
	register(lk)
	t := &Table{cat: c, lk: lk, ident: table.Identifier{sp.Namespace, sp.Name}}
	fail := func(what string, err error) error {
		return fmt.Errorf("iceberg table %s in %s: %s: %w", t, c, what, c.wrap(err))
	}
	want, err := icebergSchema(schema)
	if err != nil {
		return nil, nil, fail("schema", err)
	}
	location := lk.Root() + "/" + sp.Prefix
	t.tbl, err = c.cat.LoadTable(ctx, t.ident)
	switch {
	case errors.Is(err, catalog.ErrNoSuchTable):
		if t.tbl, err = c.create(ctx, t.ident, want, location, sp, since); err != nil {
			return nil, nil, fail("create", err)
		}
	case err != nil:
		return nil, nil, fail("load", err)
	case t.tbl.Location() != location:
		return nil, nil, fmt.Errorf("iceberg table %s in %s is at %s, not in this lake (%s): another lake's table has this name: give this workflow another namespace: (or the lake another iceberg_catalog)", t, c, t.tbl.Location(), location)
	default:
		if err := t.evolve(ctx, want); err != nil {
			return nil, nil, fail("evolve the schema (Iceberg takes new columns and widenings: int to long, float to double, a larger decimal precision; land other changes with cast: or into another namespace:); nothing was written", err)
		}
		if err := t.addProperties(ctx, tableProperties(since)); err != nil {
			return nil, nil, fail("set the table's properties", err)
		}
	}
	withIDs, err := t.withFieldIDs(schema)
	if err != nil {
		return nil, nil, fail("schema", err)
	}
	return t, withIDs, nil
}

func (c *Catalog) create(ctx context.Context, ident table.Identifier, sc *iceberg.Schema, location string, sp Spec, since time.Time) (*table.Table, error) {
	ns := catalog.NamespaceFromIdent(ident)
	if err := c.cat.CreateNamespace(ctx, ns, iceberg.Properties{}); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		return nil, err
	}
	source, name, transform := sp.DayColumn, "ingestion_date", iceberg.Transform(iceberg.DayTransform{})
	if sp.PartitionBy != "" {
		source, name, transform = sp.PartitionBy, sp.PartitionBy, iceberg.IdentityTransform{}
	}
	spec, err := iceberg.NewPartitionSpecOpts(iceberg.AddPartitionFieldByName(source, name, transform, sc, nil))
	if err != nil {
		return nil, fmt.Errorf("partition by %s(%s): %w", transform, source, err)
	}
	return c.cat.CreateTable(ctx, ident, sc,
		catalog.WithLocation(location),
		catalog.WithPartitionSpec(&spec),
		catalog.WithProperties(tableProperties(since)))
}

// tableProperties are the properties wharf gives a table it creates, or,
// where missing, one made by an older wharf (since: the start of the run
// creating or preparing it). Every commit (one a run, a run that landed
// nothing included) writes a new metadata file holding all snapshots:
// without deleting old ones, the metadata folder grows with the square of
// the runs (200 runs: 18.8 MB); Iceberg's delete-after-commit keeps the
// last 100.
func tableProperties(since time.Time) iceberg.Properties {
	return iceberg.Properties{PropSince: stamp(since), PropEmptySince: stamp(since),
		table.MetadataDeleteAfterCommitEnabledKey: "true"}
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// addProperties sets those of props the table lacks (a value already there,
// even one set by someone else, is kept), in one metadata commit if any.
func (t *Table) addProperties(ctx context.Context, props iceberg.Properties) error {
	missing := iceberg.Properties{}
	for k, v := range props {
		if _, ok := t.tbl.Properties()[k]; !ok {
			missing[k] = v
		}
	}
	if len(missing) == 0 {
		return nil
	}
	tx := t.tbl.NewTransaction()
	if err := tx.SetProperties(missing); err != nil {
		return err
	}
	tbl, err := tx.Commit(ctx)
	if err != nil {
		return err
	}
	t.tbl = tbl
	return nil
}

// evolve adds the columns of want the table lacks (and widens types the
// way Iceberg allows) in a metadata commit, then extends the name mapping.
func (t *Table) evolve(ctx context.Context, want *iceberg.Schema) error {
	have := t.tbl.Schema()
	changed := false
	for _, f := range want.Fields() {
		if g, ok := have.FindFieldByName(f.Name); !ok || !g.Type.Equals(f.Type) {
			changed = true
			break
		}
	}
	if !changed {
		return nil
	}
	tx := t.tbl.NewTransaction()
	if err := tx.UpdateSchema(true, false).UnionByNameWith(want).Commit(); err != nil {
		return err
	}
	tbl, err := tx.Commit(ctx)
	if err != nil {
		return err
	}
	t.tbl = tbl
	// Readers map columns of files without field ids by the name mapping
	// (iceberg-go's AddFiles sets one): it must know the new columns too.
	if _, ok := tbl.Properties()[table.DefaultNameMappingKey]; ok {
		mapping, err := jsonOf(tbl.Schema().NameMapping())
		if err != nil {
			return err
		}
		tx := tbl.NewTransaction()
		if err := tx.SetProperties(iceberg.Properties{table.DefaultNameMappingKey: mapping}); err != nil {
			return err
		}
		if t.tbl, err = tx.Commit(ctx); err != nil {
			return err
		}
	}
	return nil
}

// withFieldIDs returns schema with each field's id in the table's schema,
// at every level (struct fields, list elements, map keys and values: the
// table takes no file whose nested fields lack ids), and extension types
// Iceberg lacks as their storage type (plainFields).
func (t *Table) withFieldIDs(schema *arrow.Schema) (*arrow.Schema, error) {
	have := t.tbl.Schema()
	fields := plainFields(schema)
	for i, f := range fields {
		g, ok := have.FindFieldByName(f.Name)
		if !ok {
			return nil, fmt.Errorf("column %s is not in the table's schema", f.Name)
		}
		var err error
		if fields[i], err = withFieldID(f, g); err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
	}
	md := schema.Metadata()
	return arrow.NewSchema(fields, &md), nil
}

// withFieldID returns f with the id of g, its field in the table's schema,
// and the ids of g's nested fields on f's.
func withFieldID(f arrow.Field, g iceberg.NestedField) (arrow.Field, error) {
	keys, vals := f.Metadata.Keys(), f.Metadata.Values()
	keys = append(keys[:len(keys):len(keys)], fieldIDKey)
	vals = append(vals[:len(vals):len(vals)], strconv.Itoa(g.ID))
	f.Metadata = arrow.NewMetadata(keys, vals)
	switch dt := f.Type.(type) {
	case *arrow.StructType:
		st, ok := g.Type.(*iceberg.StructType)
		if !ok {
			return f, typeMismatch(f, g)
		}
		children := dt.Fields()
		for i, c := range children {
			j := slices.IndexFunc(st.FieldList, func(n iceberg.NestedField) bool { return n.Name == c.Name })
			if j < 0 {
				return f, fmt.Errorf("field %s is not in the table's schema", c.Name)
			}
			var err error
			if children[i], err = withFieldID(c, st.FieldList[j]); err != nil {
				return f, fmt.Errorf("field %s: %w", c.Name, err)
			}
		}
		f.Type = arrow.StructOf(children...)
	case *arrow.MapType: // before ListLikeType, which it also is
		return withMapIDs(f, dt, g)
	case arrow.ListLikeType: // list, large list, fixed-size list
		lt, ok := g.Type.(*iceberg.ListType)
		if !ok {
			return f, typeMismatch(f, g)
		}
		elem, err := withFieldID(dt.ElemField(), iceberg.NestedField{ID: lt.ElementID, Type: lt.Element})
		if err != nil {
			return f, err
		}
		switch dt := dt.(type) {
		case *arrow.ListType:
			f.Type = arrow.ListOfField(elem)
		case *arrow.LargeListType:
			f.Type = arrow.LargeListOfField(elem)
		case *arrow.FixedSizeListType:
			f.Type = arrow.FixedSizeListOfField(dt.Len(), elem)
		default:
			return f, typeMismatch(f, g)
		}
	}
	return f, nil
}

// typeMismatch is withFieldID's error for a field f whose type is not of
// g's kind.
func typeMismatch(f arrow.Field, g iceberg.NestedField) error {
	return fmt.Errorf("%s is %s in the table's schema", f.Type, g.Type)
}

// withMapIDs sets the ids of map field f's keys and values from g.
func withMapIDs(f arrow.Field, dt *arrow.MapType, g iceberg.NestedField) (arrow.Field, error) {
	mt, ok := g.Type.(*iceberg.MapType)
	if !ok {
		return f, typeMismatch(f, g)
	}
	key, err := withFieldID(dt.KeyField(), iceberg.NestedField{ID: mt.KeyID, Type: mt.KeyType})
	if err != nil {
		return f, err
	}
	item, err := withFieldID(dt.ItemField(), iceberg.NestedField{ID: mt.ValueID, Type: mt.ValueType})
	if err != nil {
		return f, err
	}
	m := arrow.MapOfFields(key, item)
	m.KeysSorted = dt.KeysSorted
	f.Type = m
	return f, nil
}

// Run is a committed run as its snapshot records it.
type Run struct {
	ID, Workflow string
	Rows         int64
	From, To     string // watermarks as printed; "" = none
	FullLoad     bool
	StartedAt    time.Time
	Files        []string // lake paths (lake.FileInfo.Path)
}

// Since is when the table was created: committed runs that started
// before it are not the table's.
func (t *Table) Since() time.Time {
	s, _ := time.Parse(time.RFC3339Nano, t.tbl.Properties()[PropSince])
	return s
}

// Owes reports whether a committed run that started at started and landed
// files files must have a snapshot in the table: every run since the table
// was created, including one that landed nothing (an empty snapshot), except
// runs that landed nothing before the table had PropEmptySince.
func (t *Table) Owes(started time.Time, files int) bool {
	if started.Before(t.Since()) {
		return false
	}
	if files > 0 {
		return true
	}
	empty, err := time.Parse(time.RFC3339Nano, t.tbl.Properties()[PropEmptySince])
	return err == nil && !started.Before(empty)
}

// RunSnapshots maps the run id of each snapshot wharf appended to the
// snapshot's id.
func (t *Table) RunSnapshots() map[string]int64 {
	out := map[string]int64{}
	for _, s := range t.tbl.Metadata().Snapshots() {
		if s.Summary != nil {
			if id := s.Summary.Properties[SummaryRunID]; id != "" {
				out[id] = s.SnapshotID
			}
		}
	}
	return out
}

// CurrentRuns is the set of runs whose files the current snapshot holds:
// those of the snapshots from the latest overwrite (a full load's) to the
// current one, along its lineage.
func (t *Table) CurrentRuns() map[string]bool {
	out := map[string]bool{}
	md := t.tbl.Metadata()
	for s := md.CurrentSnapshot(); s != nil; {
		if s.Summary != nil {
			out[s.Summary.Properties[SummaryRunID]] = true
			if s.Summary.Operation == table.OpOverwrite {
				break
			}
		}
		if s.ParentSnapshotID == nil {
			break
		}
		s = md.SnapshotByID(*s.ParentSnapshotID)
	}
	delete(out, "")
	return out
}

// Commit adds a committed run's files to the table as one snapshot whose
// summary names the run, unless a snapshot of that run already exists
// (appended reports which). The catalog commit is atomic: readers see all
// of the run's rows or none. An incremental run's snapshot appends its
// files (none: a snapshot without data files, the current data stays as
// it was). A full load's (r.FullLoad: the run read the whole source table)
// is an overwrite: it removes every data file of the current snapshot
// from the table and adds the run's, so the table holds the source's rows
// as the run read them (none, if it read none); the removed files stay in
// storage for time travel.
func (t *Table) Commit(ctx context.Context, r Run) (appended bool, err error) {
	fail := func(what string, err error) error {
		return fmt.Errorf("iceberg table %s in %s: %s run %s: %w", t, t.cat, what, r.ID, t.cat.wrap(err))
	}
	// The table as the catalog has it now: an earlier attempt may have
	// committed the snapshot and failed before hearing so.
	tbl, err := t.cat.cat.LoadTable(ctx, t.ident)
	if err != nil {
		return false, fail("reload before committing", err)
	}
	t.tbl = tbl
	if _, ok := t.RunSnapshots()[r.ID]; ok {
		return false, nil
	}
	locs := make([]string, len(r.Files))
	for i, p := range r.Files {
		locs[i] = t.lk.Root() + "/" + p
	}
	props := iceberg.Properties{
		SummaryRunID: r.ID, SummaryWorkflow: r.Workflow, SummaryRows: strconv.FormatInt(r.Rows, 10),
		SummaryFullLoad: strconv.FormatBool(r.FullLoad),
	}
	if r.From != "" {
		props[SummaryWatermarkFrom] = r.From
	}
	if r.To != "" {
		props[SummaryWatermarkTo] = r.To
	}
	var current []string
	if r.FullLoad {
		files, err := t.currentDataFiles(ctx)
		if err != nil {
			return false, fail("list the data files to replace by", err)
		}
		for _, f := range files {
			current = append(current, f.FilePath())
		}
	}
	tx := tbl.NewTransaction()
	// With nothing to remove (a new or empty table, or an incremental run),
	// a full load's snapshot is a plain append of its files.
	if len(current) == 0 {
		err = tx.AddFiles(ctx, locs, props, false)
	} else {
		err = tx.ReplaceDataFiles(ctx, current, locs, props)
	}
	if err != nil {
		return false, fail("add the files of", err)
	}
	if t.tbl, err = tx.Commit(ctx); err != nil {
		return false, fail("commit the snapshot of", err)
	}
	return true, nil
}

// Load opens the existing table namespace.name whose files are in lk;
// the error wraps catalog.ErrNoSuchTable when there is none.
func (c *Catalog) Load(ctx context.Context, lk *lake.Lake, namespace, name string) (*Table, error) {
	register(lk)
	t := &Table{cat: c, lk: lk, ident: table.Identifier{namespace, name}}
	tbl, err := c.cat.LoadTable(ctx, t.ident)
	if err != nil {
		return nil, fmt.Errorf("iceberg table %s in %s: %w", t, c, c.wrap(err))
	}
	t.tbl = tbl
	return t, nil
}

// ErrNoSuchTable is wrapped by Load's error for a table the catalog lacks.
var ErrNoSuchTable = catalog.ErrNoSuchTable

// DataFile is a data file of the table's current snapshot.
type DataFile struct {
	Path string // lake path (the full location when not in the table's lake)
	Rows int64
	Size int64
}

// CurrentFiles lists the data files of the table's current snapshot
// (none before the first).
func (t *Table) CurrentFiles(ctx context.Context) ([]DataFile, error) {
	files, err := t.currentDataFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("iceberg table %s: list data files: %w", t, t.cat.wrap(err))
	}
	out := make([]DataFile, len(files))
	for i, f := range files {
		p, _ := strings.CutPrefix(f.FilePath(), t.lk.Root()+"/")
		out[i] = DataFile{Path: p, Rows: f.Count(), Size: f.FileSizeBytes()}
	}
	return out, nil
}

// currentDataFiles lists the data files of the table's current snapshot.
func (t *Table) currentDataFiles(ctx context.Context) ([]iceberg.DataFile, error) {
	if t.tbl.CurrentSnapshot() == nil {
		return nil, nil
	}
	tasks, err := t.tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]iceberg.DataFile, len(tasks))
	for i, task := range tasks {
		out[i] = task.File
	}
	return out, nil
}

// Snapshots counts the table's snapshots.
func (t *Table) Snapshots() int { return len(t.tbl.Metadata().Snapshots()) }

// LakeTables opens the catalog's tables whose location is in lk under
// prefix ("" = anywhere in the lake), sorted by name. A table of the
// catalog that cannot be loaded (its metadata file is gone) may be another
// lake's: it is skipped, and its error returned in unloaded.
func (c *Catalog) LakeTables(ctx context.Context, lk *lake.Lake, prefix string) (tables []*Table, unloaded []error, err error) {
	register(lk)
	under := lk.Root() + "/"
	if prefix != "" {
		under += prefix + "/"
	}
	namespaces, err := c.cat.ListNamespaces(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("iceberg catalog in %s: list namespaces: %w", c, c.wrap(err))
	}
	for _, ns := range namespaces {
		for ident, err := range c.cat.ListTables(ctx, ns) {
			if err != nil {
				return nil, nil, fmt.Errorf("iceberg catalog in %s: list tables: %w", c, c.wrap(err))
			}
			tbl, err := c.cat.LoadTable(ctx, ident)
			if err != nil {
				unloaded = append(unloaded, fmt.Errorf("iceberg table %s in %s: %w", strings.Join(ident, "."), c, c.wrap(err)))
				continue
			}
			if strings.HasPrefix(tbl.Location()+"/", under) {
				tables = append(tables, &Table{cat: c, lk: lk, ident: ident, tbl: tbl})
			}
		}
	}
	slices.SortFunc(tables, func(a, b *Table) int { return strings.Compare(a.String(), b.String()) })
	return tables, unloaded, nil
}
