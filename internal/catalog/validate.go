package catalog

import (
	"fmt"
	"github.com/wharf-data/wharf/internal/suggest"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/wharf-data/wharf/internal/secret"
)

// Supported values.
var (
	engines      = []string{"postgres", "mysql", "sqlite"}
	compressions = []string{"zstd", "snappy", "gzip", "lz4", "none"}
	lakeSchemes  = []string{"file", "s3", "gs", "azblob"}
	blueprints   = []string{"landing"}
	formats      = []string{"parquet"}
	lakeFormats  = []string{LakeParquet, LakeIceberg}
)

// MaxNameLen is the longest workflow, connection or lake name: names
// become file and directory names.
const MaxNameLen = 128

// nameRE is what workflow, connection and lake names may contain.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// validate checks every value of a defaulted document and builds the
// catalog. Every problem is added to errs; the catalog is complete only
// when errs stays empty.
func (doc *document) validate(errs *errorList) *Catalog {
	v := &validator{doc: doc, errs: errs, now: time.Now(), connectionNames: doc.connectionNames(), lakeNames: doc.lakeNames()}
	cat := &Catalog{
		Path:            doc.file,
		Format:          doc.format,
		Connections:     map[string]*Connection{},
		Lakes:           map[string]*Lake{},
		Notices:         append([]string(nil), doc.notices...),
		IngestionColumn: doc.defaults.ingestionColumn.Value,
	}
	v.version()
	for _, c := range doc.connections {
		if conn := v.connection(c); conn != nil {
			cat.Connections[conn.Name] = conn
		}
	}
	for _, l := range doc.lakes {
		if lake := v.lake(l); lake != nil {
			cat.Lakes[lake.Name] = lake
		}
	}
	v.defaults()
	cat.Alerts = v.alerts()
	if len(doc.workflows) > 0 {
		if len(doc.connections) == 0 && doc.format == FormatWharf {
			errs.add(doc.workflowsPos, "connections", "none defined: every workflow needs a connection")
			v.noConnections = true
		}
		if len(doc.lakes) == 0 && doc.format == FormatWharf {
			errs.add(doc.workflowsPos, "lakes", "none defined: every workflow needs a lake")
			v.noLakes = true
		}
	}
	names := map[string]*rawWorkflow{}
	used := map[string]bool{}
	landings := map[string]*rawWorkflow{}
	for _, w := range doc.workflows {
		wf := v.workflow(w, names)
		used["c:"+wf.Connection], used["l:"+wf.Lake] = true, true
		if c := cat.Connections[wf.Connection]; c != nil && c.MaxParallel > 0 && wf.Parallel > c.MaxParallel {
			streams := "streams"
			if c.MaxParallel == 1 {
				streams = "stream"
			}
			cat.Notices = append(cat.Notices, fmt.Sprintf("workflow %q: parallel %d is above connection %q's max_parallel %d: it reads with at most %d %s",
				wf.Name, wf.Parallel, c.Name, c.MaxParallel, c.MaxParallel, streams))
		}
		if w.isPattern() {
			cat.Patterns = append(cat.Patterns, v.pattern(w, wf))
			continue
		}
		v.sameLanding(landings, w, wf)
		cat.Workflows = append(cat.Workflows, wf)
	}
	if doc.format == FormatWharf {
		for _, c := range doc.connections {
			if !used["c:"+c.name.Value] {
				cat.Notices = append(cat.Notices, fmt.Sprintf("connection %q is not used by any workflow", c.name.Value))
			}
		}
		for _, l := range doc.lakes {
			if !used["l:"+l.name.Value] {
				cat.Notices = append(cat.Notices, fmt.Sprintf("lake %q is not used by any workflow", l.name.Value))
			}
		}
	}
	if w := v.warns.result(); w != nil {
		cat.Warnings = w.(Errors)
	}
	return cat
}

// validator holds what checks of one document share.
type validator struct {
	doc                    *document
	errs                   *errorList
	warns                  errorList
	noConnections, noLakes bool
	now                    time.Time // for schedules that never fire again
	// The defined names, listed once: every workflow's references are
	// checked against them (10,000 workflows over 2,000 lakes listed the
	// lakes 10,000 times).
	connectionNames, lakeNames []string
}

