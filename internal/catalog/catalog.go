// Package catalog reads and validates the catalog: the one file users edit.
// It lists workflows plus shared connections, lakes and defaults. Two formats
// are read: wharf's own YAML/JSON, and the AWS Glue blueprint "workflow
// catalog" JSON ({"WorkflowList": [...]}) as its users have it.
package catalog

import "time"

// Format names the file format a catalog was read from.
type Format string

const (
	FormatWharf Format = "wharf" // wharf's own YAML or JSON
	FormatGlue  Format = "glue"  // {"WorkflowList": [...]}
)

// Catalog is a loaded, defaulted and validated catalog.
type Catalog struct {
	Path        string
	Format      Format
	Connections map[string]*Connection
	Lakes       map[string]*Lake
	Workflows   []*Workflow
	// Alerts is the alerts section (wharf format only); zero when none.
	Alerts Alerts
	// Patterns are workflow entries whose table is a glob ("public.*"),
	// expanded against the source at plan time; not in Workflows.
	Patterns []*Pattern
	// IngestionColumn is defaults.ingestion_column ("" = not set): what
	// `wharf discover` checks new tables against.
	IngestionColumn string
	// Notices are non-fatal remarks for the user, e.g. Glue fields accepted
	// but not needed by wharf ("GlueExecutionRole is not needed by wharf").
	Notices []string
	// Warnings are values that load but cannot work as meant, each at its
	// place in the file: a schedule that never fires.
	Warnings Errors
}

// AddedColumn is the name of the column the landing blueprint adds to
// every row: IngestionColumn, or DefaultIngestionColumn.
func (w *Workflow) AddedColumn() string {
	if w.IngestionColumn != "" {
		return w.IngestionColumn
	}
	return DefaultIngestionColumn
}

