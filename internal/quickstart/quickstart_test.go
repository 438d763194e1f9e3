package quickstart

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"gopkg.in/yaml.v3"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/source/sourcesqlite"
)

// The row counts of the classic HR sample.
var wantTables = []Table{
	{"regions", 4}, {"countries", 25}, {"locations", 23}, {"departments", 27},
	{"jobs", 19}, {"employees", 107}, {"job_history", 10},
}

func TestTables(t *testing.T) {
	if got := Tables(); !reflect.DeepEqual(got, wantTables) {
		t.Errorf("Tables() = %v, want %v", got, wantTables)
	}
}

// fileSums hashes every regular file under dir (and records its mode).
func fileSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sums[rel] = fmt.Sprintf("%v %x", info.Mode(), sha256.Sum256(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func TestCreateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "qs")
	cat, err := Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if cat != filepath.Join(dir, "wharf.yaml") {
		t.Errorf("catalog path %s", cat)
	}
	first := fileSums(t, dir)
	wantFiles := []string{"secrets/hr.json", "source/hr.db", "wharf.yaml"}
	var got []string
	for f := range first {
		got = append(got, filepath.ToSlash(f))
	}
	slices.Sort(got)
	if !slices.Equal(got, wantFiles) {
		t.Errorf("files %v, want %v", got, wantFiles)
	}
	if fi, err := os.Stat(filepath.Join(dir, "lake")); err != nil || !fi.IsDir() {
		t.Errorf("lake directory: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "secrets", "hr.json")); fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", fi.Mode().Perm())
	}

	// A second Create keeps every file as it is, even one the user edited.
	if err := os.WriteFile(cat, []byte("# edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	first = fileSums(t, dir)
	if _, err := Create(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if second := fileSums(t, dir); !reflect.DeepEqual(first, second) {
		t.Errorf("second Create changed files:\n%v\n%v", first, second)
	}
}

func TestCatalogAndSecret(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cat, err := Create(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(cat)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Connections map[string]map[string]string `yaml:"connections"`
		Lakes       map[string]map[string]string `yaml:"lakes"`
		Defaults    map[string]string            `yaml:"defaults"`
		Workflows   []map[string]string          `yaml:"workflows"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("catalog: %v\n%s", err, raw)
	}
	secretPath := filepath.Join(dir, "secrets", "hr.json")
	wantConn := map[string]map[string]string{"hr": {"engine": "sqlite", "secret": "file:" + secretPath}}
	wantLakes := map[string]map[string]string{"local": {"url": "file://" + filepath.Join(dir, "lake")}}
	wantDefaults := map[string]string{"connection": "hr", "lake": "local", "schedule": "on_demand", "cursor": "updated_at"}
	if !reflect.DeepEqual(doc.Connections, wantConn) || !reflect.DeepEqual(doc.Lakes, wantLakes) || !reflect.DeepEqual(doc.Defaults, wantDefaults) {
		t.Errorf("catalog:\n%s", raw)
	}
	var wantWF []map[string]string
	for _, tb := range wantTables {
		wantWF = append(wantWF, map[string]string{"name": "hr_" + tb.Name, "table": tb.Name})
	}
	if !reflect.DeepEqual(doc.Workflows, wantWF) {
		t.Errorf("workflows %v, want %v", doc.Workflows, wantWF)
	}

	var sec map[string]string
	b, err := os.ReadFile(secretPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sec); err != nil || !reflect.DeepEqual(sec, map[string]string{"engine": "sqlite", "dbname": filepath.Join(dir, "source", "hr.db")}) {
		t.Errorf("secret %s: %v", b, err)
	}

	// wharf's catalog loader accepts it as written.
	loaded, err := catalog.Load(cat)
	if err != nil {
		t.Fatalf("catalog.Load: %v", err)
	}
	if len(loaded.Workflows) != len(wantTables) {
		t.Fatalf("catalog.Load: %d workflows", len(loaded.Workflows))
	}
	for i, w := range loaded.Workflows {
		if w.Name != "hr_"+wantTables[i].Name || w.Table != wantTables[i].Name || w.Cursor != "updated_at" ||
			w.Connection != "hr" || w.Lake != "local" || w.Schedule.Kind != catalog.OnDemand {
			t.Errorf("workflow %d: %+v", i, w)
		}
	}
	if c := loaded.Connections["hr"]; c == nil || c.Engine != "sqlite" || c.Secret != "file:"+secretPath {
		t.Errorf("connection hr: %+v", c)
	}

	// The catalog's secret resolves to credentials that open the database.
	creds, err := secret.Resolve(ctx, doc.Connections["hr"]["secret"], "")
	if err != nil {
		t.Fatal(err)
	}
	src, err := sourcesqlite.Open(ctx, creds.DSN().Reveal())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Database() != "hr" {
		t.Errorf("Database() = %q", src.Database())
	}
}

// landAll extracts every table with its updated_at cursor and returns the
// row counts and High watermarks.
func landAll(t *testing.T, src *sourcesqlite.Source, after map[string]*coltype.Watermark) (map[string]int64, map[string]*coltype.Watermark) {
	t.Helper()
	ctx := context.Background()
	rows := map[string]int64{}
	highs := map[string]*coltype.Watermark{}
	for _, tb := range wantTables {
		tbl, err := src.Describe(ctx, source.TableRef{Name: tb.Name})
		if err != nil {
			t.Fatal(err)
		}
		res, err := src.Extract(ctx, source.Request{Table: tbl, Cursor: "updated_at", After: after[tb.Name]},
			func(arrow.RecordBatch) error { return nil })
		if err != nil {
			t.Fatalf("extract %s: %v", tb.Name, err)
		}
		rows[tb.Name] = res.Rows
		highs[tb.Name] = res.High
		if res.High == nil {
			highs[tb.Name] = after[tb.Name]
		}
	}
	return rows, highs
}

func TestSourceReadsEveryTable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Create(ctx, dir); err != nil {
		t.Fatal(err)
	}
	src, err := sourcesqlite.Open(ctx, filepath.Join(dir, "source", "hr.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	emp, err := src.Describe(ctx, source.TableRef{Name: "employees"})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, c := range emp.Columns {
		k := c.Kind.String()
		if c.Kind == coltype.Decimal {
			k += fmt.Sprintf("(%d,%d)", c.Precision, c.Scale)
		}
		if !c.Nullable {
			k += " not null"
		}
		kinds[c.Name] = k
	}
	wantKinds := map[string]string{
		"employee_id": "int64 not null", "first_name": "string", "last_name": "string not null",
		"email": "string not null", "phone_number": "string", "hire_date": "date not null",
		"job_id": "string not null", "salary": "decimal(8,2) not null", "commission_pct": "decimal(2,2)",
		"manager_id": "int64", "department_id": "int64", "updated_at": "timestamp not null",
	}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Errorf("employees columns %v, want %v", kinds, wantKinds)
	}

	rows, highs := landAll(t, src, nil)
	for _, tb := range wantTables {
		if rows[tb.Name] != int64(tb.Rows) || highs[tb.Name] == nil {
			t.Errorf("%s: %d rows, High %v; want %d rows and a High", tb.Name, rows[tb.Name], highs[tb.Name], tb.Rows)
		}
	}

	// Nothing new after a full landing; Touch makes exactly n employees new.
	rows, _ = landAll(t, src, highs)
	for name, n := range rows {
		if n != 0 {
			t.Errorf("%s: %d rows after the high watermark, want 0", name, n)
		}
	}
	if err := Touch(ctx, dir, 5); err != nil {
		t.Fatal(err)
	}
	rows, highs2 := landAll(t, src, highs)
	for _, tb := range wantTables {
		want := int64(0)
		if tb.Name == "employees" {
			want = 5
		}
		if rows[tb.Name] != want {
			t.Errorf("after Touch(5): %s has %d new rows, want %d", tb.Name, rows[tb.Name], want)
		}
	}
	// A second Touch right away still moves past the last watermark.
	if err := Touch(ctx, dir, 3); err != nil {
		t.Fatal(err)
	}
	if rows, _ := landAll(t, src, highs2); rows["employees"] != 3 {
		t.Errorf("after Touch(3): %d new employees rows, want 3", rows["employees"])
	}
	if err := Touch(ctx, t.TempDir(), 1); err == nil || !strings.Contains(err.Error(), "hr.db does not exist") {
		t.Errorf("Touch without a database: %v", err)
	}
}

// The data is the same on every run: two directories get the same rows.
func TestDataIsDeterministic(t *testing.T) {
	a, b := hrData(), hrData()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("hrData differs between calls")
	}
	emails := map[any]bool{}
	for _, row := range a[5].rows {
		if emails[row[3]] {
			t.Errorf("duplicate email %v", row[3])
		}
		emails[row[3]] = true
	}
}