func (v *validator) errorf(f field, format string, args ...any) {
	v.errs.add(f.Pos, f.Path, format, args...)
}

// ok reports whether f was written (or defaulted) and not already reported.
func ok(f field) bool { return f.Set && !f.Bad }

func (v *validator) version() {
	f := v.doc.version
	if ok(f) && strings.TrimSpace(f.Value) != "1" {
		v.errorf(f, "%q is not supported: only version 1", f.Value)
	}
}

// name checks a workflow, connection or lake name.
func (v *validator) name(f field, what string) bool {
	switch {
	case !ok(f):
		return false
	case f.Value == "":
		v.errorf(f, "%s name is empty", what)
	case len(f.Value) > MaxNameLen:
		v.errorf(f, "%s name is %d characters long: at most %d", what, len(f.Value), MaxNameLen)
	case !nameRE.MatchString(f.Value):
		v.errorf(f, "%s name %q is not safe: use letters, digits, _ . - (names become file names and log fields)", what, f.Value)
	case strings.HasPrefix(f.Value, ".") || strings.HasPrefix(f.Value, "-"):
		v.errorf(f, "%s name %q must not start with %q (names become file names)", what, f.Value, f.Value[:1])
	default:
		return true
	}
	return false
}

func (v *validator) connection(c *rawConnection) *Connection {
	if v.doc.format == FormatWharf {
		v.name(c.name, "connection")
	}
	conn := &Connection{Name: c.name.Value}
	if f := c.engine; ok(f) {
		if !contains(engines, f.Value) {
			v.errorf(f, "%q is not supported: want %s%s", f.Value, orList(engines), suggest.DidYouMean(f.Value, engines))
		}
		conn.Engine = f.Value
	}
	switch f := c.secret; {
	case f.Bad:
	case !f.Set || strings.TrimSpace(f.Value) == "":
		v.errorf(f, "required: a secret reference (env:VAR, file:PATH or a secret name); credentials never go in the catalog")
	default:
		if _, err := secret.ParseRef(f.Value); err != nil {
			v.errorf(f, "%v", err)
		}
		conn.Secret = f.Value
	}
	if d, good := v.duration(c.statementTimeout); good && d > 0 {
		if d < time.Millisecond {
			v.errorf(c.statementTimeout, "%q: a statement timeout is at least 1ms (0s: none)", c.statementTimeout.Value)
		}
		conn.StatementTimeout = d
	}
	conn.MaxParallel = v.count(c.maxParallel, MaxParallel, "streams reading from this connection at once")
	return conn
}