// Workflow returns the named workflow or nil.
func (c *Catalog) Workflow(name string) *Workflow {
	for _, w := range c.Workflows {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// Connection is a source database. Its credentials come from Secret.
type Connection struct {
	Name string
	// Engine is postgres, mysql or sqlite; "" means "take it from the
	// secret's engine field" (Glue catalogs, where SecretName is all we have).
	Engine string
	// Secret is a secret reference: env:VAR, file:PATH, or a bare name
	// resolved by the secrets provider (--secrets / WHARF_SECRETS).
	Secret string
	// StatementTimeout makes the source server end any one statement of
	// wharf's that runs longer (0: no limit; --run-timeout still ends the
	// run).
	StatementTimeout time.Duration
	// MaxParallel is the most streams reading from it at once: those of
	// one run (a workflow's parallel above it reads with MaxParallel), of
	// all the runs of one `wharf run`, and under serve/worker of all runs
	// and chunks across the fleet (0: no cap of its own). It counts
	// reading streams, not sessions: idle ones come on top (docs/catalog.md).
	MaxParallel int
}

// StreamCap is the most streams that may read from c at once, across the
// fleet: the smaller of its MaxParallel and perConnection (the process's
// --per-connection), either 0 meaning none; 0 = no cap.
func (c *Connection) StreamCap(perConnection int) int {
	switch {
	case c.MaxParallel == 0:
		return perConnection
	case perConnection == 0:
		return c.MaxParallel
	}
	return min(c.MaxParallel, perConnection)
}

// Lake is a destination: a URL plus layout and format options.
type Lake struct {
	Name string
	URL  string // file:///..., s3://bucket/prefix, gs://, azblob://; a bare Glue bucket name becomes s3://NAME
	// Compression for Parquet: zstd (default), snappy, gzip, lz4, none.
	Compression string
	// RowGroupRows caps rows per Parquet row group (default 262,144).
	RowGroupRows int
	// FileBytes rolls to a new file once a file reaches about this size (default 256 MiB).
	FileBytes int64
	// Secret is an optional secret reference (env:VAR, file:PATH or a name)
	// holding the object store's keys; "" = the store's standard
	// credentials (AWS chain, Google ADC, AZURE_STORAGE_*).
	Secret string
	// Format is how runs land: "parquet" (files plus wharf manifests, the
	// default) or "iceberg" (the same files, each run also one snapshot of
	// an Iceberg table).
	Format string
	// IcebergCatalog names the Iceberg catalog of an iceberg lake: "" = a
	// SQL catalog in the state store; sql:sqlite:PATH, sql:postgres://...;
	// rest:https://... (ParseRESTCatalog).
	IcebergCatalog string
	// IcebergCatalogSecret is a secret reference (env:VAR, file:PATH or a
	// name) to the credential of a REST catalog: a bearer token, or OAuth2
	// client credentials; "" = none.
	IcebergCatalogSecret string
}

// Tries is how many times a run of w is tried, the first included: the one
// rule every process that queues a run (serve's schedules, trigger, the API
// and the console) applies, from what is deployed.
func (w Workflow) Tries() int {
	if w.Attempts == 0 {
		return DefaultAttempts
	}
	return w.Attempts
}

// Iceberg reports whether the lake keeps Iceberg tables.
func (l Lake) Iceberg() bool { return l.Format == LakeIceberg }

// Lake formats.
const (
	LakeParquet = "parquet"
	LakeIceberg = "iceberg"
)

// Workflow is one source table landing into one lake on one schedule.
type Workflow struct {
	Name       string
	Connection string // key into Catalog.Connections
	Table      string // as written in the catalog, e.g. "public.regions"
	Lake       string // key into Catalog.Lakes
	Blueprint  string // "landing" (the only built-in)
	// Cursor is the cursor column for incremental loads; "" = full load.
	Cursor string
	// CursorAuto marks a cursor that was defaulted rather than written:
	// the run uses it only if the table has that column, else does a full load
	// and says so (Glue catalogs: DeltaColumnName defaults to updated_at).
	CursorAuto bool
	// Lookback re-reads this much before the watermark (time cursors only).
	Lookback time.Duration
	// Settle holds back cursor values newer than the source's clock minus
	// Settle for the next run (date/time cursors), for rows whose cursor the
	// source's transactions cannot bound (app-supplied timestamps, a role
	// that cannot see other sessions' transactions).
	Settle time.Duration
	// Parallel is how many streams read one run's window at once, each
	// from its own connection (1..MaxParallel; 0 = 1). Glue's
	// NumberOfWorkers maps to it.
	Parallel int
	// Attempts is how many times a run is tried, the first included, before
	// it stays failed (1..MaxAttempts; 0 = DefaultAttempts, see Tries).
	// Glue's WharfAttempts maps to it.
	Attempts int
	// PartitionBy partitions output by this column's value (Hive style,
	// col=value) instead of ingestion_date.
	PartitionBy string
	// Namespace is the Iceberg namespace of the workflow's table on an
	// iceberg lake; "" = the source database.
	Namespace string
	// IngestionColumn names the column the landing blueprint adds (the
	// time of the run); "" = DefaultIngestionColumn. Set for tables that
	// already have a column of that name.
	IngestionColumn string
	// Format is the destination file format; only "parquet" for now.
	Format string
	// FileCountHint is accepted from Glue's DestinationFileCount; files roll by size.
	FileCountHint int
	Schedule      Schedule
	// FreshnessSLA is how old the workflow's data may get before it is
	// late (status) and alerts (alerts.on freshness); 0 = no SLA.
	FreshnessSLA time.Duration
	// Choices say which columns land and how.
	Choices ColumnChoices
	// Pos is where the workflow is defined, for messages.
	Pos Pos
}

// ScheduleKind says how a workflow is triggered.
type ScheduleKind string

const (
	OnDemand ScheduleKind = "on_demand"
	Cron     ScheduleKind = "cron"
	Rate     ScheduleKind = "rate"
)

// Schedule is a parsed schedule. Running schedules belongs to the engine;
// the catalog only checks their form.
type Schedule struct {
	Kind ScheduleKind
	// Expr is the schedule as written (e.g. "cron(10 21 * * ? *)", "10 21 * * ? *",
	// "*/5 * * * *", "rate(15 minutes)", "@hourly").
	Expr string
	// Dialect of a cron schedule: "aws" (6 fields, ? L W #, DOW 1-7 = SUN-SAT,
	// year) or "standard" (5 fields, or an @shortcut).
	Dialect string
	// Every is the period of a rate schedule.
	Every time.Duration
	// TimeZone is an IANA zone name; "" = UTC.
	TimeZone string
}

// Pos is a place in the catalog file.
type Pos struct {
	File   string
	Line   int
	Column int
}

// Resolved is a workflow with its connection and lake: everything a run
// needs, independent of the catalog file it came from.
type Resolved struct {
	Workflow   Workflow
	Connection Connection
	Lake       Lake
	// Alerts is the catalog's alerts section, deployed with every workflow
	// (serve runs from the deployed state, not the file).
	Alerts Alerts
}

// Resolve returns the named workflow with its connection and lake, or nil.
func (c *Catalog) Resolve(name string) *Resolved {
	return c.ResolveWorkflow(c.Workflow(name))
}

// ResolveWorkflow returns workflow w of the catalog (nil: none) with its
// connection and lake, or nil. A loop over Workflows resolves each this
// way: by name, 10,000 workflows took 50 million name comparisons.
func (c *Catalog) ResolveWorkflow(w *Workflow) *Resolved {
	if w == nil {
		return nil
	}
	conn, lk := c.Connections[w.Connection], c.Lakes[w.Lake]
	if conn == nil || lk == nil {
		return nil // Load validates references; only hand-built catalogs get here
	}
	return &Resolved{Workflow: *w, Connection: *conn, Lake: *lk, Alerts: c.Alerts}
}
