package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/source/sourcepostgres/pgzoo"
	"github.com/wharf-data/wharf/internal/source/sourcetest"
	"github.com/wharf-data/wharf/internal/testdb"
	"github.com/wharf-data/wharf/internal/testdb/duckread"
)

// writeCatalog writes a wharf catalog with one postgres connection "db"
// (secret env:DB_URL, extra connection settings in connExtra) and one file
// lake, then workflows.
func writeCatalog(t *testing.T, dir, lakeDir, connExtra, workflows string) string {
	t.Helper()
	cat := fmt.Sprintf("connections:\n  db: {engine: postgres, secret: env:DB_URL%s}\nlakes:\n  raw: {url: \"file://%s\"}\nworkflows:\n%s", connExtra, lakeDir, workflows)
	path := filepath.Join(dir, "wharf.yaml")
	if err := os.WriteFile(path, []byte(cat), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestEveryPostgresTypeReadsBackInDuckDB lands PostgreSQL's type zoo with the
// built binary and reads every value back with DuckDB, comparing it with
// PostgreSQL's own answer for the value.
func TestEveryPostgresTypeReadsBackInDuckDB(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	ctx := context.Background()
	if err := pgzoo.Prepare(ctx, testdb.Postgres(t)); err != nil {
		t.Fatal(err)
	}
	if err := pgzoo.Create(ctx, conn, "zoo"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	catPath := writeCatalog(t, dir, lakeDir, "", fmt.Sprintf("  - {name: zoo, table: %s.zoo}\n", schema))
	mustWharf(t, dir, []string{"DB_URL=" + testdb.PostgresURL()}, "run", "-c", catPath, "--state", "sqlite:"+filepath.Join(dir, "state.db"), "zoo")

	duck := duckread.Open(t)
	glob := filepath.Join(lakeDir, "**", "*.parquet")
	for _, c := range pgzoo.Columns {
		got := duckread.Strings(t, duck, fmt.Sprintf(`SELECT to_json(%q)::VARCHAR FROM read_parquet('%s') ORDER BY id`, c.Name, glob))
		want, err := pgzoo.QueryJSON(ctx, conn, "SELECT "+fmt.Sprintf(c.Expect, `"`+c.Name+`"`)+" FROM zoo ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != pgzoo.Rows || len(want) != pgzoo.Rows {
			t.Fatalf("column %s: DuckDB read %d rows, PostgreSQL %d, want %d", c.Name, len(got), len(want), pgzoo.Rows)
		}
		for r := range pgzoo.Rows {
			g, w := comparable(t, got[r][0]), comparable(t, want[r])
			if !reflect.DeepEqual(g, w) {
				t.Errorf("column %s (%s) row %d: DuckDB reads %s, PostgreSQL says %s", c.Name, c.DDL, r+1, shorten(got[r][0]), shorten(want[r]))
			}
		}
	}
}

func shorten(s *string) string {
	if s == nil {
		return "NULL"
	}
	if len(*s) > 200 {
		return (*s)[:200] + "…"
	}
	return *s
}

var timestampText = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}(:\d{2})?|Z)?$`)

// comparable parses JSON text (nil = NULL; JSON null is NULL too, which is
// how DuckDB's to_json renders a NULL) into sourcetest's comparable form,
// with timestamps in one spelling (DuckDB writes "2024-01-01 00:00:00+00",
// PostgreSQL "2024-01-01T00:00:00+00:00").
func comparable(t *testing.T, s *string) any {
	if s == nil {
		return nil
	}
	v, err := sourcetest.ParseJSON(*s)
	if err != nil {
		t.Fatalf("invalid JSON %q: %v", *s, err)
	}
	var fix func(any) any
	fix = func(v any) any {
		switch x := v.(type) {
		case string:
			if timestampText.MatchString(x) {
				for _, layout := range []string{"2006-01-02 15:04:05.999999-07", "2006-01-02T15:04:05.999999-07:00", "2006-01-02T15:04:05.999999", "2006-01-02 15:04:05.999999"} {
					if ts, err := time.Parse(layout, x); err == nil {
						return ts.UTC().Format(time.RFC3339Nano)
					}
				}
			}
		case []any:
			for i := range x {
				x[i] = fix(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = fix(x[k])
			}
		}
		return v
	}
	return fix(v)
}

// TestColumnChoices lands a table with columns left out, cast and masked,
// reads it back with DuckDB, and checks that no raw masked value reached
// the lake; plan names a misspelt column.
func TestColumnChoices(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE people (id int PRIMARY KEY, email text, phone text, notes text, ssn text, n numeric, grid int[][])`)
	sqlExec(t, conn, `INSERT INTO people VALUES
		(1, 'ann@example.com', '+33 1 23 45', 'allergic to nuts', '123-45-6789', 1.123456789012, '{{1,2},{3,4}}'),
		(2, NULL, NULL, NULL, '987-65-4321', NULL, '{5}')`)
	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	env := []string{"DB_URL=" + testdb.PostgresURL(), "SALT=pepper-7f3a"}
	state := "sqlite:" + filepath.Join(dir, "state.db")
	catPath := writeCatalog(t, dir, lakeDir, ", mask_salt: env:SALT", fmt.Sprintf(`  - name: people
    table: %s.people
    exclude_columns: [ssn]
    cast: {n: string, grid: json}
    mask: {email: sha256, phone: redact, notes: "null"}
`, schema))
	r := mustWharf(t, dir, env, "run", "-c", catPath, "--state", state, "people")
	if strings.Contains(r.stdout+r.stderr, "ann@example.com") || strings.Contains(r.stdout+r.stderr, "pepper-7f3a") {
		t.Errorf("a masked value or the salt reached wharf's output:\n%s", r)
	}
	duck := duckread.Open(t)
	rows := duckread.Strings(t, duck, fmt.Sprintf(`SELECT string_agg(column_name, ',' ORDER BY column_index) FROM (SELECT column_name, row_number() OVER () AS column_index FROM (DESCRIBE SELECT * FROM read_parquet('%s', hive_partitioning = false)))`, filepath.Join(lakeDir, "**", "*.parquet")))
	if got := *rows[0][0]; got != "id,email,phone,notes,n,grid,ingestion_timestamp" {
		t.Errorf("landed columns %s, want id,email,phone,notes,n,grid,ingestion_timestamp", got)
	}
	rows = duckread.Strings(t, duck, fmt.Sprintf(`SELECT id::VARCHAR, email, phone, notes, n, grid::VARCHAR FROM read_parquet('%s') ORDER BY id`, filepath.Join(lakeDir, "**", "*.parquet")))
	sum := sha256.Sum256([]byte("pepper-7f3aann@example.com"))
	want := [][]string{
		{"1", hex.EncodeToString(sum[:]), "***", "NULL", "1.123456789012", "[[1,2],[3,4]]"},
		{"2", "NULL", "NULL", "NULL", "NULL", "[5]"},
	}
	for i, row := range rows {
		for j, v := range row {
			if s := shorten(v); i < len(want) && s != want[i][j] {
				t.Errorf("row %d column %d: %s, want %s", i+1, j, s, want[i][j])
			}
		}
	}
	for _, f := range allFiles(t, lakeDir) {
		b, err := os.ReadFile(filepath.Join(lakeDir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range []string{"ann@example.com", "+33 1 23 45", "allergic", "123-45-6789"} {
			if strings.Contains(string(b), raw) {
				t.Errorf("%s holds the raw value %q", f, raw)
			}
		}
	}

	// A misspelt column fails plan, naming workflow, setting, table and column.
	catPath = writeCatalog(t, dir, lakeDir, ", mask_salt: env:SALT", fmt.Sprintf(`  - name: people
    table: %s.people
    mask: {emial: sha256}
`, schema))
	r = wharf(t, dir, env, "plan", "-c", catPath, "--state", state)
	wantErr := fmt.Sprintf(`workflow people: mask: table %s.people has no column "emial" (did you mean "email"?)`, schema)
	if r.code != 1 || !strings.Contains(r.stderr, wantErr) {
		t.Errorf("plan with a misspelt column: want exit 1 and %q:\n%s", wantErr, r)
	}
}