func (v *validator) lake(l *rawLake) *Lake {
	if v.doc.format == FormatWharf {
		v.name(l.name, "lake")
	}
	lake := &Lake{Name: l.name.Value}
	if ok(l.url) {
		lake.URL = l.url.Value
		v.lakeURL(l.url)
	} else if !l.url.Bad {
		v.errorf(l.url, "required: the lake's URL (file:///PATH, s3://BUCKET/PREFIX, gs://BUCKET, azblob://CONTAINER)")
	}
	if f := l.compression; ok(f) {
		lake.Compression = strings.ToLower(f.Value)
		if !contains(compressions, lake.Compression) {
			v.errorf(f, "%q is not supported: want %s%s", f.Value, orList(compressions), suggest.DidYouMean(f.Value, compressions))
		}
	}
	if f := l.rowGroupRows; ok(f) {
		n, err := strconv.Atoi(strings.TrimSpace(f.Value))
		if err != nil || n < 1 {
			v.errorf(f, "%q is not a whole number of rows of at least 1", f.Value)
		}
		lake.RowGroupRows = n
	}
	if f := l.fileSize; ok(f) {
		n, err := ParseSize(f.Value)
		switch {
		case err != nil:
			v.errorf(f, "%v", err)
		case n < 1:
			v.errorf(f, "%q: a file size must be above 0", f.Value)
		}
		lake.FileBytes = n
	}
	if f := l.secret; ok(f) {
		if _, err := secret.ParseRef(f.Value); err != nil {
			v.errorf(f, "%v", err)
		} else if u, err := url.Parse(l.url.Value); ok(l.url) && (err != nil || u.Scheme == "file" || !strings.Contains(l.url.Value, "://")) {
			v.errorf(f, "a local directory takes no secret: lake secrets hold object store keys (s3://, gs://, azblob://)")
		}
		lake.Secret = f.Value
	}
	if f := l.format; ok(f) {
		lake.Format = strings.ToLower(f.Value)
		if !contains(lakeFormats, lake.Format) {
			v.errorf(f, "%q is not supported: want %s%s", f.Value, orList(lakeFormats), suggest.DidYouMean(f.Value, lakeFormats))
		}
	}
	if f := l.icebergCat; ok(f) {
		lake.IcebergCatalog = f.Value
		switch {
		case lake.Format != LakeIceberg:
			v.errorf(f, "only an iceberg lake has a catalog: set format: iceberg, or remove iceberg_catalog")
		case strings.HasPrefix(f.Value, RESTPrefix):
			if _, err := ParseRESTCatalog(f.Value); err != nil {
				v.errorf(f, "%v", err)
			}
		case !strings.HasPrefix(f.Value, "sql:sqlite:") && !strings.HasPrefix(f.Value, "sql:postgres://") && !strings.HasPrefix(f.Value, "sql:postgresql://"):
			v.errorf(f, "%q is not supported: want sql:sqlite:PATH, sql:postgres://... or rest:https://... (leave it out for a catalog in the state store)", secret.RedactURL(f.Value))
		case strings.HasPrefix(f.Value, "sql:postgres"):
			if u, err := url.Parse(strings.TrimPrefix(f.Value, "sql:")); err != nil {
				v.errorf(f, "%s: not a valid URL", secret.RedactURL(f.Value))
			} else if _, hasPassword := u.User.Password(); hasPassword || u.Query().Has("password") {
				v.errorf(f, "%s: credentials never go in the catalog: give the password through PGPASSWORD or ~/.pgpass", secret.RedactURL(f.Value))
			}
		}
	}
	if f := l.icebergSec; ok(f) {
		lake.IcebergCatalogSecret = f.Value
		if _, err := secret.ParseRef(f.Value); err != nil {
			v.errorf(f, "%v", err)
		} else if !strings.HasPrefix(lake.IcebergCatalog, RESTPrefix) {
			v.errorf(f, "only a REST catalog (iceberg_catalog: rest:https://...) takes a secret; a SQL catalog's PostgreSQL password comes from PGPASSWORD or ~/.pgpass")
		}
	}
	return lake
}

func (v *validator) lakeURL(f field) {
	u, err := url.Parse(f.Value)
	if err != nil {
		v.errorf(f, "not a URL: want file:///PATH, s3://BUCKET/PREFIX, gs://BUCKET or azblob://CONTAINER")
		return
	}
	if _, hasPw := u.User.Password(); hasPw {
		v.errorf(f, "URL %s carries a password: credentials never go in the catalog (use the cloud's own credentials)", secret.RedactURL(f.Value))
		return
	}
	if u.User != nil {
		v.errorf(f, "URL carries a user name before @ (value not shown): credentials never go in the catalog; name a secret on the lake (secret: env:VAR) or use the store's standard credentials")
		return
	}
	var keys []string
	for k := range u.Query() {
		if secret.IsSecretParam(k) {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		v.errorf(f, "URL %s carries credentials in its query (%s): credentials never go in the catalog; name a secret on the lake (secret: env:VAR) or use the store's standard credentials", secret.RedactURL(f.Value), strings.Join(keys, ", "))
		return
	}
	if u.Scheme == "" {
		v.errorf(f, "%q has no scheme: want file:///PATH, s3://BUCKET/PREFIX, gs://BUCKET or azblob://CONTAINER", f.Value)
		return
	}
	if !contains(lakeSchemes, u.Scheme) {
		v.errorf(f, "scheme %q is not supported: want %s", u.Scheme, orList(lakeSchemes))
		return
	}
	if u.Scheme == "file" {
		if u.Opaque != "" || (u.Host != "" && u.Host != "localhost") || !strings.HasPrefix(u.Path, "/") || !strings.Contains(f.Value, "://") {
			v.errorf(f, "%q: a file URL needs an absolute path, as in file:///data/lake", f.Value)
		}
		return
	}
	if u.Host == "" {
		v.errorf(f, "%q has no bucket: want %s://BUCKET/PREFIX", f.Value, u.Scheme)
	}
}

// defaults checks the defaults section, even where no workflow uses it.
func (v *validator) defaults() {
	d := v.doc.defaults
	v.reference(d.connection, "connection", v.connectionNames)
	v.reference(d.lake, "lake", v.lakeNames)
	v.column(d.cursor, true)
	v.duration(d.lookback)
	v.duration(d.settle)
	v.parallel(d.parallel)
	v.attempts(d.attempts)
	v.column(d.ingestionColumn, false)
	v.freshnessSLA(d.freshnessSLA)
	v.checkChoices(&d.choices)
	if d.choices.columnsKey.Set {
		v.errorf(d.choices.columnsKey, "columns is a choice per workflow: tables differ; use exclude_columns in defaults")
	}
	tzOK := v.timezone(d.timezone)
	if ok(d.schedule) {
		v.schedule(d.schedule, "", tzOK, false)
	}
}

// reference checks that f names one of names.
func (v *validator) reference(f field, what string, names []string) bool {
	if !ok(f) {
		return false
	}
	if f.Value == "" {
		v.errorf(f, "empty %s name", what)
		return false
	}
	if contains(names, f.Value) {
		return true
	}
	defined := "no " + what + " is defined"
	if len(names) > 0 {
		defined = "defined: " + strings.Join(names, ", ")
	}
	v.errorf(f, "unknown %s %q%s; %s", what, f.Value, suggest.DidYouMean(f.Value, names), defined)
	return false
}

// column checks a column name (cursor, partition_by); empty is allowed
// where it means "none".
func (v *validator) column(f field, emptyOK bool) {
	if !ok(f) {
		return
	}
	switch {
	case f.Value == "":
		if !emptyOK {
			v.errorf(f, "empty column name")
		}
	case strings.TrimSpace(f.Value) != f.Value:
		v.errorf(f, "column %q has leading or trailing spaces", f.Value)
	case quoted(f.Value):
		v.errorf(f, "column %q: write the name without quotes; wharf quotes identifiers itself", f.Value)
	case strings.ContainsFunc(f.Value, unicode.IsControl):
		v.errorf(f, "column %q contains control characters", f.Value)
	}
}

// quoted reports whether a column name is written in SQL quotes ("x" or
// `x`): a name holding a quote elsewhere (a"b) is a name like any other.
func quoted(name string) bool {
	return len(name) >= 2 && (name[0] == '"' || name[0] == '`') && name[len(name)-1] == name[0]
}

// table checks "schema.table" or "table" (names plain or SQL-quoted).
func (v *validator) table(f field) {
	if f.Bad {
		return
	}
	if !f.Set || strings.TrimSpace(f.Value) == "" {
		v.errorf(f, "required: the source table, as schema.table or table")
		return
	}
	ref, _, nameQuoted, err := parseTableRef(f.Value)
	if err != nil {
		v.errorf(f, "%s", err.Error())
		return
	}
	if !nameQuoted && isGlob(ref.Name) {
		if _, err := path.Match(ref.Name, ""); err != nil {
			v.errorf(f, "%q: malformed table pattern (want e.g. public.* or sales.order_?; [ opens a class that ] must close)", f.Value)
		}
	}
}

// duration checks a lookback or settle: a Go duration of at least 0.
func (v *validator) duration(f field) (time.Duration, bool) {
	if !ok(f) || strings.TrimSpace(f.Value) == "" {
		return 0, ok(f)
	}
	d, err := time.ParseDuration(strings.TrimSpace(f.Value))
	switch {
	case err != nil:
		v.errorf(f, "%q is not a duration: want e.g. 0s, 10m, 1h30m", f.Value)
		return 0, false
	case d < 0:
		v.errorf(f, "%q: a %s cannot be negative", f.Value, f.Path[strings.LastIndex(f.Path, ".")+1:])
		return 0, false
	}
	return d, true
}

// MaxParallel is the most streams one run may read at once.
const MaxParallel = 64

// parallel checks a parallel setting (Glue: NumberOfWorkers): a whole
// number in 1..MaxParallel. It returns 0 when unset or bad.
func (v *validator) parallel(f field) int {
	return v.count(f, MaxParallel, "streams reading one run at once")
}

// DefaultAttempts is how many times a run is tried when the catalog does
// not say (attempts); MaxAttempts the most it may say.
const (
	DefaultAttempts = 3
	MaxAttempts     = 100
)

// attempts checks an attempts setting (Glue: WharfAttempts): a whole number
// in 1..MaxAttempts. It returns 0 when unset or bad.
func (v *validator) attempts(f field) int {
	return v.count(f, MaxAttempts, "tries per run, the first included")
}

// count checks a whole number in 1..most, meaning what. It returns 0 when
// unset or bad.
func (v *validator) count(f field, most int, what string) int {
	if !ok(f) {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(f.Value))
	if err != nil || n < 1 || n > most {
		v.errorf(f, "%q is not a whole number from 1 to %d (%s)", f.Value, most, what)
		return 0
	}
	return n
}

func (v *validator) timezone(f field) bool {
	if !ok(f) || f.Value == "" {
		return true
	}
	if err := checkTimeZone(f.Value); err != nil {
		v.errorf(f, "%v", err)
		return false
	}
	return true
}

// schedule checks a schedule's form. The time zone is checked on its own
// field, so the schedule is parsed without it and tz is set afterwards.
func (v *validator) schedule(f field, tz string, tzOK, awsOnly bool) Schedule {
	if !ok(f) {
		return Schedule{}
	}
	s, err := ParseSchedule(f.Value, "")
	if err != nil {
		v.errorf(f, "%v", err)
		return Schedule{}
	}
	if awsOnly && (s.Kind != Cron || s.Dialect != "aws") {
		v.errorf(f, "%q: want an AWS cron pattern of 6 fields (minutes hours day-of-month month day-of-week year), e.g. %q", f.Value, glueDefaultCron)
		return Schedule{}
	}
	if tzOK {
		s.TimeZone = tz
	}
	if s.Kind == Cron && s.Next(v.now).IsZero() {
		v.warns.add(f.Pos, f.Path, "%s never fires: no date after today matches it, so the workflow runs only when triggered", s.Expr)
	}
	return s
}

func (v *validator) workflow(w *rawWorkflow, names map[string]*rawWorkflow) *Workflow {
	wf := &Workflow{
		Name:            w.name.Value,
		Table:           w.table.Value,
		Connection:      w.connection.Value,
		Lake:            w.lake.Value,
		Cursor:          w.cursor.Value,
		CursorAuto:      w.cursorAuto && w.cursor.Value != "",
		PartitionBy:     w.partitionBy.Value,
		Namespace:       w.namespace.Value,
		IngestionColumn: w.ingestionColumn.Value,
		Blueprint:       w.blueprint.Value,
		Format:          strings.ToLower(w.format.Value),
		Pos:             w.pos,
	}
	// Name: required, safe, unique (also ignoring case: names become file
	// names, and some file systems ignore case).
	if !w.name.Set && !w.name.Bad {
		v.errorf(w.name, "required: a unique workflow name")
	} else if w.isPattern() {
		v.nameTemplate(w.name)
	} else if v.name(w.name, "workflow") {
		key := strings.ToLower(w.name.Value)
		if first, dup := names[key]; dup {
			if first.name.Value == w.name.Value {
				v.errorf(w.name, "duplicate workflow name %q (first at line %d)", w.name.Value, first.name.Pos.Line)
			} else {
				v.errorf(w.name, "workflow name %q differs from %q (line %d) only in case: names become file names", w.name.Value, first.name.Value, first.name.Pos.Line)
			}
		} else {
			names[key] = w
		}
	}
	v.table(w.table)
	if f := w.excludeKey; f.Set && !w.isPattern() && ok(w.table) {
		v.errorf(f, "applies to table patterns only (e.g. table: \"public.*\"); %q is one table", w.table.Value)
	}

	switch {
	case ok(w.connection):
		v.reference(w.connection, "connection", v.connectionNames)
	case !w.connection.Bad && !v.noConnections:
		v.errorf(w.connection, "required: %d connections are defined (%s): set connection here or in defaults",
			len(v.doc.connections), strings.Join(v.connectionNames, ", "))
	}
	switch {
	case ok(w.lake):
		v.reference(w.lake, "lake", v.lakeNames)
	case !w.lake.Bad && !v.noLakes:
		v.errorf(w.lake, "required: %d lakes are defined (%s): set lake here or in defaults",
			len(v.doc.lakes), strings.Join(v.lakeNames, ", "))
	}

	v.column(w.cursor, true)
	v.column(w.partitionBy, true)
	if f := w.namespace; ok(f) && (strings.TrimSpace(f.Value) == "" || strings.Contains(f.Value, ".")) {
		v.errorf(f, "%q: an Iceberg namespace is one non-empty name without dots", f.Value)
	}
	v.column(w.ingestionColumn, false)
	if d, good := v.duration(w.lookback); good {
		wf.Lookback = d
		if d > 0 && w.cursor.Value == "" && !w.cursor.Bad {
			v.errorf(w.lookback, "%s needs a cursor: without one every run is a full load", w.lookback.Value)
		}
	}
	if d, good := v.duration(w.settle); good {
		wf.Settle = d
		if d > 0 && w.cursor.Value == "" && !w.cursor.Bad {
			v.errorf(w.settle, "%s needs a cursor: without one every run is a full load", w.settle.Value)
		}
	}
	wf.FreshnessSLA = v.freshnessSLA(w.freshnessSLA)
	wf.Parallel = v.parallel(w.parallel)
	wf.Attempts = v.attempts(w.attempts)
	tzOK := v.timezone(w.timezone)
	wf.Schedule = v.schedule(w.schedule, w.timezone.Value, tzOK, w.awsCron)
	salt := v.doc.defaults.maskSalt
	if c := v.doc.connection(w.connection.Value); c != nil && ok(c.maskSalt) {
		salt = c.maskSalt
	}
	wf.Choices = v.choices(&w.choices, &v.doc.defaults.choices, w.connection.Value, salt)

	if f := w.blueprint; ok(f) && !contains(blueprints, f.Value) {
		v.errorf(f, "%q is not supported: only %s for now", f.Value, quoteList(blueprints))
	}
	if f := w.format; ok(f) && !contains(formats, wf.Format) {
		v.errorf(f, "%q: only parquet is supported for now", f.Value)
	}
	if f := w.fileCount; ok(f) {
		n, err := strconv.Atoi(strings.TrimSpace(f.Value))
		if err != nil || n < 1 {
			v.errorf(f, "%q is not a whole number of at least 1", f.Value)
		}
		wf.FileCountHint = n
	}
	return wf
}

// sameLanding refuses a second workflow landing the same source table
// ("regions" and "public.regions" on PostgreSQL) of the same connection into
// the same lake: every row would land twice.
func (v *validator) sameLanding(seen map[string]*rawWorkflow, w *rawWorkflow, wf *Workflow) {
	if !ok(w.table) || wf.Connection == "" || wf.Lake == "" {
		return
	}
	ref, err := ParseTableRef(wf.Table)
	if err != nil {
		return
	}
	if ref.Schema == "" {
		engine := ""
		if c := v.doc.connection(wf.Connection); c != nil {
			engine = c.engine.Value
		}
		switch engine {
		case "postgres", "": // "" = from the secret; PostgreSQL's default schema
			ref.Schema = "public"
		case "sqlite":
			ref.Schema = "main"
		}
	}
	table := ref.String()
	key := wf.Connection + "\x00" + wf.Lake + "\x00" + table
	if first, dup := seen[key]; dup {
		v.errorf(w.table, "%s is the table workflow %s (line %d) already lands from connection %s into lake %s: its rows would land twice; keep one workflow",
			table, first.name.Value, first.table.Pos.Line, wf.Connection, wf.Lake)
		return
	}
	seen[key] = w
}
